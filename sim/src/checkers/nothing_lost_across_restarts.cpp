// expect.nothingLostAcrossRestarts: at least one restart happened (the timeline's, or one after a
// fatal store failure); every operation that existed at a restart still exists, final states never
// changed, everything unfinished at a restart finished later, every accepted orchestration finished.
// Watches restarts: the operations' states are taken from the store at each one.
#include <algorithm>
#include <utility>

#include "common.h"
#include "keb/world/flat_map.h"
#include "keb/world/random.h"

namespace keb::sim::checkers {
namespace {

class NothingLostAcrossRestarts : public Checker {
public:
    void onRestart(Simulation& sim) override {
        std::vector<std::pair<std::uint64_t, OperationState>> snap;
        std::size_t total = 16;
        for (const auto& info : sim.orchestrations())
            for (const auto& [state, n] : sim.store().operationStats(info.orchestrationID))
                total += static_cast<std::size_t>(n);
        snap.reserve(total);
        for (const auto& info : sim.orchestrations())
            sim.store().forEachOperationBrief(info.orchestrationID, [&](const Store::OperationBrief& op) {
                snap.emplace_back(world::hashWords(op.operationID), op.state);
            });
        std::sort(snap.begin(), snap.end());
        // Since the previous restart nothing may have vanished and no final state may have changed.
        // Both lists are sorted: one merge walk finds what lower_bound would for each entry (the
        // probes (h, Pending) never decrease along atRestart_).
        auto it = snap.begin();
        for (const auto& [h, st] : atRestart_) {
            const std::pair<std::uint64_t, OperationState> probe{h, OperationState::Pending};
            while (it != snap.end() && *it < probe) ++it;
            if (it == snap.end() || it->first != h) {
                ++lost_;
            } else if (isFinished(st) && it->second != st) {
                ++lost_;
            }
        }
        atRestart_ = std::move(snap);
    }

    void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) override {
        (void)sim;
        (void)info;
        current_[world::hashWords(op.operationID)] = op.state;
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::int64_t lost = lost_, stuck = 0;
        for (const auto& [h, st] : atRestart_) {
            const OperationState* now = current_.find(h);
            if (!now || (isFinished(st) && *now != st)) ++lost;
            else if (!isFinished(*now)) ++stuck;
        }
        std::int64_t orchLost = 0;
        for (const auto& info : sim.orchestrations()) {
            auto o = sim.store().getOrchestration(info.orchestrationID);
            if (!o || !isFinished(o->state)) ++orchLost;
        }
        const int restarts = sim.restarts();
        out.push_back({"nothingLostAcrossRestarts", restarts > 0 && lost == 0 && stuck == 0 && orchLost == 0,
                       std::to_string(restarts) + " restart(s); " + std::to_string(lost) +
                           " operation(s) lost or changed after finishing, " + std::to_string(stuck) +
                           " never finished, " + std::to_string(orchLost) + " orchestration(s) unfinished"});
        current_ = world::FlatMap<OperationState>();  // the next verdict scans again
    }

private:
    // Operation states at the last restart: hashWords(operationID) -> state, sorted.
    std::vector<std::pair<std::uint64_t, OperationState>> atRestart_;
    std::int64_t lost_ = 0;  // found missing or changed at a later restart
    world::FlatMap<OperationState> current_;  // the end's scan: hashWords(operationID) -> state
};

}  // namespace

extern const CheckerSpec kNothingLostAcrossRestarts{
    .name = "nothingLostAcrossRestarts",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.nothingLostAcrossRestarts = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<NothingLostAcrossRestarts>(sc.expect.nothingLostAcrossRestarts); },
    .scansOperations = true,
};

}  // namespace keb::sim::checkers
