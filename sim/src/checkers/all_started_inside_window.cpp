// expect.allStartedInsideWindow: every upgrade of a window-scheduled orchestration (not retried
// with immediate) started inside its runtime's effective window at that moment (the driver checks
// each start: Simulation::windowViolations) and inside its recorded window (checked here, over the
// store at the end).
#include "common.h"
#include "keb/timefmt.h"

namespace keb::sim::checkers {
namespace {

class AllStartedInsideWindow : public Checker {
public:
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::vector<std::string> samples = sim.violationSamples();
        std::int64_t recorded = 0;
        for (const auto& info : sim.orchestrations()) {
            if (!info.usesWindows) continue;
            sim.store().forEachOperation(info.orchestrationID, [&](const Operation& op) {
                if (op.immediate || op.startedAt == 0 ||
                    (op.maintenanceWindowBegin <= op.startedAt && op.startedAt < op.maintenanceWindowEnd))
                    return;
                ++recorded;
                if (samples.size() < Simulation::kMaxSamples)
                    samples.push_back("operation " + op.operationID + " started " + formatRfc3339(op.startedAt) +
                                      " outside its recorded window");
            });
        }
        const std::int64_t n = sim.windowViolations() + recorded;
        out.push_back({"allStartedInsideWindow", n == 0,
                       std::to_string(n) + " start(s) outside a window" + sampleText(samples, n)});
    }
};

}  // namespace

extern const CheckerSpec kAllStartedInsideWindow{
    "allStartedInsideWindow",
    [](const ScenarioNode& n, Scenario& sc) { sc.expect.allStartedInsideWindow = n.boolean(); },
    [](const Scenario& sc) { return makeIf<AllStartedInsideWindow>(sc.expect.allStartedInsideWindow); },
};

}  // namespace keb::sim::checkers
