// Deliberately wrong checkers, known only with KEB_SIM_TEST_CHECKERS=1: they prove that a checker
// failing in `keb-sim swarm` prints the seed and writes a scenario that `keb-sim run` reproduces
// (tests/sim/check_swarm_failure.cmake). Not for scenario files.
#include "common.h"

namespace keb::sim::checkers {
namespace {

// "No operation ever fails": wrong whenever the backend fails an upgrade, which most random
// worlds of the swarm do (failureProbability up to 0.3). Watches operation.state events, so it
// also exercises the event path of checkers.
class TestNoFailedOperations : public Checker {
public:
    void onEvent(Simulation& sim, const EngineEvent& e) override {
        (void)sim;
        if (e.kind == std::string_view("operation.state") && e.state == std::string_view("failed")) ++failed_;
    }
    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        (void)sim;
        out.push_back({"testOnlyNoFailedOperations", failed_ == 0,
                       std::to_string(failed_) + " operation(s) failed (a deliberately wrong test-only invariant)"});
    }

private:
    std::int64_t failed_ = 0;
};

}  // namespace

extern const CheckerSpec kTestOnlyNoFailedOperations{
    .name = "testOnlyNoFailedOperations",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.other["testOnlyNoFailedOperations"] = n.boolean(); },
    .make = [](const Scenario& sc) -> std::unique_ptr<Checker> {
        auto it = sc.expect.other.find("testOnlyNoFailedOperations");
        if (it == sc.expect.other.end() || !it->second.get<bool>()) return nullptr;
        return std::make_unique<TestNoFailedOperations>();
    },
    .watchesEvents = true,
    .testOnly = true,
};

}  // namespace keb::sim::checkers
