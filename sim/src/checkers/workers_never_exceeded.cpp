// expect.workersNeverExceeded: an orchestration never had more operations in progress than its
// `workers` (counted by the driver at every operation.start).
#include "common.h"

namespace keb::sim::checkers {
namespace {

class WorkersNeverExceeded : public Checker {
public:
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::string peaks;
        for (const auto& info : sim.orchestrations())
            peaks += (peaks.empty() ? "" : ", ") + std::to_string(info.peakRunning) + "/" + std::to_string(info.workers);
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
