// Durable keb::Store on PostgreSQL 15 (SPEC 11), over libpq (pg.h).
//
// - The same semantics as SqliteStore (store.h): typed operation columns, the store JSON of each
//   orchestration, per-state counters kept by triggers in the same transaction (totalCount and
//   operationStats cost O(states)), the wire JSON of every row (GET fast paths: a page is one
//   query concatenating stored items), and the SPEC 14 notification outbox.
// - Migrations run at open inside one transaction holding pg_advisory_xact_lock(kMigrationLock):
//   replicas starting together migrate once, one after the other.
// - Every write is one transaction (apply(WriteBatch) included). Ids sort bytewise (COLLATE "C")
//   whatever the database's collation, as in every other store.
// - Fencing (SPEC 11): with setFence(epoch), every write transaction first reads the lease row
//   (`SELECT epoch FROM keb_lease WHERE id = 1 FOR SHARE`) and, when it is missing or holds
//   another epoch, rolls back and throws keb::StoreFencedError. No fence: no check.
// - At most one in-progress operation per runtime (SPEC 11): a partial unique index on
//   operations(runtime_id) WHERE state = in progress; a write breaking it throws (nothing written).
// One instance (one connection) is used by one thread at a time; setFence may be called from any
// thread. Readers on other threads open their own instances (readOnly: no migration).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "keb/api.h"
#include "keb/store.h"
#include "page_anchors.h"
#include "pg.h"

namespace keb::server {

using PgError = pg::PgError;

struct PostgresOptions {
    // false: only check the schema is there (a reader beside the engine).
    bool readOnly = false;
    // The SPEC 11 partial unique index (one in-progress operation per runtime). Only the store
    // contract and the differential test turn it off: the generic Store contract (and the reference
    // store) allow two in-progress operations of one runtime; the engine never writes them.
    bool oneInProgressPerRuntime = true;
    // Deep unfiltered pages seek from a remembered key every this many operations (page_anchors.h);
    // 0: always OFFSET. pageAnchors: shared by a reader pool's connections (null: this one's own).
    int pageAnchorStride = 256;
    std::shared_ptr<PageAnchors> pageAnchors;
};

class PostgresStore : public Store, public OperationPageSource {
public:
    // The advisory lock key serialising migrations between processes.
    static constexpr std::int64_t kMigrationLock = 0x6b65625f6d6967;  // "keb_mig"

    // Connects (uri passed to libpq as-is) and migrates. Throws PgError with the server's message.
    explicit PostgresStore(const std::string& uri, PostgresOptions options = {});
    ~PostgresStore() override;
    PostgresStore(const PostgresStore&) = delete;
    PostgresStore& operator=(const PostgresStore&) = delete;

    // SPEC 11 fencing: nullopt (the default) turns the check off. Thread-safe.
    void setFence(std::optional<std::int64_t> epoch);
    std::optional<std::int64_t> fence() const;

