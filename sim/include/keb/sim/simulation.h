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
#pragma once
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

#include "keb/api.h"
#include "keb/engine.h"
#include "keb/memory_store.h"
#include "keb/windows.h"
#include "keb/world/backend.h"
#include "keb/sim/event_queue.h"
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

// One checked expectation.
struct CheckResult {
    std::string name;    // e.g. "orchestrations[0].state", "allStartedInsideWindow"
    bool ok = false;
    std::string detail;  // expected vs actual
};

// What the simulator knows about one orchestration it saw created.
struct OrchestrationInfo {
    int submitIndex = -1;          // i-th submit event of the timeline; -1 when created through api()
    std::string orchestrationID;
    int workers = 1;
    bool usesWindows = false;
    int running = 0;               // operations in progress now
    int peakRunning = 0;
};

// Latest operation of one runtime (for the UI's fleet view).
struct RuntimeStatus {
    int orchestration = -1;  // index into orchestrations()
    OperationState state = OperationState::Pending;
};

// The event-log line being built: raw bytes with a write position. Reused for every line (no
// allocation, no zero-fill, no std::string bookkeeping per field); grows when needed.
class LineBuffer {
public:
    void clear() { len_ = 0; }
    // A pointer to at least `extra` writable bytes after the current end; commit(end) keeps them.
    char* reserve(std::size_t extra) {
        if (cap_ - len_ < extra) grow(extra);
        return buf_.get() + len_;
    }
    void commit(const char* end) { len_ = static_cast<std::size_t>(end - buf_.get()); }
    std::string_view view() const { return std::string_view(buf_.get(), len_); }
    std::size_t capacity() const { return cap_; }

private:
    void grow(std::size_t extra);
    std::unique_ptr<char[]> buf_;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
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
    void setTraceSink(std::function<void(const std::string&)> sink);
    // How many recent log lines recentLog() keeps (default 2000; 0: none). The full log is only
    // hashed and streamed to the trace sink.
    void setLogCapacity(std::size_t n);

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
    void failureBurst(Millis span, double probability);
    // Removes `count` live shoots picked deterministically (seed, now); returns how many.
    std::size_t disappear(int count);
    std::size_t disappear(const std::vector<std::string>& runtimeIDs);
    bool setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end);
    // Any request through the core's ApiRouter with Principal::all(). pathAndQuery may carry "?a=b".
    ApiResponse api(const std::string& method, const std::string& pathAndQuery, const std::string& body = "",
                    const std::string& contentType = "application/json");

    // --- reading ---
    const Scenario& scenario() const { return scenario_; }
    std::uint64_t seed() const { return seed_; }
    const SimFleet& fleet() const { return *fleet_; }
    MemoryStore& store() { return store_; }
    Engine& engine() { return *engine_; }
    const SimBackend& backend() const { return *backend_; }
    // Orchestrations in creation order (index = position).
    const std::vector<OrchestrationInfo>& orchestrations() const { return orchs_; }
    // orchestrationID of the i-th submit event (empty when not submitted yet or rejected).
    std::string submitted(int i) const;
    std::optional<RuntimeStatus> runtimeStatus(const std::string& runtimeID) const;
    // The latest operation of a runtime, read from the store (nullopt: none). Scans the operations
    // of that runtime's orchestration page by page: call it on demand (a click), not every frame.
    std::optional<Operation> latestOperation(const std::string& runtimeID);
    const std::vector<HourStats>& hourly() const { return hourly_; }
    int workersInUse() const { return inProgressTotal_; }
    int peakWorkersInUse() const { return peakWorkers_; }
    const std::deque<std::string>& recentLog() const { return recent_; }
    std::uint64_t eventsProcessed() const { return eventsProcessed_; }
    std::uint64_t eventLogLines() const { return logLines_; }
    std::uint64_t eventLogHash() const { return logHash_; }
    int restarts() const { return restarts_; }
    // Checks of timeline events so far ("check" events, expectStatus) and, when final, the expectations.
    std::vector<CheckResult> checks(bool final = true);
    // The report: a pure function of (scenario, seed) once finished(); keb-sim --report writes it.
    Json summary();
    // Approximate bytes held by the simulator's own structures (fleet, backend, bookkeeping).
    std::size_t approxBytes() const;

    // EngineListener
    void onEvent(const EngineEvent& e) override;

