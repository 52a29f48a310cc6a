// Checkers: each invariant of the scenario format's "expect" section (scenarios/README.md) is one
// Checker, registered by name, in the style of FoundationDB's simulation workloads: it parses its
// own "expect" value, may watch the run (engine events, restarts), and gives a verdict at the end.
//
// Adding an invariant: one file in sim/src/checkers/ (its CheckerSpec and Checker), one line in
// sim/src/checkers/registry.cpp (the order of the verdicts in the report), and a row in the README's
// "expect" table. The scenario parser knows the names from the registry; a checker without its own
// field in Expectations keeps its value in Expectations::other.
//
// Checkers observe; they never log (the event log and its hash do not depend on which are set).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keb/engine.h"
#include "keb/sim/scenario.h"

namespace keb::sim {

class Simulation;
class ScenarioNode;
struct OrchestrationInfo;

// One checked expectation.
struct CheckResult {
    std::string name;    // e.g. "orchestrations[0].state", "allStartedInsideWindow"
    bool ok = false;
    std::string detail;  // expected vs actual
};

class Checker {
public:
    virtual ~Checker() = default;
    // Every engine event, after the driver's own bookkeeping; only for specs with watchesEvents
    // (a 100,000-runtime rollout pays nothing for checkers that judge at the end).
    virtual void onEvent(Simulation& sim, const EngineEvent& e) {
        (void)sim;
        (void)e;
    }
    // A restart (the timeline's, the UI's, or the one after a fatal store failure), before the
    // engine is dropped.
    virtual void onRestart(Simulation& sim) { (void)sim; }
    // At the end, before the verdicts, for specs with scansOperations: every operation of every
    // orchestration from the store, orchestration by orchestration (scanDone after each). One
    // pass serves every such checker: 100,000 operations are read once, not once per checker.
    virtual void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) {
        (void)sim;
        (void)info;
        (void)op;
    }
    virtual void scanDone(Simulation& sim, const OrchestrationInfo& info) {
        (void)sim;
        (void)info;
    }
    // The verdict at the end of the run: one or more results.
    virtual void verdict(Simulation& sim, std::vector<CheckResult>& out) = 0;
};

struct CheckerSpec {
    const char* name;  // the key in "expect"
    // Parses the value of expect.<name> into sc.expect (errors through value.fail()).
    void (*parse)(const ScenarioNode& value, Scenario& sc);
    // The checker for a parsed scenario, or nullptr when the scenario does not ask for it.
    std::unique_ptr<Checker> (*make)(const Scenario& sc);
    bool watchesEvents = false;
    bool scansOperations = false;  // gets scan()/scanDone() at the end
    // Known only when the environment sets KEB_SIM_TEST_CHECKERS=1: deliberately wrong checkers
    // that prove the swarm's failure path (tests/sim/check_swarm_failure.cmake).
    bool testOnly = false;
};

// Every checker in the order of its verdicts (test-only ones only when enabled).
const std::vector<const CheckerSpec*>& checkerRegistry();
const CheckerSpec* findChecker(std::string_view name);
bool testCheckersEnabled();

// expect.orchestrations[i] and the timeline's "check" event: the state and counts of one
// submitted orchestration, read from the store now.
void checkOrchestration(Simulation& sim, const OrchestrationExpect& e, const std::string& prefix,
                        std::vector<CheckResult>& out);

}  // namespace keb::sim