    void insertOrchestration(const Orchestration& o) override;
    void updateOrchestration(const Orchestration& o) override;
    std::optional<Orchestration> getOrchestration(const std::string& id) override;
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override;
    std::vector<Orchestration> unfinishedOrchestrations() override;
    void insertOperations(const std::vector<Operation>& ops) override;
    void updateOperations(const std::vector<Operation>& ops) override;
    void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) override;
    void rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override;
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override;
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override;
    std::optional<Operation> getOperation(const std::string& orchestrationID, const std::string& operationID) override;
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) override;
    void forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                 const std::function<void(const Operation&)>& fn) override;
    void forEachOperationBrief(const std::string& orchestrationID,
                               const std::function<void(const OperationBrief&)>& fn) override;
    void apply(const WriteBatch& batch) override;
    std::vector<Notification> pendingNotifications(std::size_t limit) override;
    void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) override;
    std::int64_t pendingNotificationCount() override;
    StateCounts stateCounts() override;
    OperationPageSource* pageSource() override { return this; }

    bool appendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) override;
    // Pages this connection answered from a remembered key (pageAnchorStride), for tests.
    std::uint64_t anchoredPages() const { return anchoredPages_; }
    // UPDATE statements that wrote queued progress and window-move writes (one per orchestration
    // and flush), for tests.
    std::uint64_t batchedWriteStatements() const { return batchedWriteStatements_; }
    Render appendOrchestration(const std::string& orchestrationID, std::string& out) override;

    int schemaVersion();
    pg::Connection& connection() { return *conn_; }

    // Group commit (issue 15, as SqliteStore's): between beginGroup() and commitGroup() every
    // write goes into ONE transaction (a failed write fails the whole group), opened by the
    // first write with the fence check (the lease row stays locked FOR SHARE until the commit, so
    // no rival can take the lease in between), committed by commitGroup(), which throws when it
    // cannot commit. Reads on this connection meanwhile run inside that transaction (they see its
    // writes). The leader's engine loop groups what one engine round writes and acknowledges
    // none of it before commitGroup() returns.
    void beginGroup();
    void commitGroup();

private:
    // Runs body in one write transaction (fence check first); rolls back and rethrows on error.
    void writeTx(const std::function<void()>& body);
    void migrate();
    void checkFence();
    void doInsertOrchestration(const Orchestration& o);
    void doUpdateOrchestration(const Orchestration& o);
    void doInsertOperationStream(const std::function<bool(Operation&)>* next, const std::vector<Operation>* batch);
    void doUpdateOperation(const Operation& op);
    bool readOp(const std::string& orchestrationID, const std::string& operationID, Operation& out);
    void doInsertNotifications(const std::vector<Notification>& ns);
    // Progress and window-move writes (the engine's most frequent, ~3.5 per operation) are queued
    // and written together: per orchestration one SELECT of the rows they name and one UPDATE of
    // them all, instead of a read and an UPDATE each (two round trips per write). Outside a commit
    // group the write that queued them writes them before its transaction commits; inside one
    // they wait until something else needs the rows: a read on this connection, another
    // operation write, commitGroup (flushPending). A queued write that names no operation fails
    // then, and with it the group, as it would have failed the group when it ran.
    struct PendingWrite {
        std::string orchestrationID;
        std::string operationID;
        bool move = false;  // rescheduleOperations; else updateOperationProgress
        OperationState state = OperationState::Pending;
        std::optional<std::string> description;
        Millis updatedAt = 0;
        std::optional<Millis> startedAt;
        std::optional<bool> upgradeStarted;
        std::optional<std::pair<Millis, Millis>> window;
        Millis startAt = 0;
    };
    void queueProgress(const std::string& orchestrationID, const ProgressChange& c);
    void queueMoves(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                    const std::string* description, Millis updatedAt);
    void writePending();  // in the open write transaction
    void dropPending();   // a group that ends without writing them
    void flushPending();  // before a read or another operation write: writePending in a writeTx
    bool appendPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out, bool mayAnchor);
    // The anchors of an orchestration's operations in the filter's states (`filter`: the SQL
    // condition, `mask`: the states as bits; "" and 0: all), taken on first use.
    std::shared_ptr<const PageAnchors::Anchors> pageAnchorsOf(const std::string& orchestrationID,
                                                              const std::string& filter, unsigned mask);

    PostgresOptions options_;
    std::shared_ptr<PageAnchors> anchors_;
    std::uint64_t anchoredPages_ = 0;
    std::uint64_t batchedWriteStatements_ = 0;
    std::unique_ptr<pg::Connection> conn_;
    mutable std::mutex fenceMu_;
    std::optional<std::int64_t> fence_;
    bool group_ = false, groupTx_ = false, groupFailed_ = false;
    std::vector<PendingWrite> pending_;
    std::unordered_set<std::string> pendingKeys_;  // pendingKey() of every queued write
    static std::string pendingKey(const std::string& orchestrationID, const std::string& operationID);
};

}  // namespace keb::server