private:
    struct Pending {
        Action action;
        StepResult result;
    };
    void buildEngine();
    void process(const SimEvent& ev);
    void runTimeline(const TimelineEvent& t);
    void tickEngine();
    void scheduleWakeup();
    void log();  // appends line_ to the event log
    void beginLine(Millis t, std::string_view kind);  // line_ = {"at":"<t>","kind":"<kind>"
    void simEvent(const char* kind, std::initializer_list<std::pair<const char*, std::string_view>> fields);
    OrchestrationInfo* infoFor(std::string_view orchestrationID);
    HourStats& hour(Millis t);
    void checkStartWindow(const Action& a);
    void snapshotForRestart();
    void addCheck(std::string name, bool ok, std::string detail);
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn);
    void checkOrchestration(const OrchestrationExpect& e, const std::string& prefix, std::vector<CheckResult>& out);

    Scenario scenario_;
    std::uint64_t seed_;
    MemoryStore store_;
    std::unique_ptr<SimFleet> fleet_;
    std::unique_ptr<SimBackend> backend_;
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
        std::size_t operator()(const SimFleet::WindowKey& k) const;
    };
    std::unordered_map<SimFleet::WindowKey, std::optional<WindowSpec>, WindowKeyHash> windowCache_;
    std::size_t lastInfo_ = SIZE_MAX;  // infoFor: the orchestration found last (nearly always the next one)
    std::vector<std::uint32_t> freeSlots_;
    std::uint64_t eventsProcessed_ = 0;
    std::size_t initialFleet_ = 0;

    // Observer state (survives restarts: it is the test harness, not the broker).
    std::vector<OrchestrationInfo> orchs_;
    std::unordered_map<std::uint64_t, std::uint32_t> orchIndex_;  // fnv1a(orchestrationID)
    std::vector<int> submitToOrch_;                   // submit index -> orchs_ index (-1: rejected/not yet)
    std::unordered_map<std::uint64_t, std::uint32_t> inProgress_;  // fnv(operationID) -> orchs_ index
    struct RuntimeEntry {
        RuntimeStatus status;
        int busy = 0;  // upgrades in progress
    };
    FlatMap<RuntimeEntry> runtimes_;  // hashWords(runtimeID): one lookup per event serves both
    int inProgressTotal_ = 0;
    int peakWorkers_ = 0;
    std::vector<HourStats> hourly_;
    std::int64_t windowViolations_ = 0;
    std::int64_t workerViolations_ = 0;
    std::int64_t concurrentUpgrades_ = 0;
    std::int64_t droppedCompletions_ = 0;
    std::int64_t resolveErrors_ = 0;
    std::int64_t lostViolations_ = 0;
    Millis stallAt_ = -1;
    int stallCount_ = 0;
    bool stalled_ = false;
    std::vector<std::string> violationSamples_;
    int restarts_ = 0;
    // operation states at the last restart: fnv(operationID) -> state (for nothingLostAcrossRestarts)
    std::vector<std::pair<std::uint64_t, OperationState>> atRestart_;
    std::vector<CheckResult> timelineChecks_;

    // Event log.
    std::function<void(const std::string&)> trace_;
    std::deque<std::string> recent_;
    std::size_t logCapacity_ = 2000;
    std::uint64_t logHash_;
    std::uint64_t logLines_ = 0;
    LineBuffer line_;       // the line being built
    std::string lineText_;  // line_ as a std::string, only for the trace sink and recentLog()
    // The text of the latest time written ("YYYY-MM-DDTHH:MM:SS[.mmm]Z" with its quotes):
    // consecutive lines mostly share their instant.
    Millis cachedTime_ = INT64_MIN;
    char cachedTimeText_[40] = {};
    std::size_t cachedTimeLen_ = 0;
    Millis cachedDay_ = INT64_MIN;
    char cachedDate_[16] = {};  // "YYYY-MM-DDT" of cachedDay_
    std::size_t cachedDateLen_ = 0;
};

}  // namespace keb::sim
