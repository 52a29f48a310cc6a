// The orchestration engine (SPEC 4-7). Single-threaded and deterministic: it never
// reads a clock, sleeps or does I/O except through Store and FleetSource.
//
// Driving it (what every shell does):
//   engine.recover(now);                        // once, after construction (restart)
//   loop:
//     for (Action a : engine.tick(now)) run a through an UpgradeBackend, then
//         engine.complete(a, result, laterNow); // results may come back in any order
//     sleep until engine.nextWakeup() (or an API call / completed action arrives)
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "keb/backend.h"
#include "keb/fleet.h"
#include "keb/model.h"
#include "keb/store.h"
#include "keb/windows.h"

namespace keb {

struct EngineConfig {
    Millis pollInterval = kMinute;            // KEB: status check every 1 min
    // KEB's step retry (5 s): how soon a step that met a transient error runs again. The engine
    // itself takes a step's delay from StepResult::again(d) (Again(0) uses pollInterval); drivers
    // use this one: the server for a backend call that threw and for the Gardener backends'
    // transient errors (429, 5xx, broken connections). The simulated backend has none.
    Millis stepRetryInterval = 5 * kSecond;
    Millis operationTimeout = 3 * kHour;      // "operation has reached the time limit"
    Millis resolveRetryInterval = 30 * kSecond;  // fleet listing failed: try again after
    Millis resolveTimeout = kHour;            // then the orchestration fails
    MaintenancePolicy policy;
    // SPEC 10: server-wide blackouts (keb-server --blackouts FILE); a request's own add to them.
    std::vector<Blackout> blackouts;
    // SPEC 14: customer notifications are on (keb-server --notification-url). The engine then
    // writes outbox rows (Store::WriteBatch::notifications) for orchestrations whose request has
    // "notification": true, in the same batch as the state change; dry runs get none.
    bool notifications = false;
};

// Answer of pause/resume (SPEC 10): 200, 404 unknown id, 409 wrong state (error says why).
struct ControlResult {
    int status = 200;
    std::string error;
};

struct RetryResult {
    int status = 202;  // 202, or 404 / 409 with error
    std::string error;
    std::string orchestrationID;
    std::vector<std::string> retryShoots;
    std::vector<std::string> oldOperations;
    std::vector<std::string> invalidOperations;
    std::string msg;
};

// Observer of everything the engine does (simulator trace, server logs, metrics).
// The views are valid only during onEvent (copy what you keep).
struct EngineEvent {
    Millis at = 0;
    std::string_view kind;  // "orchestration.created", "orchestration.state", "operation.created",
                            // "operation.state", "operation.rescheduled", "operation.start", "operation.restart",
                            // "operation.waiting", "operation.skipped", "operation.superseded",
                            // "orchestration.recovered", "resolve.error";
                            // SPEC 10 (only for requests with stages, budgets or blackouts):
                            // "stage.started", "stage.soaking" (soak start, detail: until),
                            // "stage.finished" (soak end or no soak; state succeeded/failed);
                            // pause and resume are "orchestration.state" events (paused / in progress)
    std::string_view orchestrationID;
    std::string_view operationID;
    std::string_view runtimeID;
    std::string_view state;
    std::string_view detail;
    std::string_view stage;  // stage events: the stage's name
};

class EngineListener {
public:
    virtual ~EngineListener() = default;
    virtual void onEvent(const EngineEvent& e) = 0;
};

class Engine {
public:
    Engine(Store& store, FleetSource& fleet, IdGenerator& ids, EngineConfig config = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void setListener(EngineListener* l) { listener_ = l; }
    const EngineConfig& config() const { return config_; }
    // What it runs on (SPEC 12: GET /runtimes and previews read them on the engine's thread).
    Store& store() { return store_; }
    FleetSource& fleet() { return fleet_; }

    // --- API side (each call persists before it returns) ---
    std::string create(OrchestrationType type, const Parameters& params, Millis now);
    // false when unknown. A no-op on finished or canceling orchestrations.
    bool cancel(const std::string& orchestrationID, Millis now);
    RetryResult retry(const std::string& orchestrationID, const std::vector<std::string>& operationIDs,
                      bool immediate, Millis now);
    // SPEC 10: in progress / retrying -> paused ("paused by operator"); operations in progress run
    // to their end, nothing new starts. 404 unknown, 409 any other state.
    ControlResult pause(const std::string& orchestrationID, Millis now);
    // paused -> in progress; failures counted so far are acknowledged (the current stage's and the
    // orchestration's budgets count from zero again). 404 unknown, 409 when not paused.
    ControlResult resume(const std::string& orchestrationID, Millis now);

    // --- driver side ---
    // Takes up every unfinished orchestration of the store (SPEC 7). Call once.
    void recover(Millis now);
    // Advances the state to `now` and returns the actions to run now. An operation
    // with an action out is not handed out again until complete() is called for it.
    std::vector<Action> tick(Millis now);
    // The same, appending to `out` (a driver can reuse one vector).
    void tick(Millis now, std::vector<Action>& out);
    void complete(const Action& action, const StepResult& result, Millis now);
    // Earliest time at which tick() has something to do; nullopt when idle.
    std::optional<Millis> nextWakeup() const;
    // Orchestrations the engine is currently driving.
    std::size_t activeOrchestrations() const;
    std::size_t actionsOut() const;

    struct Impl;

private:
    Store& store_;
    FleetSource& fleet_;
    IdGenerator& ids_;
    EngineConfig config_;
    EngineListener* listener_ = nullptr;
    std::unique_ptr<Impl> impl_;
};

}  // namespace keb
