// The demo upgrade backend of `--demo-fleet`: a simulated upgrade (fate from keb_world's fault
// model) whose started upgrades are recorded durably in an append-only JSON-lines journal
// next to the store, so that a restarted server (even after kill -9) knows what it already
// started: start() is idempotent per operationID across restarts, and the journal is the
// evidence the crash test reads ("no runtime got two upgrades from one operation").
//
// Journal lines: {"kind":"upgrade","operationID":..,"orchestrationID":..,"runtimeID":..,"startedAt":ms,
//                 "durationMs":..,"fails":bool}
//                {"kind":"duplicate-start","operationID":..}   (start() again for a started op)
// A torn last line (crash while writing) is ignored on load.
//
// Durability (with fsync): start() returns only after its line is on disk. Lines are written in
// order under the backend's lock, and the fdatasync that makes them durable runs outside it and
// is shared: a worker that finds a sync already covering its line returns without its own
// (group commit of the journal: 500 workers starting at once pay a handful of syncs, not 500
// one after another under the lock).
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "keb/backend.h"
#include "pg_upgrade_journal.h"

namespace keb::server {

struct DemoBackendOptions {
    std::string journalPath;     // "" : in memory only (for --store memory)
    Millis upgradeDuration = kSecond;
    double failureProbability = 0.0;
    std::uint64_t seed = 1;
    bool fsync = true;
    Millis callLatency = 0;  // every start()/poll() blocks this long first (a slow network)
    // Set when the store is PostgreSQL (SPEC 11): started upgrades are recorded there, shared by
    // every replica, instead of in journalPath.
    std::shared_ptr<PgUpgradeJournal> pgJournal;
};

class DemoBackend : public UpgradeBackend {
public:
    explicit DemoBackend(DemoBackendOptions options);  // throws std::runtime_error if the journal can't be opened
    ~DemoBackend() override;
    StepResult start(OrchestrationType type, const Operation& op, Millis now) override;
    StepResult poll(OrchestrationType type, const Operation& op, Millis now) override;

    std::size_t upgrades() const;
    std::size_t loadedFromJournal() const { return loaded_; }
    std::uint64_t journalSyncs() const { return syncs_.load(); }  // fdatasync calls so far

private:
    using Record = UpgradeRecord;
    Record fateOf(const Operation& op, Millis now) const;
    std::uint64_t append(const std::string& line);  // under mu_; returns the line's number
    void makeDurable(std::uint64_t line);           // NOT under mu_: returns once that line is synced
    DemoBackendOptions options_;
    mutable std::mutex mu_;
    std::atomic<std::uint64_t> appended_{0};  // lines written (write(2) returned), in order
    std::mutex syncMu_;
    std::uint64_t synced_ = 0;  // every line up to this one is on disk (under syncMu_)
    std::atomic<std::uint64_t> syncs_{0};
    std::unordered_map<std::string, Record> started_;
    int fd_ = -1;
    std::size_t loaded_ = 0;
};

}  // namespace keb::server
