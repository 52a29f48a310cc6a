// expect.upgrades (real upgrades the backend started) and expect.resolveErrors (failed shoot
// listings the engine saw): counts.
#include "common.h"

namespace keb::sim::checkers {

extern const CheckerSpec kUpgrades{
    .name = "upgrades",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.upgrades = parseCount(n); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.upgrades) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const CountExpect& want = *sim.scenario().expect.upgrades;
            const auto got = static_cast<std::int64_t>(sim.backend().upgrades());
            out.push_back({"upgrades", want.holds(got), "expected " + want.describe() + ", got " + std::to_string(got)});
        });
    },
};

extern const CheckerSpec kResolveErrors{
    .name = "resolveErrors",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.resolveErrors = parseCount(n); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.resolveErrors) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const CountExpect& want = *sim.scenario().expect.resolveErrors;
            out.push_back({"resolveErrors", want.holds(sim.resolveErrors()),
                           "expected " + want.describe() + ", got " + std::to_string(sim.resolveErrors())});
        });
    },
};

}  // namespace keb::sim::checkers
