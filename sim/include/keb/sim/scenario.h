// Scenario files (scenarios/*.json, documented in scenarios/README.md): the fleet,
// the fault plan, the engine configuration, a timeline of events and the
// expectations the runner checks at the end.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "keb/engine.h"
#include "keb/model.h"
#include "keb/world/faults.h"
#include "keb/world/fleet_gen.h"
#include "keb/wire.h"

namespace keb::sim {

// Thrown for an invalid scenario. what() is "<file>: <json path>: <problem>",
// e.g. "scenarios/x.json: timeline[3].at: expected RFC 3339 time or duration".
class ScenarioError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A count expectation: exact, or a range.
struct CountExpect {
    std::optional<std::int64_t> min;
    std::optional<std::int64_t> max;
    bool holds(std::int64_t v) const { return (!min || v >= *min) && (!max || v <= *max); }
    std::string describe() const;  // "42", "10..20", ">= 3"
};

// Expected state of the i-th submitted orchestration.
struct OrchestrationExpect {
    int index = 0;                              // i-th submit event of the timeline (0-based)
    std::optional<OrchestrationState> state;
    std::optional<std::string> description;     // a part of its description, e.g. "paused: stage \"canary\""
    std::map<OperationState, CountExpect> operations;  // per operation state
    std::optional<CountExpect> totalOperations;
};

struct TimelineEvent {
    enum class Kind {
        Submit, Api, Cancel, Retry, Restart, SetWindow, Advance, Outage, FailureBurst, Disappear, StoreFailure, Check,
        Pause, Resume  // SPEC 10: PUT /orchestrations/{id}/pause and /resume
    };
    Kind kind = Kind::Advance;
    Millis at = 0;          // absolute virtual time
    std::string path;       // JSON path of the event in the file, e.g. "timeline[3]" (for messages)
    // Submit / Api
    OrchestrationType type = OrchestrationType::UpgradeKyma;
    std::string method;     // Api
    std::string apiPath;    // Api
    std::string body;       // Submit / Api (JSON text)
    std::vector<int> expectStatus;  // any of these; empty: the event's default (Api: not checked)
    int submitIndex = -1;   // Submit: its index among submit events
    // Cancel / Retry / Pause / Resume / Check: which orchestration
    int orchestration = -1;          // index of a submit event
    std::string orchestrationID;     // or an explicit id
    // Retry
    std::vector<std::string> operationIDs;  // empty: all failed operations
    bool immediate = false;
    // SetWindow / Disappear
    std::vector<std::string> runtimeIDs;
    std::vector<std::string> shoots;
    int count = 0;                   // Disappear: this many random live shoots; StoreFailure: writes
    std::string windowBegin, windowEnd;
    // Outage / FailureBurst
    Millis span = 0;
    double probability = 1.0;
    std::string error;
    std::string region;     // FailureBurst: only this region (empty: every region)
    // Check
    OrchestrationExpect check;
};

// SPEC 14: expect.notifications: delivered notifications by kind, and rows still queued at the end
// (a key left out is not checked).
struct NotificationsExpect {
    std::optional<CountExpect> create, start, end, cancel, queued;
};

// The "expect" section: one entry per checker (checker.h, sim/src/checkers/), in registry order.
struct Expectations {
    std::vector<OrchestrationExpect> orchestrations;
    std::map<OperationState, CountExpect> operationStates;  // over all orchestrations
    std::optional<bool> allStartedInsideWindow;
    std::optional<bool> workersNeverExceeded;  // per orchestration, its own `workers`
    std::optional<int> maxWorkersInUse;        // peak of all operations in progress at once must not exceed
    std::optional<CountExpect> peakWorkersInUse;  // the peak itself (proves parallelism is used)
    std::optional<Millis> finishBefore;        // every orchestration finished before this time
    std::optional<bool> allFinished;
    std::optional<bool> noRuntimeUpgradedTwice;
    std::optional<bool> nothingLostAcrossRestarts;
    std::optional<CountExpect> upgrades;        // real upgrades the backend started
    std::optional<CountExpect> resolveErrors;   // fleet listing failures seen by the engine
    // SPEC 10 invariants.
    std::optional<bool> stagesInOrder;       // no operation of stage k+1 started before stage k ended + its soak
    std::optional<bool> noStartWhilePaused;  // no operation.start of an orchestration while it is paused
    std::optional<bool> noStartInBlackout;   // no operation.start inside a blackout (engine's or the request's)
    std::optional<NotificationsExpect> notifications;  // SPEC 14: what the notification service received
    // The values of checkers without a field above (checker.h): name -> the JSON value, for
    // checkers that parse their own form.
    std::map<std::string, Json> other;
};

struct Scenario {
    std::string file;         // for messages
    std::string name;
    std::string description;
    std::uint64_t seed = 1;
    bool longRunning = false;  // "long": true: ctest runs it only with KEB_LONG_TESTS=1
    Millis start = 0;         // virtual time zero
    Millis end = 0;           // the run stops here at the latest (start + maxDuration default 30d)
    world::FleetSpec fleet;
    world::FaultPlan faults;
    struct Disappearance {
        Millis at = 0;
        int count = 0;
        std::vector<std::string> runtimeIDs;
    };
    struct Outage {
        Millis from = 0, to = 0;
        std::string error;
    };
    std::vector<Outage> outages;
    // SPEC 14: the notification service is down in [from, to) (faults.notificationOutages): the
    // outbox keeps the rows until it is up again.
    struct NotificationOutage {
        Millis from = 0, to = 0;
    };
    std::vector<NotificationOutage> notificationOutages;
    std::vector<Disappearance> disappearances;
    EngineConfig engine;
    std::vector<TimelineEvent> timeline;  // sorted by time, file order for ties
    int submitCount = 0;
    Expectations expect;
};

// Parses a scenario. `file` is only used in messages. Throws ScenarioError.
Scenario parseScenario(const std::string& jsonText, const std::string& file);
Scenario loadScenarioFile(const std::string& path);  // reads the file (ScenarioError when unreadable)

// "+2h", "+1d12h", "+90s", "+500ms" (also without '+'); nullopt when invalid.
std::optional<Millis> parseOffset(std::string_view s);

}  // namespace keb::sim
