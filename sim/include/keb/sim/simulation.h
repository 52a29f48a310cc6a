// The discrete-event simulator: a virtual clock and event queue driving the real
// keb::Engine (the same code the server runs) against a simulated fleet and
// upgrade backend. Usable in batch (runToEnd) and interactively (the browser UI:
// advanceTo / step / inject faults / call the API / read state every frame).
//
// Determinism: a run is a pure function of (scenario, seed). No wall clock, no
// global randomness, ties in the queue broken by sequence number. The event log
// (JSON lines of engine events and "sim.*" events) is hashed with 64-bit FNV-1a;
// the hash is summary()["eventLogHash"].
//
// Driving protocol (engine.h): engine.tick(now) hands out Actions; each is run
// through the SimBackend at once and its result is fed back with
// engine.complete() after faults.backendLatency. A restart destroys the Engine
// and the ApiRouter, drops the results of actions still out (like a crash),
// builds a new Engine on the same MemoryStore and calls recover(now).
// A store write that throws under tick/complete/recover (FaultyStore, the
// timeline's storeFailure) is the engine's fatal path: like keb-server, which
// exits and is restarted by its supervisor, the simulation logs sim.fatal and
// restarts. A store failure under an API request is answered 500 by the router.
//
// This file is the driver (sim/src/driver.cpp); the event log is event_log.h,
// the "expect" invariants are checkers (checker.h, sim/src/checkers/).
#pragma once
#include <array>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keb/big_alloc.h"
#include "keb/api.h"
#include "keb/engine.h"
#include "keb/memory_store.h"
#include "keb/windows.h"
#include "keb/world/backend.h"
#include "keb/sim/checker.h"
#include "keb/sim/event_log.h"
#include "keb/sim/event_queue.h"
#include "keb/sim/faulty_store.h"
#include "keb/sim/notification_sink.h"
#include "keb/world/fleet_gen.h"
#include "keb/world/flat_map.h"
#include "keb/sim/scenario.h"

namespace keb::sim {

// Counters of one simulated hour (hour 0 starts at the scenario start).
struct HourStats {
    std::int64_t started = 0;   // operations that took a worker (upgrade started)
    std::int64_t finished = 0;  // operations that reached a final state
    int peakWorkers = 0;        // most operations in progress at once, all orchestrations
};


// What the simulator knows about one orchestration it saw created.
struct OrchestrationInfo {
    int submitIndex = -1;          // i-th submit event of the timeline; -1 when created through api()
    std::string orchestrationID;
    int workers = 1;               // strategy.parallel.workers
    bool usesWindows = false;
    int running = 0;               // operations in progress now
    int peakRunning = 0;
    // SPEC 10 (from the stored request): its stages and own blackouts.
    std::vector<Stage> stages;
    std::vector<Blackout> blackouts;
    // The worker limit in force: `workers`, or for a staged orchestration the workers of the stage
    // the engine is at (from stage.started / stage.finished events: the next stage's once one
    // finished, `workers` again after the last one), as the engine's own limit.
    int limit = 1;
    int stageAt = 0;               // index of that stage (stages.size(): all finished)
};

// Latest operation of one runtime (for the UI's fleet view).
struct RuntimeStatus {
    int orchestration = -1;  // index into orchestrations()
    OperationState state = OperationState::Pending;
};

class Simulation : public EngineListener {
public:
    // seedOverride replaces the scenario's seed (keb-sim --seed).
    explicit Simulation(Scenario scenario, std::optional<std::uint64_t> seedOverride = std::nullopt);
    ~Simulation() override;
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    // --- options ---
    // Receives every event-log line (no trailing newline) as it is produced (keb-sim --trace).
    // Lines logged before (sim.start) are replayed to the new sink if recentLog() still holds them.
    void setTraceSink(std::function<void(const std::string&)> sink) { log_.setTraceSink(std::move(sink)); }
    // How many recent log lines recentLog() keeps (default 2000; 0: none). The full log is only
    // hashed and streamed to the trace sink.
    void setLogCapacity(std::size_t n) { log_.setCapacity(n); }

    // --- running ---
    Millis now() const { return now_; }
    Millis startTime() const { return scenario_.start; }
    Millis endTime() const { return scenario_.end; }
    // True when nothing is left to do before the scenario end (queue empty or next event after end).
    bool finished() const;
    // Time of the next queued event (nullopt when finished).
    std::optional<Millis> nextEventTime() const;
    // Processes one event; false when finished.
    bool step();
    // Processes up to maxEvents events; returns how many were processed.
    std::size_t run(std::size_t maxEvents);
    // Processes every event with time <= t, then sets the clock to t (clamped to the end).
    void advanceTo(Millis t);
    // Runs until finished().
    void runToEnd();

