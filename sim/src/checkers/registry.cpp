// The checkers of the scenario format's "expect" section, in the order of their verdicts in the
// report. A new invariant: its own file here, one line in this list, a row in
// scenarios/README.md's "expect" table.
#include <cstdlib>
#include <string>

#include "common.h"

namespace keb::sim {
namespace checkers {
extern const CheckerSpec kOrchestrations, kOperationStates, kAllStartedInsideWindow, kWorkersNeverExceeded,
    kMaxWorkersInUse, kPeakWorkersInUse, kAllFinished, kFinishBefore, kNoRuntimeUpgradedTwice,
    kNothingLostAcrossRestarts, kStagesInOrder, kNoStartWhilePaused, kNoStartInBlackout, kUpgrades, kResolveErrors, kNotifications,
    kTestOnlyNoFailedOperations;
}  // namespace checkers

bool testCheckersEnabled() {
    const char* v = std::getenv("KEB_SIM_TEST_CHECKERS");
    return v && std::string(v) == "1";
}

const std::vector<const CheckerSpec*>& checkerRegistry() {
    using namespace checkers;
    static const std::vector<const CheckerSpec*> all = {
        &kOrchestrations,
        &kOperationStates,
        &kAllStartedInsideWindow,
        &kWorkersNeverExceeded,
        &kMaxWorkersInUse,
        &kPeakWorkersInUse,
        &kAllFinished,
        &kFinishBefore,
        &kNoRuntimeUpgradedTwice,
        &kNothingLostAcrossRestarts,
        &kStagesInOrder,
        &kNoStartWhilePaused,
        &kNoStartInBlackout,
        &kUpgrades,
        &kResolveErrors,
        &kNotifications,
        &kTestOnlyNoFailedOperations,
    };
    static const std::vector<const CheckerSpec*> enabled = [] {
        std::vector<const CheckerSpec*> out;
        const bool tests = testCheckersEnabled();
        for (const CheckerSpec* c : all)
            if (!c->testOnly || tests) out.push_back(c);
        return out;
    }();
    return enabled;
}

const CheckerSpec* findChecker(std::string_view name) {
    for (const CheckerSpec* c : checkerRegistry())
        if (name == c->name) return c;
    return nullptr;
}

}  // namespace keb::sim
