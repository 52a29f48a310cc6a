// Durable keb::Store on an embedded SQLite file (issue 4).
//
// - Schema versioned through the `schema_migrations` table; migrations run in order on open.
// - journal_mode=WAL; synchronous=FULL by default: every commit is fsynced before the call
//   returns, so an acknowledged write (a 202) survives kill -9 AND power loss. NORMAL (option)
//   survives kill -9 of the process but may lose the last commits on power loss; see docs/server.md.
// - Operations are stored in typed columns (fast restart: no JSON parsing per row); the
//   orchestration (few rows, nested parameters) as the store JSON of wire.h.
// - Per-state counters are kept by triggers in the same transaction, so totalCount and
//   operationStats cost O(states), not O(rows).
// One instance is used by one thread at a time (the engine thread); a second instance may
// open the same file read-only from another thread (WAL readers do not block the writer).
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/api.h"
#include "keb/store.h"
#include "page_anchors.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keb::server {

class SqliteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct SqliteOptions {
    bool synchronousFull = true;  // false: synchronous=NORMAL
    bool readOnly = false;
    int busyTimeoutMs = 5000;
    // Unfiltered operation pages past this many rows seek to the nearest remembered key (one per
    // stride) instead of letting SQLite's OFFSET walk every skipped row; 0: always OFFSET.
    int pageAnchorStride = 256;
    std::shared_ptr<PageAnchors> pageAnchors;  // null: this connection keeps its own
};

class SqliteStore : public Store, public OperationPageSource {
public:
    // Opens (creating if needed) and migrates the database. Throws SqliteError with the path
    // and SQLite's message on failure.
    explicit SqliteStore(const std::string& path, SqliteOptions options = {});
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    void insertOrchestration(const Orchestration& o) override;
    void updateOrchestration(const Orchestration& o) override;
    std::optional<Orchestration> getOrchestration(const std::string& id) override;
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override;
    std::vector<Orchestration> unfinishedOrchestrations() override;
    void insertOperations(const std::vector<Operation>& ops) override;
    void updateOperations(const std::vector<Operation>& ops) override;
    void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) override;
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override;
    std::optional<Operation> getOperation(const std::string& orchestrationID, const std::string& operationID) override;
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) override;
    void forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                 const std::function<void(const Operation&)>& fn) override;
    // Streams the new rows into one transaction (no vector of all of them).
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override;
    // Every part in one transaction (one commit, one fsync).
    void apply(const WriteBatch& batch) override;
    // SPEC 14 outbox (migration 5).
    std::vector<Notification> pendingNotifications(std::size_t limit) override;
    void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) override;
    std::int64_t pendingNotificationCount() override;
    // From the per-state counters, in one read snapshot.
    StateCounts stateCounts() override;
    OperationPageSource* pageSource() override { return this; }

    // The operations page as wire JSON, rendered straight from the row columns (the GET fast
    // path: no Operation copies, no JSON DOM). Same bytes as dumpWire(pageJson(listOperations)).
    bool appendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) override;
    // GET /orchestrations/{id} from the pre-rendered wire column (migration 2) and the counters.
    Render appendOrchestration(const std::string& orchestrationID, std::string& out) override;

    // Extras for the server (metrics) and tests.
    std::map<OrchestrationState, std::int64_t> orchestrationCountsByState();
    std::map<OperationState, std::int64_t> operationCountsByState();
    int schemaVersion();
    // A passive checkpoint: true when it copied every WAL frame into the database (no reader
    // holds an older snapshot).
    bool checkpointAll();
    // Between two uses of a reader connection (the reader pool): resets the statements a failed
    // read left on a row and rolls back a transaction left open, so no old read snapshot stays
    // pinned (it would keep the WAL from being checkpointed). Cheap when there is none: it looks
    // only at the statements SQLite reports busy. Never call it inside a commit group.
    void endAbandonedReads();
    // Only the statements SQLite reports busy (a read that stopped on a row); keeps a held snapshot.
    void resetBusyStatements();
    // A read snapshot kept open across calls on a read-only connection (the reader pool, issue 15):
    // begins one tagged `tag` (the server's cache generation, read before this call; never 0).
    // Every read until endAbandonedReads() sees that snapshot. heldSnapshot(): its tag, 0 if none.
    void holdSnapshot(std::uint64_t tag);
    std::uint64_t heldSnapshot() const { return heldTag_; }
    std::chrono::steady_clock::time_point heldSince() const { return heldSince_; }
    const std::string& path() const { return path_; }
    // Pages this connection answered from a remembered key (pageAnchorStride), for tests and metrics.
    std::uint64_t anchoredPages() const { return anchoredPages_; }

    // Group commit (issue 15): between beginGroup() and commitGroup() every write (each still
    // all-or-nothing, as a savepoint) goes into ONE transaction, committed (and fsynced) by
    // commitGroup(), which throws when it cannot commit. The server's engine loop groups what
    // one engine tick writes and acknowledges none of it before commitGroup() returns.
    void beginGroup();
    void commitGroup();

private:
    class Stmt;
    Stmt& stmt(const std::string& sql);
    void exec(const char* sql);
    void migrate();
    void begin();
    void commit();
    void rollback();
    bool readBegin();
    void readEnd(bool began);
    void readAbort(bool began);
    void doInsertOrchestration(const Orchestration& o);
    void doUpdateOrchestration(const Orchestration& o);
    void doInsertOperations(const std::vector<Operation>& ops);
    void doInsertOperationStream(const std::function<bool(Operation&)>& next, const std::vector<Operation>* batch);
    void doUpdateOperation(const Operation& op);
    void doUpdateOperationProgress(const Operation& op);  // the columns progress and moves change
    void doUpdateOperationProgress(const std::string& orchestrationID, const ProgressChange& c);
    Operation operationToChange(const std::string& orchestrationID, const std::string& operationID);
    void runOperationUpdate(Stmt& s, const Operation& op);  // binds wire and the key, runs, checks the row existed
    bool doAppendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out);
    bool appendRenderedPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out,
                            bool mayAnchor = true);
    Stmt& pageStmt(std::size_t states);   // the one-statement page, by the number of filtered states
    Stmt& totalStmt(std::size_t states);  // existence and totalCount, by the number of filtered states
    // Deep pages (see PageAnchors): the anchors of an orchestration's operations in the states
    // `codes` (ascending; empty: all; `mask`: the same as bits), taken on first use.
    std::shared_ptr<const PageAnchors::Anchors> pageAnchors(const std::string& orchestrationID,
                                                            const std::vector<int>& codes, unsigned mask);
    [[noreturn]] void fail(const std::string& what);

    std::string path_;
    SqliteOptions options_;
    sqlite3* db_ = nullptr;
    std::map<std::string, std::unique_ptr<Stmt>> stmts_;
    // The GET page's statements (owned by stmts_), found without building and looking up their SQL.
    static constexpr std::size_t kFilterSlots = 6;  // 0..5 distinct operation states in the filter
    std::array<Stmt*, kFilterSlots> pageStmts_{};
    std::array<Stmt*, kFilterSlots> totalStmts_{};
    std::shared_ptr<PageAnchors> anchors_;
    std::uint64_t anchoredPages_ = 0;
    bool group_ = false;    // inside beginGroup .. commitGroup
    bool groupTx_ = false;  // the group's transaction is open (its first write began it)
    std::uint64_t heldTag_ = 0;  // holdSnapshot's tag while its transaction is open
    std::chrono::steady_clock::time_point heldSince_{};
    std::string wireBuf_;  // an operation's rendered list item, bound while its row is written
};

}  // namespace keb::server
