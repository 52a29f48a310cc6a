// Shared by the checkers in this folder (not a public header).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "keb/sim/checker.h"
#include "keb/sim/scenario_node.h"
#include "keb/sim/simulation.h"

namespace keb::sim::checkers {

// "; sample; sample" when n > 0 (the evidence appended to a failed check's detail).
inline std::string sampleText(const std::vector<std::string>& samples, std::int64_t n) {
    if (n == 0) return std::string();
    std::string s;
    for (const auto& v : samples) s += "; " + v;
    return s;
}

// A checker for an "expect" flag that is checked only when true.
template <class C>
std::unique_ptr<Checker> makeIf(const std::optional<bool>& flag) {
    return flag && *flag ? std::make_unique<C>() : nullptr;
}

// A checker whose verdict is one function of the simulation (no watching).
class Verdict : public Checker {
public:
    using Fn = void (*)(Simulation&, std::vector<CheckResult>&);
    explicit Verdict(Fn fn) : fn_(fn) {}
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override { fn_(sim, out); }

private:
    Fn fn_;
};

}  // namespace keb::sim::checkers
