// expect.noRuntimeUpgradedTwice: per orchestration and runtime, a new upgrade starts only after the
// previous one failed (checked here over the store and the backend's record of real upgrades), and
// never two upgrades of one runtime at once (counted by the driver: concurrentUpgrades).
#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "common.h"
#include "keb/world/random.h"

namespace keb::sim::checkers {
namespace {

class NoRuntimeUpgradedTwice : public Checker {
public:
    void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) override {
        (void)info;
        if (sim.backend().started(op.operationID))
            started_.push_back({world::hashWords(op.runtimeID), op.startedAt, op.seq, op.state, world::hashWords(op.operationID)});
    }

    void scanDone(Simulation& sim, const OrchestrationInfo& info) override {
        std::sort(started_.begin(), started_.end());
        std::unordered_set<std::uint64_t> repeatedAfter;  // operations after which the runtime was upgraded again
        for (std::size_t i = 0; i + 1 < started_.size(); ++i)
            if (started_[i].runtime == started_[i + 1].runtime && started_[i].state != OperationState::Failed) {
                ++repeated_;
                repeatedAfter.insert(started_[i].op);
            }
        started_.clear();
        if (!repeatedAfter.empty())  // second pass only to name them
            sim.store().forEachOperation(info.orchestrationID, [&](const Operation& op) {
                if (samples_.size() < Simulation::kMaxSamples && repeatedAfter.count(world::hashWords(op.operationID)))
                    samples_.push_back("runtime " + op.runtimeID + " upgraded again after operation " +
                                       op.operationID + " ended " + toString(op.state));
            });
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::vector<std::string> samples = sim.violationSamples();
        for (auto& s : samples_)
            if (samples.size() < Simulation::kMaxSamples) samples.push_back(std::move(s));
        const std::int64_t n = repeated_ + sim.concurrentUpgrades();
        out.push_back({"noRuntimeUpgradedTwice", n == 0,
                       std::to_string(sim.backend().upgrades()) + " upgrades, " + std::to_string(repeated_) +
                           " repeated, " + std::to_string(sim.concurrentUpgrades()) + " concurrent, " +
                           std::to_string(sim.backend().duplicateStarts()) + " repeated start call(s) recognised" +
                           sampleText(samples, n)});
        repeated_ = 0;  // the next verdict scans again
        samples_.clear();
    }

private:
    // (runtime, start time, state, operation) of every upgrade the backend really started, of the
    // orchestration being scanned.
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
    std::vector<Started> started_;
    std::int64_t repeated_ = 0;
    std::vector<std::string> samples_;
};

}  // namespace

extern const CheckerSpec kNoRuntimeUpgradedTwice{
    .name = "noRuntimeUpgradedTwice",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.noRuntimeUpgradedTwice = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<NoRuntimeUpgradedTwice>(sc.expect.noRuntimeUpgradedTwice); },
    .scansOperations = true,
};

}  // namespace keb::sim::checkers
