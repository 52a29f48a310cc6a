// expect.orchestrations: the state and operation counts of given submitted orchestrations. The
// same comparison serves the timeline's "check" event (checkOrchestration).
#include "common.h"

namespace keb::sim {

void checkOrchestration(Simulation& sim, const OrchestrationExpect& e, const std::string& prefix,
                        std::vector<CheckResult>& out) {
    const std::string id = sim.submitted(e.index);
    if (id.empty()) {
        out.push_back({prefix, false, "submit #" + std::to_string(e.index) + " was not accepted (or not yet sent)"});
        return;
    }
    auto o = sim.store().getOrchestration(id);
    if (!o) {
        out.push_back({prefix, false, "orchestration " + id + " is not in the store"});
        return;
    }
    if (e.state)
        out.push_back({prefix + ".state", o->state == *e.state,
                       std::string("expected ") + toString(*e.state) + ", got " + toString(o->state) +
                           (o->description.empty() ? "" : " (" + o->description + ")")});
    if (e.description)
        out.push_back({prefix + ".description", o->description.find(*e.description) != std::string::npos,
                       "expected a description containing \"" + *e.description + "\", got \"" + o->description + "\""});
    const OperationStats stats = sim.store().operationStats(id);
    std::int64_t total = 0;
    for (const auto& [s, n] : stats) total += n;
    for (const auto& [s, want] : e.operations) {
        auto it = stats.find(s);
        const std::int64_t got = it == stats.end() ? 0 : it->second;
        out.push_back({prefix + ".operations." + toString(s), want.holds(got),
                       "expected " + want.describe() + ", got " + std::to_string(got)});
    }
    if (e.totalOperations)
        out.push_back({prefix + ".totalOperations", e.totalOperations->holds(total),
                       "expected " + e.totalOperations->describe() + ", got " + std::to_string(total)});
}

namespace checkers {

extern const CheckerSpec kOrchestrations{
    .name = "orchestrations",
    .parse = [](const ScenarioNode& n, Scenario& sc) {
        n.requireArray();
        for (std::size_t i = 0; i < n.size(); ++i) {
            ScenarioNode o = n.at(i);
            o.onlyKeys({"index", "state", "description", "operations", "totalOperations"});
            sc.expect.orchestrations.push_back(parseOrchExpect(o, static_cast<int>(i), sc.submitCount, true));
        }
    },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (sc.expect.orchestrations.empty()) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const auto& list = sim.scenario().expect.orchestrations;
            for (std::size_t i = 0; i < list.size(); ++i)
                checkOrchestration(sim, list[i], "orchestrations[" + std::to_string(i) + "]", out);
        });
    },
};

}  // namespace checkers
}  // namespace keb::sim