    // --- injections at the current time (the UI's buttons; the timeline uses them too) ---
    void restart();
    void gardenerOutage(Millis span, const std::string& error = "");
    // Upgrades starting from now for `span` fail with at least `probability`; only in `region` when set.
    void failureBurst(Millis span, double probability, const std::string& region = "");
    // Removes `count` live shoots picked deterministically (seed, now); returns how many.
    std::size_t disappear(int count);
    std::size_t disappear(const std::vector<std::string>& runtimeIDs);
    bool setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end);
    // The next `writes` store writes throw (FaultyStore): a write under the engine kills it and
    // the simulation restarts (sim.fatal, sim.restart); one under an API request is a 500.
    void storeFailure(int writes);
    // Any request through the core's ApiRouter with Principal::all(). pathAndQuery may carry "?a=b".
    ApiResponse api(const std::string& method, const std::string& pathAndQuery, const std::string& body = "",
                    const std::string& contentType = "application/json");

    // --- reading ---
    const Scenario& scenario() const { return scenario_; }
    std::uint64_t seed() const { return seed_; }
    const world::SimFleet& fleet() const { return *fleet_; }
    MemoryStore& store() { return store_; }
    Engine& engine() { return *engine_; }
    const world::SimBackend& backend() const { return *backend_; }
    // Orchestrations in creation order (index = position).
    const std::vector<OrchestrationInfo>& orchestrations() const { return orchs_; }
    // What the simulator knows about an orchestration by id (nullptr: never seen created).
    const OrchestrationInfo* orchestration(std::string_view orchestrationID) {
        return infoFor(orchestrationID);
    }
    // orchestrationID of the i-th submit event (empty when not submitted yet or rejected).
    std::string submitted(int i) const;
    std::optional<RuntimeStatus> runtimeStatus(const std::string& runtimeID) const;
    // The latest operation of a runtime, read from the store (nullopt: none). Scans the operations
    // of that runtime's orchestration page by page: call it on demand (a click), not every frame.
    std::optional<Operation> latestOperation(const std::string& runtimeID);
    const std::vector<HourStats>& hourly() const { return hourly_; }
    int workersInUse() const { return inProgressTotal_; }
    int peakWorkersInUse() const { return peakWorkers_; }
    const std::deque<std::string>& recentLog() const { return log_.tail(); }
    std::uint64_t eventsProcessed() const { return eventsProcessed_; }
    std::uint64_t eventLogLines() const { return log_.lines(); }
    std::uint64_t eventLogHash() const { return log_.hash(); }
    int restarts() const { return restarts_; }
    int fatalRestarts() const { return fatalRestarts_; }  // restarts after a store failure
    // What the driver counts while the engine runs (the report's "violations"; the checkers'
    // evidence): starts outside a window, workers exceeded, two upgrades of a runtime at once.
    std::int64_t windowViolations() const { return windowViolations_; }
    std::int64_t workerViolations() const { return workerViolations_; }
    std::int64_t concurrentUpgrades() const { return concurrentUpgrades_; }
    std::int64_t resolveErrors() const { return resolveErrors_; }
    // SPEC 14: what the simulated notification service received (scenario engine.notifications;
    // drained after every step while the service is up) and what is still in the store's outbox.
    const NotificationSink& notifications() const { return notifications_; }
    std::int64_t notificationsQueued() { return store_.pendingNotificationCount(); }
    // SPEC 10: how often an orchestration went paused (a budget's pause or an operator's).
    std::int64_t pauses() const { return pauses_; }
    // Up to kMaxSamples descriptions of violations, for check details.
    const std::vector<std::string>& violationSamples() const { return violationSamples_; }
    static constexpr std::size_t kMaxSamples = 10;
    // Checks of timeline events so far ("check" events, expectStatus) and, when final, the expectations.
    std::vector<CheckResult> checks(bool final = true);
    // The report: a pure function of (scenario, seed) once finished(); keb-sim --report writes it.
    Json summary();
    // Approximate bytes held by the simulator's own structures (fleet, backend, bookkeeping).
    std::size_t approxBytes() const;

