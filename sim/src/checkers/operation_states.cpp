// expect.operationStates: state -> count over the operations of every orchestration.
#include <map>

#include "common.h"

namespace keb::sim::checkers {

extern const CheckerSpec kOperationStates{
    .name = "operationStates",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.operationStates = parseStateCounts(n); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (sc.expect.operationStates.empty()) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            std::map<OperationState, std::int64_t> totals;
            for (const auto& info : sim.orchestrations())
                for (const auto& [s, n] : sim.store().operationStats(info.orchestrationID)) totals[s] += n;
            for (const auto& [s, want] : sim.scenario().expect.operationStates)
                out.push_back({std::string("operationStates.") + toString(s), want.holds(totals[s]),
                               "expected " + want.describe() + ", got " + std::to_string(totals[s])});
        });
    },
};

}  // namespace keb::sim::checkers
