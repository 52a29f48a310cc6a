// expect.stagesInOrder (SPEC 10): no operation of a later stage started before every operation of
// an earlier stage had ended plus that stage's soak. Over the store at the end: each staged
// operation's stage name, start (startedAt) and end (updatedAt of a final state); retried
// operations are not staged and not checked. A stage with an unfinished operation has not ended:
// any start of a later stage is a violation then.
#include <algorithm>
#include <climits>

#include "common.h"
#include "keb/timefmt.h"

namespace keb::sim::checkers {
namespace {

class StagesInOrder : public Checker {
public:
    void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) override {
        (void)sim;
        if (info.stages.empty() || op.stage.empty()) return;
        if (stages_.size() != info.stages.size()) stages_.assign(info.stages.size(), StageSeen{});
        std::size_t k = 0;
        while (k < info.stages.size() && info.stages[k].name != op.stage) ++k;
        if (k == info.stages.size()) {  // a stage name the request does not have
            ++violations_;
            sample("operation " + op.operationID + " has stage \"" + op.stage + "\", which orchestration " +
                   info.orchestrationID + " does not define");
            return;
        }
        StageSeen& s = stages_[k];
        ++s.operations;
        if (op.startedAt != 0 && op.startedAt < s.firstStart) {
            s.firstStart = op.startedAt;
            s.firstStarter = op.operationID;
        }
        if (!isFinished(op.state)) ++s.unfinished;
        else if (op.updatedAt > s.lastEnd) {
            s.lastEnd = op.updatedAt;
            s.lastEnder = op.operationID;
        }
    }

    void scanDone(Simulation& sim, const OrchestrationInfo& info) override {
        (void)sim;
        if (info.stages.empty() || stages_.empty()) {
            stages_.clear();
            return;
        }
        ++orchestrations_;
        for (std::size_t j = 1; j < stages_.size(); ++j) {
            const StageSeen& later = stages_[j];
            if (later.firstStart == LLONG_MAX) continue;  // nothing of it started
            for (std::size_t k = 0; k < j; ++k) {
                const StageSeen& earlier = stages_[k];
                if (earlier.operations == 0) continue;  // an empty stage ends at once, without soak
                ++boundaries_;
                const Stage& st = info.stages[k];
                if (earlier.unfinished == 0 && later.firstStart >= earlier.lastEnd + st.soak) continue;
                ++violations_;
                sample("orchestration " + info.orchestrationID + ": operation " + later.firstStarter + " of stage \"" +
                       info.stages[j].name + "\" started " + formatRfc3339(later.firstStart) + ", before stage \"" +
                       st.name + "\" " +
                       (earlier.unfinished > 0
                            ? "ended (" + std::to_string(earlier.unfinished) + " operation(s) unfinished)"
                            : "ended " + formatRfc3339(earlier.lastEnd) + " (operation " + earlier.lastEnder +
                                  ") plus its soak " + formatDuration(st.soak)));
            }
        }
        stages_.clear();
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        (void)sim;
        out.push_back({"stagesInOrder", violations_ == 0,
                       std::to_string(orchestrations_) + " staged orchestration(s), " + std::to_string(boundaries_) +
                           " stage boundary(ies) checked, " + std::to_string(violations_) + " violation(s)" +
                           sampleText(samples_, violations_)});
        violations_ = boundaries_ = orchestrations_ = 0;  // the next verdict scans again
        samples_.clear();
    }

private:
    struct StageSeen {
        std::int64_t operations = 0, unfinished = 0;
        Millis firstStart = LLONG_MAX, lastEnd = 0;
        std::string firstStarter, lastEnder;
    };
    void sample(std::string s) {
        if (samples_.size() < Simulation::kMaxSamples) samples_.push_back(std::move(s));
    }
    std::vector<StageSeen> stages_;  // of the orchestration being scanned
    std::int64_t violations_ = 0, boundaries_ = 0, orchestrations_ = 0;
    std::vector<std::string> samples_;
};

}  // namespace

extern const CheckerSpec kStagesInOrder{
    .name = "stagesInOrder",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.stagesInOrder = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<StagesInOrder>(sc.expect.stagesInOrder); },
    .scansOperations = true,
};

}  // namespace keb::sim::checkers