    // EngineListener: logs the event, keeps the driver's bookkeeping, then the watching checkers.
    void onEvent(const EngineEvent& e) override;

private:
    struct Pending {
        Action action;
        StepResult result;
    };
    void buildEngine();
    void observe(const EngineEvent& e);
    void observeStage(const EngineEvent& e);
    void process(const SimEvent& ev);
    void runTimeline(const TimelineEvent& t);
    void tickEngine();
    void scheduleWakeup();
    void simEvent(const char* kind, std::initializer_list<std::pair<const char*, std::string_view>> fields) {
        log_.simEvent(now_, kind, fields);
    }
    void deliverNotifications();  // SPEC 14: the sender's round, unless the service is down now
    void recoverEngine();  // builds an engine and recovers, again while the store fails (restarts)
    void fatal(const std::exception& ex);  // a store write threw under the engine: restart
    OrchestrationInfo* infoFor(std::string_view orchestrationID);
    HourStats& hour(Millis t);
    void checkStartWindow(const Action& a);
    void addCheck(std::string name, bool ok, std::string detail);
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn);

    Scenario scenario_;
    std::uint64_t seed_;
    MemoryStore store_;
    FaultyStore faulty_{store_};  // what the engine and the router write through
    std::unique_ptr<world::SimFleet> fleet_;
    std::unique_ptr<world::SimBackend> backend_;
    SeededIdGenerator ids_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<ApiRouter> router_;
    EventQueue queue_;
    Millis now_ = 0;
    std::uint32_t generation_ = 0;
    std::optional<Millis> wakeupAt_;
    std::vector<Pending> pending_;
    std::vector<Action> actions_;  // reused by tickEngine
    Runtime windowCheck_;          // reused by checkStartWindow
    // checkStartWindow: the effective window by what decides it (without rules in the policy only
    // windowBegin/windowEnd do; the other ids are 0 then). Bounded: cleared when it gets large.
    struct WindowKeyHash {
        std::size_t operator()(const world::SimFleet::WindowKey& k) const;
    };
    std::unordered_map<world::SimFleet::WindowKey, std::optional<WindowSpec>, WindowKeyHash> windowCache_;
    std::size_t lastInfo_ = SIZE_MAX;  // infoFor: the orchestration found last (nearly always the next one)
    std::vector<std::uint32_t> freeSlots_;
    std::uint64_t eventsProcessed_ = 0;
    std::size_t initialFleet_ = 0;

    // Observer state (survives restarts: it is the test harness, not the broker).
    std::vector<OrchestrationInfo> orchs_;
    std::unordered_map<std::uint64_t, std::uint32_t> orchIndex_;  // fnv1a(orchestrationID)
    std::vector<int> submitToOrch_;                   // submit index -> orchs_ index (-1: rejected/not yet)
    // What is in progress now (a few hundred entries at most: small tables that stay in cache).
    world::FlatMap<std::uint32_t> inProgress_;  // idKey(operationID) -> orchs_ index
    world::FlatMap<int> busy_;                  // idKey(runtimeID) -> its upgrades in progress (> 0)
    // The latest status of every runtime that got an operation: idKey(runtimeID) -> status, only
    // written (the UI reads it through runtimeStatus()). Mutable: runtimeStatus() folds the notes
    // still held back (statusNotes_) in first.
    mutable world::FlatMap<RuntimeStatus> runtimes_;
    // Status changes not yet folded into runtimes_, oldest first: each goes to a random slot of a
    // 100,000-runtime table, a cache and TLB miss that a write per event could not hide (a prefetch
    // 16 events ahead did not). They are appended here (sequential) and folded in order, in one
    // tight loop that prefetches far ahead, when runtimeStatus() reads the table or when as many
    // notes are held as the fleet has runtimes; the table it reads is exactly what writing at once
    // would make.
    struct StatusNote {
        std::uint64_t key;
        int orchestration;
        OperationState state;
    };
    mutable std::vector<StatusNote, BigAllocator<StatusNote>> statusNotes_;  // 1.6 MB at 100,000: huge pages
    std::size_t statusNotesMax_ = 4096;  // fold at this many (at least the initial fleet)
    void noteStatus(std::uint64_t key, int orchestration, OperationState state);
    void flushStatus() const;
    int inProgressTotal_ = 0;
    int peakWorkers_ = 0;
    std::vector<HourStats> hourly_;
    std::int64_t windowViolations_ = 0;
    std::int64_t workerViolations_ = 0;
    std::int64_t concurrentUpgrades_ = 0;
    std::int64_t droppedCompletions_ = 0;
    std::int64_t resolveErrors_ = 0;
    std::int64_t pauses_ = 0;
    Millis stallAt_ = -1;
    int stallCount_ = 0;
    bool stalled_ = false;
    std::vector<std::string> violationSamples_;
    int restarts_ = 0;
    int fatalRestarts_ = 0;
    std::vector<CheckResult> timelineChecks_;
    // The checkers the scenario's "expect" asks for (registry order), those of them that watch
    // engine events and those that scan the operations at the end.
    std::vector<std::unique_ptr<Checker>> checkers_;
    std::vector<Checker*> watchers_;
    std::vector<Checker*> scanners_;
    NotificationSink notifications_;  // SPEC 14: the notification service (not the broker: survives restarts)

    EventLog log_;
};

}  // namespace keb::sim
