// expect.noRuntimeUpgradedTwice: per orchestration and runtime, a new upgrade starts only after the
// previous one failed (checked here over the store and the backend's record of real upgrades), and
// never two upgrades of one runtime at once (counted by the driver: concurrentUpgrades).
#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "common.h"
#include "keb/sim/random.h"

namespace keb::sim::checkers {
namespace {

class NoRuntimeUpgradedTwice : public Checker {
public:
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::vector<std::string> samples = sim.violationSamples();
        std::int64_t repeated = 0;
        for (const auto& info : sim.orchestrations()) {
            // (runtime, start time, state, operation) of every upgrade the backend really started.
            struct Started {
                std::uint64_t runtime;
                Millis startedAt;
                std::int64_t seq;
                OperationState state;
                std::uint64_t op;
                bool operator<(const Started& o) const {
                    return std::tie(runtime, startedAt, seq) < std::tie(o.runtime, o.startedAt, o.seq);
                }
            };
            std::vector<Started> started;
            sim.store().forEachOperation(info.orchestrationID, [&](const Operation& op) {
                if (sim.backend().started(op.operationID))
                    started.push_back({hashWords(op.runtimeID), op.startedAt, op.seq, op.state, hashWords(op.operationID)});
            });
            std::sort(started.begin(), started.end());
            std::unordered_set<std::uint64_t> repeatedAfter;  // operations after which the runtime was upgraded again
            for (std::size_t i = 0; i + 1 < started.size(); ++i)
                if (started[i].runtime == started[i + 1].runtime && started[i].state != OperationState::Failed) {
                    ++repeated;
                    repeatedAfter.insert(started[i].op);
                }
            if (!repeatedAfter.empty())  // second pass only to name them
                sim.store().forEachOperation(info.orchestrationID, [&](const Operation& op) {
                    if (samples.size() < Simulation::kMaxSamples && repeatedAfter.count(hashWords(op.operationID)))
                        samples.push_back("runtime " + op.runtimeID + " upgraded again after operation " +
                                          op.operationID + " ended " + toString(op.state));
                });
        }
        const std::int64_t n = repeated + sim.concurrentUpgrades();
        out.push_back({"noRuntimeUpgradedTwice", n == 0,
                       std::to_string(sim.backend().upgrades()) + " upgrades, " + std::to_string(repeated) +
                           " repeated, " + std::to_string(sim.concurrentUpgrades()) + " concurrent, " +
                           std::to_string(sim.backend().duplicateStarts()) + " repeated start call(s) recognised" +
                           sampleText(samples, n)});
    }
};

}  // namespace

extern const CheckerSpec kNoRuntimeUpgradedTwice{
    "noRuntimeUpgradedTwice",
    [](const ScenarioNode& n, Scenario& sc) { sc.expect.noRuntimeUpgradedTwice = n.boolean(); },
    [](const Scenario& sc) { return makeIf<NoRuntimeUpgradedTwice>(sc.expect.noRuntimeUpgradedTwice); },
};

}  // namespace keb::sim::checkers
