// expect.noStartWhilePaused (SPEC 10): no operation of an orchestration starts (operation.start)
// between its "paused" state event (a budget pause or an operator's) and its next state event
// (resume: in progress; cancel: canceling). Watches the engine's events; a restart keeps the state
// (the recovered orchestration says it is paused: orchestration.recovered).
#include <unordered_map>

#include "common.h"
#include "keb/world/random.h"
#include "keb/timefmt.h"

namespace keb::sim::checkers {
namespace {

class NoStartWhilePaused : public Checker {
public:
    void onEvent(Simulation& sim, const EngineEvent& e) override {
        (void)sim;
        const std::string_view k = e.kind;
        if (k == "operation.start") {
            auto it = paused_.find(world::hashWords(e.orchestrationID));
            if (it == paused_.end() || !it->second) return;
            ++violations_;
            if (samples_.size() < Simulation::kMaxSamples)
                samples_.push_back("operation " + std::string(e.operationID) + " of paused orchestration " +
                                   std::string(e.orchestrationID) + " started " + formatRfc3339(e.at));
            return;
        }
        if (k != "orchestration.state" && k != "orchestration.recovered") return;
        const bool paused = e.state == std::string_view("paused");
        bool& was = paused_[world::hashWords(e.orchestrationID)];
        if (paused && !was) ++pauses_;
        was = paused;
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        (void)sim;
        out.push_back({"noStartWhilePaused", violations_ == 0,
                       std::to_string(pauses_) + " pause(s) seen, " + std::to_string(violations_) +
                           " start(s) while paused" + sampleText(samples_, violations_)});
    }

private:
    std::unordered_map<std::uint64_t, bool> paused_;  // hashWords(orchestrationID) -> paused now
    std::int64_t pauses_ = 0, violations_ = 0;
    std::vector<std::string> samples_;
};

}  // namespace

extern const CheckerSpec kNoStartWhilePaused{
    .name = "noStartWhilePaused",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.noStartWhilePaused = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<NoStartWhilePaused>(sc.expect.noStartWhilePaused); },
    .watchesEvents = true,
};

}  // namespace keb::sim::checkers
