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
    void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) override {
        (void)sim;
        if (!info.usesWindows || op.immediate || op.startedAt == 0 ||
            (op.maintenanceWindowBegin <= op.startedAt && op.startedAt < op.maintenanceWindowEnd))
            return;
        ++recorded_;
        if (samples_.size() < Simulation::kMaxSamples)
            samples_.push_back("operation " + op.operationID + " started " + formatRfc3339(op.startedAt) +
                               " outside its recorded window");
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::vector<std::string> samples = sim.violationSamples();
        for (auto& s : samples_)
            if (samples.size() < Simulation::kMaxSamples) samples.push_back(std::move(s));
        const std::int64_t n = sim.windowViolations() + recorded_;
        out.push_back({"allStartedInsideWindow", n == 0,
                       std::to_string(n) + " start(s) outside a window" + sampleText(samples, n)});
        recorded_ = 0;  // the next verdict scans again
        samples_.clear();
    }

private:
    std::int64_t recorded_ = 0;  // operations whose recorded start is outside their recorded window
    std::vector<std::string> samples_;
};

}  // namespace

extern const CheckerSpec kAllStartedInsideWindow{
    .name = "allStartedInsideWindow",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.allStartedInsideWindow = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<AllStartedInsideWindow>(sc.expect.allStartedInsideWindow); },
    .scansOperations = true,
};

}  // namespace keb::sim::checkers
