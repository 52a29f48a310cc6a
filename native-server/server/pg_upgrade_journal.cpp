#include "pg_upgrade_journal.h"

#include <algorithm>
#include <exception>

#include "lease.h"
#include "pg_lite.h"

namespace keb::server {

namespace {
const char* const kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS keb_demo_upgrades (operation_id text PRIMARY KEY, orchestration_id text NOT NULL,
    runtime_id text NOT NULL, started_at bigint NOT NULL, duration_ms bigint NOT NULL, fails boolean NOT NULL,
    epoch bigint NOT NULL, replica text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS keb_demo_duplicate_starts (operation_id text NOT NULL, epoch bigint NOT NULL,
    replica text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp());
)SQL";

UpgradeRecord recordOf(const PgLiteResult& r) {
    return UpgradeRecord{r.integer(0, 0), r.integer(0, 1), r.boolean(0, 2)};
}
}  // namespace

PgUpgradeJournal::PgUpgradeJournal(std::string uri, std::string replicaId,
                                   std::function<std::optional<std::int64_t>()> fenceEpoch, int maxConnections)
    : uri_(std::move(uri)), replica_(std::move(replicaId)), fenceEpoch_(std::move(fenceEpoch)),
      max_(maxConnections < 1 ? 1 : maxConnections) {
    PgLite db(uri_);
    db.exec("BEGIN");
    db.exec("SELECT pg_advisory_xact_lock(7160201)");
    db.exec(kLeaseSchemaSql);
    db.exec(kSchema);
    db.exec("COMMIT");
}

PgUpgradeJournal::~PgUpgradeJournal() = default;

// A pooled connection for one call: back to the pool when the call returns, closed when it
// throws (an exception may leave the session in a failed transaction or gone).
class PgUpgradeJournal::Taken {
public:
    explicit Taken(PgUpgradeJournal& j) : j_(j), c_(j.take()), exceptions_(std::uncaught_exceptions()) {}
    ~Taken() { j_.release(std::move(c_), std::uncaught_exceptions() == exceptions_); }
    Taken(const Taken&) = delete;
    Taken& operator=(const Taken&) = delete;
    PgLite* operator->() const { return c_.get(); }

private:
    PgUpgradeJournal& j_;
    std::unique_ptr<PgLite> c_;
    const int exceptions_;
};

std::unique_ptr<PgLite> PgUpgradeJournal::take() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
        while (!idle_.empty()) {
            auto c = std::move(idle_.back());
            idle_.pop_back();
            if (c->ok()) return c;
            --open_;  // broken while idle: closed here, its slot is free
        }
        if (open_ < max_) break;
        freed_.wait(lk);
    }
    ++open_;
    peak_ = std::max(peak_, open_);
    lk.unlock();
    try {
        return std::make_unique<PgLite>(uri_, 5000);
    } catch (...) {
        lk.lock();
        --open_;
        freed_.notify_one();
        throw;
    }
}

void PgUpgradeJournal::release(std::unique_ptr<PgLite> c, bool ok) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (ok && c)
            idle_.push_back(std::move(c));
        else
            --open_;
    }
    freed_.notify_one();
    // A connection not kept is closed here, outside the lock.
}

int PgUpgradeJournal::openConnections() {
    std::lock_guard<std::mutex> lk(mu_);
    return open_;
}

int PgUpgradeJournal::peakConnections() {
    std::lock_guard<std::mutex> lk(mu_);
    return peak_;
}

void PgUpgradeJournal::remember(const std::string& operationID, const UpgradeRecord& r) {
    std::lock_guard<std::mutex> lk(knownMu_);
    if (known_.size() >= 1'000'000) known_.clear();  // a bound, not an expected case
    known_.emplace(operationID, r);
}

std::optional<UpgradeRecord> PgUpgradeJournal::find(const std::string& operationID) {
    {
        std::lock_guard<std::mutex> lk(knownMu_);
        if (auto it = known_.find(operationID); it != known_.end()) return it->second;
    }
    Taken c(*this);
    auto r = c->exec("SELECT started_at, duration_ms, fails FROM keb_demo_upgrades WHERE operation_id = $1",
                     {operationID});
    if (r.rows() == 0) return std::nullopt;
    const UpgradeRecord rec = recordOf(r);
    remember(operationID, rec);
    return rec;
}

std::pair<UpgradeRecord, bool> PgUpgradeJournal::startOnce(const Operation& op, const UpgradeRecord& fresh) {
    const std::optional<std::int64_t> epoch = fenceEpoch_();
    if (!epoch) throw JournalFencedError("not the leader: upgrade not started");
    Taken c(*this);
    const std::string e = std::to_string(*epoch);
    // The usual case in ONE statement (one round trip, its own transaction): the lease row is
    // locked FOR SHARE and must hold our epoch, and the start is recorded unless one is. Anything
    // else (fenced, or started before) takes the transaction below, which says which.
    auto fast = c->exec(
        "WITH lease AS (SELECT epoch FROM keb_lease WHERE id = 1 AND epoch = $7::bigint FOR SHARE) "
        "INSERT INTO keb_demo_upgrades (operation_id, orchestration_id, runtime_id, started_at, duration_ms, fails, "
        "epoch, replica) SELECT $1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::boolean, $7::bigint, $8::text "
        "FROM lease ON CONFLICT (operation_id) DO NOTHING "
        "RETURNING started_at",
        {op.operationID, op.orchestrationID, op.runtimeID, std::to_string(fresh.startedAt),
         std::to_string(fresh.duration), fresh.fails ? "true" : "false", e, replica_});
    if (fast.rows() == 1) {
        remember(op.operationID, fresh);
        return {fresh, true};
    }
    c->exec("BEGIN");
    auto lease = c->exec("SELECT epoch FROM keb_lease WHERE id = 1 FOR SHARE");
    if (lease.rows() != 1 || lease.integer(0, 0) != *epoch) {
        c->exec("ROLLBACK");
        throw JournalFencedError("fenced: the lease epoch is no longer " + std::to_string(*epoch));
    }
    auto ins = c->exec(
        "INSERT INTO keb_demo_upgrades (operation_id, orchestration_id, runtime_id, started_at, duration_ms, fails, "
        "epoch, replica) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (operation_id) DO NOTHING "
        "RETURNING started_at, duration_ms, fails",
        {op.operationID, op.orchestrationID, op.runtimeID, std::to_string(fresh.startedAt),
         std::to_string(fresh.duration), fresh.fails ? "true" : "false", e, replica_});
    std::pair<UpgradeRecord, bool> out{fresh, true};
    if (ins.rows() == 0) {
        c->exec("INSERT INTO keb_demo_duplicate_starts (operation_id, epoch, replica) VALUES ($1, $2, $3)",
                {op.operationID, e, replica_});
        auto old = c->exec("SELECT started_at, duration_ms, fails FROM keb_demo_upgrades WHERE operation_id = $1",
                           {op.operationID});
        out = {recordOf(old), false};
    }
    c->exec("COMMIT");
    remember(op.operationID, out.first);
    return out;
}

}  // namespace keb::server
