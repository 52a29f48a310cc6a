// expect.allFinished (every orchestration reached a final state) and expect.finishBefore (and did
// so before this time).
#include <algorithm>

#include "common.h"
#include "keb/timefmt.h"

namespace keb::sim::checkers {
namespace {

struct Finishing {
    std::int64_t unfinished = 0, late = 0;
    Millis last = 0;
};

Finishing finishing(Simulation& sim, std::optional<Millis> before) {
    Finishing f;
    for (const auto& info : sim.orchestrations()) {
        auto o = sim.store().getOrchestration(info.orchestrationID);
        if (!o || !isFinished(o->state)) {
            ++f.unfinished;
            continue;
        }
        f.last = std::max(f.last, o->updatedAt);
        if (before && o->updatedAt >= *before) ++f.late;
    }
    return f;
}

}  // namespace

extern const CheckerSpec kAllFinished{
    .name = "allFinished",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.allFinished = n.boolean(); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.allFinished || !*sc.expect.allFinished) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const Finishing f = finishing(sim, std::nullopt);
            out.push_back({"allFinished", f.unfinished == 0, std::to_string(f.unfinished) + " orchestration(s) unfinished"});
        });
    },
};

extern const CheckerSpec kFinishBefore{
    .name = "finishBefore",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.finishBefore = n.time(sc.start); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        if (!sc.expect.finishBefore) return nullptr;
        return std::make_unique<Verdict>([](Simulation& sim, std::vector<CheckResult>& out) {
            const Millis limit = *sim.scenario().expect.finishBefore;
            const Finishing f = finishing(sim, limit);
            out.push_back({"finishBefore", f.unfinished == 0 && f.late == 0,
                           "limit " + formatRfc3339(limit) + ", last finished " +
                               (f.last ? formatRfc3339(f.last) : std::string("never")) + ", " +
                               std::to_string(f.unfinished) + " unfinished"});
        });
    },
};

}  // namespace keb::sim::checkers
