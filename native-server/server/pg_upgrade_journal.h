// The demo backend's start journal in PostgreSQL (SPEC 11): when the store is PostgreSQL, every
// replica's demo backend records started upgrades in the SAME database, so that a new leader
// polls an upgrade its predecessor started instead of starting it again. A start is recorded in a
// transaction fenced like the store's writes (the lease epoch, FOR SHARE): a replica that lost its
// lease records, and so starts, nothing.
//
//   keb_demo_upgrades (operation_id PK, orchestration_id, runtime_id, started_at ms, duration_ms,
//                      fails, epoch, replica, recorded_at = clock_timestamp())
//   keb_demo_duplicate_starts (operation_id, epoch, replica, recorded_at)
// These rows are the backend's own record the HA test checks (never the store's).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/model.h"
#include "keb/store.h"

namespace keb::server {

class PgLite;

struct UpgradeRecord {
    Millis startedAt = 0;
    Millis duration = 0;
    bool fails = false;
};

// A start refused because this replica no longer holds the lease epoch it acts under.
class JournalFencedError : public StoreFencedError {
public:
    using StoreFencedError::StoreFencedError;
};

class PgUpgradeJournal {
public:
    // fenceEpoch: the epoch this replica leads under (nullopt: not leading; a start then throws
    // JournalFencedError). Creates the tables; throws PgLiteError when the database is unreachable.
    // maxConnections bounds the connections the journal holds: the demo backend calls it from
    // every worker (500 workers would otherwise open 500 sessions, past PostgreSQL's default
    // max_connections of 100, and then the store's own reads and writes fail too); a start that
    // finds them all busy waits for one.
    PgUpgradeJournal(std::string uri, std::string replicaId, std::function<std::optional<std::int64_t>()> fenceEpoch,
                     int maxConnections = kDefaultMaxConnections);
    static constexpr int kDefaultMaxConnections = 8;
    ~PgUpgradeJournal();

    // A record never changes once written (a second start records a duplicate, not a new record),
    // so what this journal wrote or read is answered from memory afterwards: a poll costs no
    // round trip (and no pooled connection) for an upgrade this replica started.
    std::optional<UpgradeRecord> find(const std::string& operationID);
    // Records `fresh` for op unless op was started already; returns the record that holds and
    // whether it is the one just recorded. Throws JournalFencedError when fenced.
    std::pair<UpgradeRecord, bool> startOnce(const Operation& op, const UpgradeRecord& fresh);

    // Connections open now (busy and idle) and the most ever open at once (tests).
    int openConnections();
    int peakConnections();

private:
    class Taken;
    std::unique_ptr<PgLite> take();
    // ok: the connection goes back to the idle list; otherwise it is closed (its session may be
    // gone after an error) and its slot freed.
    void release(std::unique_ptr<PgLite> c, bool ok);
    const std::string uri_, replica_;
    std::function<std::optional<std::int64_t>()> fenceEpoch_;
    const int max_;
    std::mutex mu_;
    std::condition_variable freed_;
    int open_ = 0, peak_ = 0;
    std::vector<std::unique_ptr<PgLite>> idle_;
    void remember(const std::string& operationID, const UpgradeRecord& r);
    std::mutex knownMu_;
    std::unordered_map<std::string, UpgradeRecord> known_;  // records written or read (immutable)
};

}  // namespace keb::server
