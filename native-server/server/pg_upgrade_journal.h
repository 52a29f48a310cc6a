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
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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
    PgUpgradeJournal(std::string uri, std::string replicaId, std::function<std::optional<std::int64_t>()> fenceEpoch);
    ~PgUpgradeJournal();

    std::optional<UpgradeRecord> find(const std::string& operationID);
    // Records `fresh` for op unless op was started already; returns the record that holds and
    // whether it is the one just recorded. Throws JournalFencedError when fenced.
    std::pair<UpgradeRecord, bool> startOnce(const Operation& op, const UpgradeRecord& fresh);

private:
    std::unique_ptr<PgLite> take();
    void give(std::unique_ptr<PgLite> c);
    const std::string uri_, replica_;
    std::function<std::optional<std::int64_t>()> fenceEpoch_;
    std::mutex mu_;
    std::vector<std::unique_ptr<PgLite>> idle_;
};

}  // namespace keb::server
