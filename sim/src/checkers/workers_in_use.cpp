// expect.maxWorkersInUse (a limit) and expect.peakWorkersInUse (a count): the most operations in
// progress at once over all orchestrations.
#include "common.h"

namespace keb::sim::checkers {

extern const CheckerSpec kMaxWorkersInUse{
    .name = "maxWorkersInUse",
    .parse = [](const ScenarioNode& n, Scenario& sc) {
        sc.expect.maxWorkersInUse = static_cast<int>(n.integer(0, 100000000));
    },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.maxWorkersInUse) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const int limit = *sim.scenario().expect.maxWorkersInUse, peak = sim.peakWorkersInUse();
            out.push_back({"maxWorkersInUse", peak <= limit,
                           "peak " + std::to_string(peak) + ", limit " + std::to_string(limit)});
        });
    },
};

extern const CheckerSpec kPeakWorkersInUse{
    .name = "peakWorkersInUse",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.peakWorkersInUse = parseCount(n); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.peakWorkersInUse) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const CountExpect& want = *sim.scenario().expect.peakWorkersInUse;
            out.push_back({"peakWorkersInUse", want.holds(sim.peakWorkersInUse()),
                           "expected " + want.describe() + ", got " + std::to_string(sim.peakWorkersInUse())});
        });
    },
};

}  // namespace keb::sim::checkers
