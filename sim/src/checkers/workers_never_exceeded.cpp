// expect.workersNeverExceeded: an orchestration never had more operations in progress than its
// `workers` (counted by the driver at every operation.start). A staged one (SPEC 10): than the
// workers of the stage the engine is at (Simulation::observeStage follows its stage events).
#include "common.h"

namespace keb::sim::checkers {
namespace {

class WorkersNeverExceeded : public Checker {
public:
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::string peaks;
        for (const auto& info : sim.orchestrations()) {
            peaks += (peaks.empty() ? "" : ", ") + std::to_string(info.peakRunning) + "/";
            if (info.stages.empty()) {
                peaks += std::to_string(info.workers);
                continue;
            }
            std::string limits;  // "stages 1,5,20"
            for (const Stage& st : info.stages)
                limits += (limits.empty() ? "stages " : ",") + std::to_string(st.workers.value_or(info.workers));
            peaks += limits;
        }
        const std::int64_t n = sim.workerViolations();
        out.push_back({"workersNeverExceeded", n == 0,
                       std::to_string(n) + " violation(s); peak/workers per orchestration: " + peaks +
                           sampleText(sim.violationSamples(), n)});
    }
};

}  // namespace

extern const CheckerSpec kWorkersNeverExceeded{
    .name = "workersNeverExceeded",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.workersNeverExceeded = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<WorkersNeverExceeded>(sc.expect.workersNeverExceeded); },
};

}  // namespace keb::sim::checkers
