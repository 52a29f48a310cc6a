#include "sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <utility>

#include "keb/wire.h"

namespace keb::server {

// A prepared statement, reset and cleared on every use.
class SqliteStore::Stmt {
public:
    Stmt(sqlite3* db, const std::string& sql) : db_(db) {
        if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
            throw SqliteError("sqlite prepare failed: " + std::string(sqlite3_errmsg(db)) + " in: " + sql);
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt& reset() {
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        idx_ = 0;
        return *this;
    }
    Stmt& bind(std::int64_t v) {
        check(sqlite3_bind_int64(s_, ++idx_, v));
        return *this;
    }
    Stmt& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
    Stmt& bind(bool v) { return bind(static_cast<std::int64_t>(v ? 1 : 0)); }
    Stmt& bind(const std::string& v) {
        check(sqlite3_bind_text(s_, ++idx_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
        return *this;
    }
    // Binds without copying: v must stay alive and unchanged until the statement has run.
    Stmt& bindRef(const std::string& v) {
        check(sqlite3_bind_text(s_, ++idx_, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
        return *this;
    }
    Stmt& bindNull() {
        check(sqlite3_bind_null(s_, ++idx_));
        return *this;
    }
    // true: a row is available.
    bool step() {
        int rc = sqlite3_step(s_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        std::string msg = sqlite3_errmsg(db_);
        sqlite3_reset(s_);
        throw SqliteError("sqlite step failed: " + msg);
    }
    void run() {
        while (step()) {
        }
    }
    std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
    // Valid until the next step/reset.
    std::string_view view(int col) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
        int n = sqlite3_column_bytes(s_, col);
        return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
    }
    bool isNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
    std::string text(int col) const {
        auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
        int n = sqlite3_column_bytes(s_, col);
        return p ? std::string(p, static_cast<std::size_t>(n)) : std::string();
    }
    int changes() const { return sqlite3_changes(db_); }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) throw SqliteError("sqlite bind failed: " + std::string(sqlite3_errmsg(db_)));
    }
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
    int idx_ = 0;
};

namespace {

// Stored state codes are positions in these arrays: append new states, never reorder.
constexpr std::array<OrchestrationState, 8> kOrchStates = {
    OrchestrationState::Pending,  OrchestrationState::InProgress, OrchestrationState::Canceling,
    OrchestrationState::Canceled, OrchestrationState::Retrying,   OrchestrationState::Succeeded,
    OrchestrationState::Failed,   OrchestrationState::Paused};  // 7: SPEC 10
static_assert(kOrchStates.size() == kOrchestrationStateCount, "a new orchestration state needs a stored code");
constexpr std::array<OperationState, 5> kOpStates = {OperationState::Pending, OperationState::InProgress,
                                                     OperationState::Succeeded, OperationState::Failed,
                                                     OperationState::Canceled};

// Migrations, applied in order; never edit a released one, append a new one.
const char* const kMigrations[] = {
    // 1: initial schema
    R"SQL(
CREATE TABLE orchestrations (
  id          TEXT PRIMARY KEY,
  seq         INTEGER NOT NULL,
  created_at  INTEGER NOT NULL,
  state       INTEGER NOT NULL,
  data        TEXT NOT NULL
);
CREATE INDEX orchestrations_order ON orchestrations(created_at, id);
CREATE INDEX orchestrations_state ON orchestrations(state, created_at, id);
CREATE TABLE operations (
  orchestration_id  TEXT NOT NULL REFERENCES orchestrations(id),
  id                TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  state             INTEGER NOT NULL,
  description       TEXT NOT NULL,
  runtime_id        TEXT NOT NULL,
  instance_id       TEXT NOT NULL,
  global_account_id TEXT NOT NULL,
  sub_account_id    TEXT NOT NULL,
  service_plan_id   TEXT NOT NULL,
  service_plan_name TEXT NOT NULL,
  region            TEXT NOT NULL,
  shoot_name        TEXT NOT NULL,
  dry_run           INTEGER NOT NULL,
  mw_begin          INTEGER NOT NULL,
  mw_end            INTEGER NOT NULL,
  start_at          INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  upgrade_started   INTEGER NOT NULL,
  immediate         INTEGER NOT NULL,
  retry_of          TEXT NOT NULL,
  config_kind       INTEGER NOT NULL,  -- 0 none, 1 kymaConfig, 2 clusterConfig
  config_a          TEXT NOT NULL,     -- kyma version | kubernetesVersion
  config_b          TEXT NOT NULL,     -- machineImage
  config_c          TEXT NOT NULL,     -- machineImageVersion
  -- Clustered in list order: a page or all operations of an orchestration is a range scan.
  PRIMARY KEY (orchestration_id, created_at, seq, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX operations_id ON operations(orchestration_id, id);
CREATE INDEX operations_state ON operations(orchestration_id, state, created_at, seq, id);
CREATE TABLE orchestration_counts (state INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE operation_counts (
  orchestration_id TEXT NOT NULL, state INTEGER NOT NULL, n INTEGER NOT NULL,
  PRIMARY KEY (orchestration_id, state)) WITHOUT ROWID;
CREATE TRIGGER orchestrations_ins AFTER INSERT ON orchestrations BEGIN
  INSERT INTO orchestration_counts(state, n) VALUES (NEW.state, 1)
    ON CONFLICT(state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER orchestrations_upd AFTER UPDATE OF state ON orchestrations WHEN OLD.state <> NEW.state BEGIN
  UPDATE orchestration_counts SET n = n - 1 WHERE state = OLD.state;
  INSERT INTO orchestration_counts(state, n) VALUES (NEW.state, 1)
    ON CONFLICT(state) DO UPDATE SET n = n + 1;
END;
-- Inserted operations are counted by the store per batch (one upsert per orchestration and
-- state, not one per row); state changes by this trigger.
CREATE TRIGGER operations_upd AFTER UPDATE OF state ON operations WHEN OLD.state <> NEW.state BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n) VALUES (NEW.orchestration_id, NEW.state, 1)
    ON CONFLICT(orchestration_id, state) DO UPDATE SET n = n + 1;
END;
)SQL",
    // 2: the wire JSON of each orchestration (without operationStats) and where the stats go,
    // written with every insert/update, so GET /orchestrations/{id} needs no JSON parsing.
    // Rows written before this migration have NULL there and are served through the JSON path.
    R"SQL(
ALTER TABLE orchestrations ADD COLUMN wire TEXT;
ALTER TABLE orchestrations ADD COLUMN wire_split INTEGER;
)SQL",
    // 3: the wire JSON of each operation (its list item), written with every insert/update, so a
    // page is a concatenation. Rows written before have NULL (pages with such rows are rendered
    // from the columns).
    R"SQL(
ALTER TABLE operations ADD COLUMN wire TEXT;
)SQL",
    // 4 (SPEC 10): the name of an operation's stage ('' when not staged: every older row). The
    // stage progress of an orchestration lives in its `data` JSON (rollout) and the paused state
    // is code 7 of `state`: neither needs a column.
    R"SQL(
ALTER TABLE operations ADD COLUMN stage TEXT NOT NULL DEFAULT '';
)SQL",
    // 5 (SPEC 14): the customer-notification outbox. A row is written in the transaction of the
    // state change that causes it and deleted once the sender delivered it; AUTOINCREMENT keeps
    // sequences from ever being reused. kind: 0 create, 1 start, 2 end, 3 cancel.
    R"SQL(
CREATE TABLE notification_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind INTEGER NOT NULL,
    orchestration_id TEXT NOT NULL,
    payload TEXT NOT NULL
);
)SQL",
    // 6 (issue 15, page speed): the same operations table with the rendered item (`wire`) stored
    // right after the key. A WITHOUT ROWID row is the key columns, then the other columns in the
    // order of the definition: reading `wire` of a page's rows no longer walks the record header
    // over the 24 columns before it (migrations 3 and 4 had appended it at the end). Every column,
    // index, trigger and row is kept as it was; the table is rebuilt once (about a second per
    // 100,000 operations).
    R"SQL(
CREATE TABLE operations_v6 (
  orchestration_id  TEXT NOT NULL REFERENCES orchestrations(id),
  id                TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  created_at        INTEGER NOT NULL,
  wire              TEXT,
  updated_at        INTEGER NOT NULL,
  state             INTEGER NOT NULL,
  description       TEXT NOT NULL,
  runtime_id        TEXT NOT NULL,
  instance_id       TEXT NOT NULL,
  global_account_id TEXT NOT NULL,
  sub_account_id    TEXT NOT NULL,
  service_plan_id   TEXT NOT NULL,
  service_plan_name TEXT NOT NULL,
  region            TEXT NOT NULL,
  shoot_name        TEXT NOT NULL,
  dry_run           INTEGER NOT NULL,
  mw_begin          INTEGER NOT NULL,
  mw_end            INTEGER NOT NULL,
  start_at          INTEGER NOT NULL,
  started_at        INTEGER NOT NULL,
  upgrade_started   INTEGER NOT NULL,
  immediate         INTEGER NOT NULL,
  retry_of          TEXT NOT NULL,
  config_kind       INTEGER NOT NULL,  -- 0 none, 1 kymaConfig, 2 clusterConfig
  config_a          TEXT NOT NULL,     -- kyma version | kubernetesVersion
  config_b          TEXT NOT NULL,     -- machineImage
  config_c          TEXT NOT NULL,     -- machineImageVersion
  stage             TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (orchestration_id, created_at, seq, id)
) WITHOUT ROWID;
INSERT INTO operations_v6 (orchestration_id, id, seq, created_at, wire, updated_at, state, description,
  runtime_id, instance_id, global_account_id, sub_account_id, service_plan_id, service_plan_name, region,
  shoot_name, dry_run, mw_begin, mw_end, start_at, started_at, upgrade_started, immediate, retry_of,
  config_kind, config_a, config_b, config_c, stage)
SELECT orchestration_id, id, seq, created_at, wire, updated_at, state, description,
  runtime_id, instance_id, global_account_id, sub_account_id, service_plan_id, service_plan_name, region,
  shoot_name, dry_run, mw_begin, mw_end, start_at, started_at, upgrade_started, immediate, retry_of,
  config_kind, config_a, config_b, config_c, stage FROM operations;
DROP TABLE operations;
ALTER TABLE operations_v6 RENAME TO operations;
CREATE UNIQUE INDEX operations_id ON operations(orchestration_id, id);
CREATE INDEX operations_state ON operations(orchestration_id, state, created_at, seq, id);
CREATE TRIGGER operations_upd AFTER UPDATE OF state ON operations WHEN OLD.state <> NEW.state BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n) VALUES (NEW.orchestration_id, NEW.state, 1)
    ON CONFLICT(orchestration_id, state) DO UPDATE SET n = n + 1;
END;
)SQL",
    // 7 (deep filtered pages, page_anchors.h): beside n, how many times an operation entered the
    // state (inserts included), never decreasing; the same counter row, updated by the same
    // statements. Only changes matter to its readers, so existing rows start at entered = n.
    R"SQL(
ALTER TABLE operation_counts ADD COLUMN entered INTEGER NOT NULL DEFAULT 0;
UPDATE operation_counts SET entered = n;
DROP TRIGGER operations_upd;
CREATE TRIGGER operations_upd AFTER UPDATE OF state ON operations WHEN OLD.state <> NEW.state BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n, entered) VALUES (NEW.orchestration_id, NEW.state, 1, 1)
    ON CONFLICT(orchestration_id, state) DO UPDATE SET n = n + 1, entered = entered + 1;
END;
)SQL",
};

const char* kOpColumns =
    "orchestration_id, id, seq, created_at, updated_at, state, description, runtime_id, instance_id, "
    "global_account_id, sub_account_id, service_plan_id, service_plan_name, region, shoot_name, dry_run, "
    "mw_begin, mw_end, start_at, started_at, upgrade_started, immediate, retry_of, config_kind, config_a, "
    "config_b, config_c, stage";

template <class S, std::size_t N>
int stateCode(const std::array<S, N>& all, S s) {
    for (std::size_t i = 0; i < N; ++i)
        if (all[i] == s) return static_cast<int>(i);
    return -1;
}
template <class S, std::size_t N>
S stateFrom(const std::array<S, N>& all, std::int64_t code) {
    if (code < 0 || code >= static_cast<std::int64_t>(N)) throw SqliteError("corrupt state code in store");
    return all[static_cast<std::size_t>(code)];
}

// "state IN (?,?,..)" for n distinct states; "" when n == 0.
std::string stateFilter(std::size_t n) {
    if (n == 0) return "";
    std::string s = " AND state IN (";
    for (std::size_t i = 0; i < n; ++i) s += i ? ",?" : "?";
    return s + ")";
}

template <class S>
std::vector<S> distinctStates(const std::vector<S>& in) {
    std::vector<S> out;
    for (S s : in)
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    return out;
}

}  // namespace

namespace {
// SQLite counts every allocation under one global mutex (memory statistics) unless told not to;
// with many HTTP threads reading at once that mutex is contended. Must run before the library
// initialises (the first open); if something initialised it already, the call fails harmlessly.
void configureSqliteOnce() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}
}  // namespace

SqliteStore::SqliteStore(const std::string& path, SqliteOptions options)
    : path_(path),
      options_(options),
      anchors_(options_.pageAnchors ? options_.pageAnchors : std::make_shared<PageAnchors>()) {
    configureSqliteOnce();
    int flags = options.readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError("cannot open SQLite store '" + path + "': " + msg);
    }
    sqlite3_busy_timeout(db_, options.busyTimeoutMs);
    sqlite3_exec(db_, "PRAGMA mmap_size=268435456", nullptr, nullptr, nullptr);  // reads without copies
    // Temporary b-trees (a multi-state deep page's merged keys and its sort) in memory, on read-only
    // connections too: in a temporary file they cost a read-only reader ~1 ms per such page.
    sqlite3_exec(db_, "PRAGMA temp_store=MEMORY", nullptr, nullptr, nullptr);
    try {
        if (!options.readOnly) {
            exec("PRAGMA journal_mode=WAL");
            exec(options.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
            exec("PRAGMA foreign_keys=ON");
            exec("PRAGMA cache_size=-65536");  // 64 MiB: a 100,000-operation batch stays in memory
            exec("PRAGMA temp_store=MEMORY");
            migrate();
        } else if (schemaVersion() < static_cast<int>(std::size(kMigrations))) {
            throw SqliteError("SQLite store '" + path + "' is not initialised (open it read-write first)");
        }
    } catch (...) {
        stmts_.clear();
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

SqliteStore::~SqliteStore() {
    stmts_.clear();
    if (db_) sqlite3_close(db_);
}

void SqliteStore::fail(const std::string& what) {
    throw SqliteError("SQLite store '" + path_ + "': " + what + ": " + sqlite3_errmsg(db_));
}

void SqliteStore::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw SqliteError("SQLite store '" + path_ + "': " + msg);
    }
}

SqliteStore::Stmt& SqliteStore::stmt(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it == stmts_.end()) it = stmts_.emplace(sql, std::make_unique<Stmt>(db_, sql)).first;
    return it->second->reset();
}

bool SqliteStore::checkpointAll() {
    int log = -1, copied = -1;
    const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    return rc == SQLITE_OK && log == copied;
}

void SqliteStore::resetBusyStatements() {
    for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s))
        if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
}

void SqliteStore::endAbandonedReads() {
    resetBusyStatements();
    heldTag_ = 0;
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteStore::holdSnapshot(std::uint64_t tag) {
    endAbandonedReads();
    // Deferred: the snapshot is taken by the first read, after the caller read its generation.
    stmt("BEGIN").run();
    heldTag_ = tag;
    heldSince_ = std::chrono::steady_clock::now();
}

int SqliteStore::schemaVersion() {
    auto& has = stmt("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'");
    has.step();
    const bool exists = has.i64(0) != 0;
    has.reset();  // a statement left on a row would pin this connection's read snapshot
    if (!exists) return 0;
    auto& s = stmt("SELECT coalesce(max(version), 0) FROM schema_migrations");
    s.step();
    const int v = static_cast<int>(s.i64(0));
    s.reset();
    return v;
}

void SqliteStore::migrate() {
    exec("BEGIN IMMEDIATE");
    try {
        exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
        int have = schemaVersion();
        const int known = static_cast<int>(std::size(kMigrations));
        if (have > known)
            throw SqliteError("SQLite store '" + path_ + "' has schema version " + std::to_string(have) +
                              ", newer than this keb-server knows (" + std::to_string(known) + ")");
        for (int v = have + 1; v <= known; ++v) {
            exec(kMigrations[v - 1]);
            stmt("INSERT INTO schema_migrations(version, applied_at) VALUES (?, datetime('now'))").bind(v).run();
        }
        exec("COMMIT");
        // A migration of existing data (6 rewrites the operations table) leaves a WAL as large as
        // what it wrote: copy it into the database now and truncate it. The pages the old table
        // used stay in the file as free pages, which later writes reuse.
        if (have > 0 && have < known) sqlite3_exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        stmts_.clear();
        throw;
    }
}

// Inside a commit group (beginGroup .. commitGroup) every write is a savepoint of the group's one
// transaction, which the first write opens: a failed write still rolls back alone, and nothing of
// the group is durable (or visible to other connections) before commitGroup.
void SqliteStore::begin() {
    if (!group_) {
        stmt("BEGIN IMMEDIATE").run();
        return;
    }
    if (!groupTx_) {
        stmt("BEGIN IMMEDIATE").run();
        groupTx_ = true;
    }
    stmt("SAVEPOINT keb_write").run();
}
void SqliteStore::commit() { stmt(group_ ? "RELEASE keb_write" : "COMMIT").run(); }
void SqliteStore::rollback() {
    if (sqlite3_get_autocommit(db_)) return;  // no transaction (SQLite may have rolled it back itself)
    if (group_) {
        sqlite3_exec(db_, "ROLLBACK TO keb_write; RELEASE keb_write", nullptr, nullptr, nullptr);
    } else {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void SqliteStore::beginGroup() {
    if (group_) throw SqliteError("SQLite store '" + path_ + "': commit group already open");
    group_ = true;
    groupTx_ = false;
}

void SqliteStore::commitGroup() {
    if (!group_) return;
    group_ = false;
    if (!groupTx_) return;  // nothing was written
    groupTx_ = false;
    // An I/O error or a full disk may make SQLite roll the whole transaction back: then writes the
    // engine believes done are gone, and nothing of the group may be acknowledged.
    if (sqlite3_get_autocommit(db_)) throw SqliteError("SQLite store '" + path_ + "': the group's transaction was rolled back");
    try {
        stmt("COMMIT").run();
    } catch (...) {
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

// A read snapshot: BEGIN unless a transaction (a commit group's) is already open on this
// connection, which is a snapshot already. Returns whether it began one.
bool SqliteStore::readBegin() {
    if (!sqlite3_get_autocommit(db_)) return false;
    stmt("BEGIN").run();
    return true;
}
void SqliteStore::readEnd(bool began) {
    if (began) stmt("COMMIT").run();
}
void SqliteStore::readAbort(bool began) {
    if (began && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// Runs f inside one transaction; rolls back and rethrows on error.
#define KEB_TX(body)          \
    do {                      \
        begin();              \
        try {                 \
            body;             \
            commit();         \
        } catch (...) {       \
            rollback();       \
            throw;            \
        }                     \
    } while (0)

namespace {
// The orchestration's pre-rendered GET /orchestrations/{id} text (migration 2), or none (NULL)
// for a staged one: its answer adds `stages`, counted from its operations at read time, which only
// the JSON path renders (appendOrchestration answers Unavailable for a NULL wire).
struct OrchestrationWire {
    explicit OrchestrationWire(const Orchestration& o) {
        if (o.parameters.strategy.stages.empty()) text = orchestrationWireText(o, &split);
    }
    template <class S>
    void bind(S& s) const {
        if (split == 0) s.bindNull().bindNull();
        else s.bindRef(text).bind(static_cast<std::int64_t>(split));
    }
    std::string text;
    std::size_t split = 0;
};
}  // namespace

void SqliteStore::doInsertOrchestration(const Orchestration& o) {
    const OrchestrationWire wire(o);
    const std::string data = toStoreJson(o).dump();
    auto& s = stmt(
        "INSERT INTO orchestrations(id, seq, created_at, state, data, wire, wire_split) VALUES (?,?,?,?,?,?,?)");
    s.bind(o.orchestrationID).bind(o.seq).bind(o.createdAt).bind(stateCode(kOrchStates, o.state)).bindRef(data);
    wire.bind(s);
    s.run();
}

void SqliteStore::doUpdateOrchestration(const Orchestration& o) {
    const OrchestrationWire wire(o);
    const std::string data = toStoreJson(o).dump();
    auto& s = stmt("UPDATE orchestrations SET seq=?, created_at=?, state=?, data=?, wire=?, wire_split=? WHERE id=?");
    s.bind(o.seq).bind(o.createdAt).bind(stateCode(kOrchStates, o.state)).bindRef(data);
    wire.bind(s);
    s.bind(o.orchestrationID);
    s.run();
    if (s.changes() == 0) throw SqliteError("no orchestration " + o.orchestrationID);
}

namespace {
template <class S>
void bindOperationBody(S& s, const Operation& op, int stateCodeValue) {
    int kind = 0;
    std::string a, b, c;
    if (op.kymaConfig) {
        kind = 1;
        a = op.kymaConfig->version;
    } else if (op.clusterConfig) {
        kind = 2;
        a = op.clusterConfig->kubernetesVersion;
        b = op.clusterConfig->machineImage;
        c = op.clusterConfig->machineImageVersion;
    }
    // op outlives the statement's run (the caller runs it before returning): bind without copies.
    s.bind(op.seq).bind(op.createdAt).bind(op.updatedAt).bind(stateCodeValue).bindRef(op.description)
        .bindRef(op.runtimeID).bindRef(op.instanceID).bindRef(op.globalAccountID).bindRef(op.subAccountID)
        .bindRef(op.servicePlanID).bindRef(op.servicePlanName).bindRef(op.region).bindRef(op.shootName).bind(op.dryRun)
        .bind(op.maintenanceWindowBegin).bind(op.maintenanceWindowEnd).bind(op.startAt).bind(op.startedAt)
        .bind(op.upgradeStarted).bind(op.immediate).bindRef(op.retryOf).bind(kind).bind(a).bind(b).bind(c).bindRef(op.stage);
}
}  // namespace

void SqliteStore::doInsertOperations(const std::vector<Operation>& ops) {
    if (ops.empty()) return;
    doInsertOperationStream({}, &ops);
}

// Inserts operations one at a time (rows are bound without copies), then one counter upsert per
// (orchestration, state). With `batch` set, next() is not used: the vector's elements are bound
// in place.
void SqliteStore::doInsertOperationStream(const std::function<bool(Operation&)>& next,
                                          const std::vector<Operation>* batch) {
    auto& s = stmt(std::string("INSERT INTO operations(") + kOpColumns +
                   ", wire) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    std::map<std::pair<std::string, int>, std::int64_t> counts;
    auto insertOne = [&](const Operation& op) {
        const int code = stateCode(kOpStates, op.state);
        s.reset().bindRef(op.orchestrationID).bindRef(op.operationID);
        bindOperationBody(s, op, code);
        wireBuf_.clear();
        appendOperationItem(wireBuf_, itemView(op));
        s.bindRef(wireBuf_);  // runs before the next render
        s.run();
        auto it = counts.find({op.orchestrationID, code});
        if (it == counts.end()) counts.emplace(std::make_pair(op.orchestrationID, code), 1);
        else ++it->second;
    };
    if (batch) {
        for (const auto& op : *batch) insertOne(op);
    } else {
        for (Operation op; next(op); op = Operation{}) insertOne(op);
    }
    auto& c = stmt(
        "INSERT INTO operation_counts(orchestration_id, state, n, entered) VALUES (?1,?2,?3,?3) "
        "ON CONFLICT(orchestration_id, state) DO UPDATE SET n = n + excluded.n, entered = entered + excluded.n");
    for (const auto& [key, n] : counts) c.reset().bind(key.first).bind(key.second).bind(n).run();
}

void SqliteStore::doUpdateOperation(const Operation& op) {
    auto& s = stmt(
        "UPDATE operations SET seq=?, created_at=?, updated_at=?, state=?, description=?, runtime_id=?, "
        "instance_id=?, global_account_id=?, sub_account_id=?, service_plan_id=?, service_plan_name=?, region=?, "
        "shoot_name=?, dry_run=?, mw_begin=?, mw_end=?, start_at=?, started_at=?, upgrade_started=?, immediate=?, "
        "retry_of=?, config_kind=?, config_a=?, config_b=?, config_c=?, stage=?, wire=? WHERE orchestration_id=? AND id=?");
    bindOperationBody(s, op, stateCode(kOpStates, op.state));
    runOperationUpdate(s, op);
}

// The end every UPDATE of an operation row shares: its rendered item (the `wire` column, bound
// last among the SET values) and its key, run, and an unknown operation is an error.
void SqliteStore::runOperationUpdate(Stmt& s, const Operation& op) {
    wireBuf_.clear();
    appendOperationItem(wireBuf_, itemView(op));
    s.bindRef(wireBuf_).bindRef(op.orchestrationID).bindRef(op.operationID);
    s.run();
    if (s.changes() == 0) throw SqliteError("no operation " + op.operationID + " in orchestration " + op.orchestrationID);
}

// The engine's progress and window moves change only these columns (Store::applyProgress,
// applySchedule), never the key. Naming only them matters for speed: SQLite rewrites every index
// holding a column named in SET, and for this WITHOUT ROWID table naming seq or created_at (key
// columns) deletes and re-inserts the row and its entry in operations_id, an index ordered by a
// random UUID, so every such write dirtied one more page of its own (issue 15, group commit).
void SqliteStore::doUpdateOperationProgress(const Operation& op) {
    auto& s = stmt(
        "UPDATE operations SET updated_at=?, state=?, description=?, mw_begin=?, mw_end=?, start_at=?, started_at=?, "
        "upgrade_started=?, wire=? WHERE orchestration_id=? AND id=?");
    s.bind(op.updatedAt).bind(stateCode(kOpStates, op.state)).bindRef(op.description).bind(op.maintenanceWindowBegin)
        .bind(op.maintenanceWindowEnd).bind(op.startAt).bind(op.startedAt).bind(op.upgradeStarted);
    runOperationUpdate(s, op);
}

// The stored operation a progress change or a window move starts from (rows keep the operation's
// rendered JSON, so a partial change still renders the whole operation).
Operation SqliteStore::operationToChange(const std::string& orchestrationID, const std::string& operationID) {
    std::optional<Operation> op = getOperation(orchestrationID, operationID);
    if (!op) throw SqliteError("no operation " + operationID + " in orchestration " + orchestrationID);
    return std::move(*op);
}

void SqliteStore::doUpdateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    Operation op = operationToChange(orchestrationID, c.operationID);
    applyProgress(c, op);
    doUpdateOperationProgress(op);
}

void SqliteStore::insertOrchestration(const Orchestration& o) { KEB_TX(doInsertOrchestration(o)); }
void SqliteStore::updateOrchestration(const Orchestration& o) { KEB_TX(doUpdateOrchestration(o)); }

void SqliteStore::insertOperations(const std::vector<Operation>& ops) {
    if (ops.empty()) return;
    KEB_TX(doInsertOperations(ops));
}

void SqliteStore::updateOperations(const std::vector<Operation>& ops) {
    if (ops.empty()) return;
    KEB_TX(for (const auto& op : ops) doUpdateOperation(op));
}

// Read, change and write back in one transaction.
void SqliteStore::updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    KEB_TX(doUpdateOperationProgress(orchestrationID, c));
}

void SqliteStore::updateOrchestrationAddingOperations(const Orchestration& o,
                                                      const std::function<bool(Operation&)>& next) {
    KEB_TX({
        doInsertOperationStream(next, nullptr);
        doUpdateOrchestration(o);
    });
}

void SqliteStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                    const std::vector<Operation>& updated) {
    KEB_TX({
        doInsertOperations(inserted);
        for (const auto& op : updated) doUpdateOperation(op);
        doUpdateOrchestration(o);
    });
}

// Progress and moves read the row and write back the columns they change with its rendered item,
// as updateOperationProgress does.
void SqliteStore::apply(const WriteBatch& b) {
    if (b.empty()) return;
    KEB_TX({
        for (const Orchestration& o : b.insertedOrchestrations) doInsertOrchestration(o);
        doInsertOperations(b.insertedOperations);
        if (b.operationSource) doInsertOperationStream(b.operationSource, nullptr);
        for (const Operation& op : b.updatedOperations) doUpdateOperation(op);
        for (const WriteBatch::Moves& mv : b.moves) {
            const std::string* description = mv.description ? &*mv.description : nullptr;
            for (const ScheduleChange& c : mv.changes) {
                Operation op = operationToChange(mv.orchestrationID, c.operationID);
                applySchedule(c, description, mv.updatedAt, op);
                doUpdateOperationProgress(op);
            }
        }
        for (const WriteBatch::Progress& p : b.progress) doUpdateOperationProgress(p.orchestrationID, p.change);
        for (const Orchestration& o : b.updatedOrchestrations) doUpdateOrchestration(o);
        for (const Notification& n : b.notifications)
            stmt("INSERT INTO notification_outbox(kind, orchestration_id, payload) VALUES (?, ?, ?)")
                .bind(static_cast<int>(n.kind))
                .bind(n.orchestrationID)
                .bind(n.payload)
                .run();
    });
}

std::vector<Notification> SqliteStore::pendingNotifications(std::size_t limit) {
    auto& s = stmt("SELECT seq, kind, orchestration_id, payload FROM notification_outbox ORDER BY seq LIMIT ?");
    s.bind(static_cast<std::int64_t>(limit));
    std::vector<Notification> out;
    while (s.step()) {
        Notification& n = out.emplace_back();
        n.sequence = s.i64(0);
        const std::int64_t kind = s.i64(1);
        if (kind < 0 || kind > 3) {
            s.reset();
            throw SqliteError("corrupt notification kind in store");
        }
        n.kind = static_cast<Notification::Kind>(kind);
        n.orchestrationID = s.text(2);
        n.payload = s.text(3);
    }
    return out;
}

void SqliteStore::markNotificationsDelivered(const std::vector<std::int64_t>& sequences) {
    if (sequences.empty()) return;
    KEB_TX({
        for (std::int64_t seq : sequences) stmt("DELETE FROM notification_outbox WHERE seq=?").bind(seq).run();
    });
}

std::int64_t SqliteStore::pendingNotificationCount() {
    auto& s = stmt("SELECT count(*) FROM notification_outbox");
    s.step();
    const std::int64_t n = s.i64(0);
    s.reset();
    return n;
}

namespace {
Orchestration readOrchestration(const std::string& data) {
    return orchestrationFromStoreJson(Json::parse(data));
}
}  // namespace

std::optional<Orchestration> SqliteStore::getOrchestration(const std::string& id) {
    auto& s = stmt("SELECT data FROM orchestrations WHERE id=?");
    s.bind(id);
    if (!s.step()) return std::nullopt;
    std::string data = s.text(0);
    s.reset();
    return readOrchestration(data);
}

Page<Orchestration> SqliteStore::listOrchestrations(const OrchestrationQuery& q) {
    const auto states = distinctStates(q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    Page<Orchestration> out;
    {
        std::string sql = "SELECT coalesce(sum(n),0) FROM orchestration_counts WHERE 1";
        auto& c = stmt(sql + stateFilter(states.size()));
        for (auto st : states) c.bind(stateCode(kOrchStates, st));
        c.step();
        out.totalCount = c.i64(0);
        c.reset();
    }
    if (offset < out.totalCount) {
        std::string sql = "SELECT data FROM orchestrations WHERE 1" + stateFilter(states.size()) +
                          " ORDER BY created_at, id LIMIT ? OFFSET ?";
        auto& s = stmt(sql);
        for (auto st : states) s.bind(stateCode(kOrchStates, st));
        s.bind(size).bind(offset);
        std::vector<std::string> rows;
        while (s.step()) rows.push_back(s.text(0));
        for (const auto& r : rows) out.data.push_back(readOrchestration(r));
    }
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Orchestration> SqliteStore::unfinishedOrchestrations() {
    // Every state but the final ones: a paused orchestration (SPEC 10) is taken up again too.
    auto& s = stmt("SELECT data FROM orchestrations WHERE state IN (?,?,?,?,?) ORDER BY created_at, id");
    s.bind(stateCode(kOrchStates, OrchestrationState::Pending))
        .bind(stateCode(kOrchStates, OrchestrationState::InProgress))
        .bind(stateCode(kOrchStates, OrchestrationState::Canceling))
        .bind(stateCode(kOrchStates, OrchestrationState::Retrying))
        .bind(stateCode(kOrchStates, OrchestrationState::Paused));
    std::vector<std::string> rows;
    while (s.step()) rows.push_back(s.text(0));
    std::vector<Orchestration> out;
    out.reserve(rows.size());
    for (const auto& r : rows) out.push_back(readOrchestration(r));
    return out;
}

namespace {
template <class S>
Operation rowToOperation(const S& s) {
    Operation op;
    op.orchestrationID = s.text(0);
    op.operationID = s.text(1);
    op.seq = s.i64(2);
    op.createdAt = s.i64(3);
    op.updatedAt = s.i64(4);
    op.state = stateFrom(kOpStates, s.i64(5));
    op.description = s.text(6);
    op.runtimeID = s.text(7);
    op.instanceID = s.text(8);
    op.globalAccountID = s.text(9);
    op.subAccountID = s.text(10);
    op.servicePlanID = s.text(11);
    op.servicePlanName = s.text(12);
    op.region = s.text(13);
    op.shootName = s.text(14);
    op.dryRun = s.i64(15) != 0;
    op.maintenanceWindowBegin = s.i64(16);
    op.maintenanceWindowEnd = s.i64(17);
    op.startAt = s.i64(18);
    op.startedAt = s.i64(19);
    op.upgradeStarted = s.i64(20) != 0;
    op.immediate = s.i64(21) != 0;
    op.retryOf = s.text(22);
    switch (s.i64(23)) {
        case 1: op.kymaConfig = KymaParams{s.text(24)}; break;
        case 2: op.clusterConfig = KubernetesParams{s.text(24), s.text(25), s.text(26)}; break;
        default: break;
    }
    op.stage = s.text(27);
    return op;
}
}  // namespace

std::optional<Operation> SqliteStore::getOperation(const std::string& orchestrationID, const std::string& operationID) {
    auto& s = stmt(std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=? AND id=?");
    s.bind(orchestrationID).bind(operationID);
    if (!s.step()) return std::nullopt;
    Operation op = rowToOperation(s);
    s.reset();
    return op;
}

Page<Operation> SqliteStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    const auto states = distinctStates(q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    Page<Operation> out;
    {
        auto& c = stmt("SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=?" +
                       stateFilter(states.size()));
        c.bind(orchestrationID);
        for (auto st : states) c.bind(stateCode(kOpStates, st));
        c.step();
        out.totalCount = c.i64(0);
        c.reset();
    }
    if (offset < out.totalCount) {
        auto& s = stmt(std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=?" +
                       stateFilter(states.size()) + " ORDER BY created_at, seq, id LIMIT ? OFFSET ?");
        s.bind(orchestrationID);
        for (auto st : states) s.bind(stateCode(kOpStates, st));
        s.bind(size).bind(offset);
        while (s.step()) out.data.push_back(rowToOperation(s));
    }
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Operation> SqliteStore::operationsOf(const std::string& orchestrationID) {
    auto& s = stmt(std::string("SELECT ") + kOpColumns +
                   " FROM operations WHERE orchestration_id=? ORDER BY created_at, seq, id");
    s.bind(orchestrationID);
    std::vector<Operation> out;
    while (s.step()) out.push_back(rowToOperation(s));
    return out;
}

void SqliteStore::forEachOperation(const std::string& orchestrationID,
                                   const std::function<void(const Operation&)>& fn) {
    auto& s = stmt(std::string("SELECT ") + kOpColumns +
                   " FROM operations WHERE orchestration_id=? ORDER BY created_at, seq, id");
    s.bind(orchestrationID);
    try {
        while (s.step()) fn(rowToOperation(s));
    } catch (...) {
        s.reset();
        throw;
    }
}

void SqliteStore::forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                          const std::function<void(const Operation&)>& fn) {
    auto& s = stmt(std::string("SELECT ") + kOpColumns +
                   " FROM operations WHERE orchestration_id=? AND state=? ORDER BY created_at, seq, id");
    s.bind(orchestrationID).bind(stateCode(kOpStates, state));
    try {
        while (s.step()) fn(rowToOperation(s));
    } catch (...) {
        s.reset();
        throw;
    }
}

bool SqliteStore::appendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) {
    const std::size_t start = out.size();
    // The common page in one statement: one snapshot by itself (its own outside a transaction,
    // no BEGIN/COMMIT; else the open one's: a commit group's or a held read snapshot).
    try {
        if (appendRenderedPage(orchestrationID, q, out)) return true;
    } catch (...) {
        out.resize(start);
        if (heldTag_ != 0) endAbandonedReads();  // the next lease starts a new snapshot
        throw;
    }
    out.resize(start);
    // One read transaction: existence, totalCount and the rows come from one snapshot even while
    // the engine commits.
    const bool began = readBegin();
    try {
        const bool found = doAppendOperationPage(orchestrationID, q, out);
        readEnd(began);
        return found;
    } catch (...) {
        readAbort(began);
        out.resize(start);
        if (heldTag_ != 0) endAbandonedReads();
        throw;
    }
}

SqliteStore::Stmt& SqliteStore::pageStmt(std::size_t states) {
    Stmt*& s = pageStmts_.at(states);
    if (!s) {
        // The total is an uncorrelated subquery: SQLite computes it once per run, from the same
        // snapshot as the rows.
        s = &stmt("SELECT wire, (SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=?" +
                  stateFilter(states) + ") FROM operations WHERE orchestration_id=?" + stateFilter(states) +
                  " ORDER BY created_at, seq, id LIMIT ? OFFSET ?");
    }
    return s->reset();
}

SqliteStore::Stmt& SqliteStore::totalStmt(std::size_t states) {
    Stmt*& s = totalStmts_.at(states);
    if (!s) {
        s = &stmt("SELECT (SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=?" +
                  stateFilter(states) + ") FROM orchestrations WHERE id=?");
    }
    return s->reset();
}

namespace {
// " AND state IN (2,4)" with the codes as literals ("" for none).
std::string literalStateFilter(const std::vector<int>& codes) {
    if (codes.empty()) return "";
    std::string s = " AND state IN (";
    for (std::size_t i = 0; i < codes.size(); ++i) s += (i ? "," : "") + std::to_string(codes[i]);
    return s + ")";
}

// The counters beside the rows, from the same snapshot: the total and, for a filter, the sum of
// its states' `entered` (migration 7): the validity token of anchors (page_anchors.h).
std::string anchorCountersSql(const std::vector<int>& codes) {
    const std::string filter = literalStateFilter(codes);
    std::string s = "(SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=?1" + filter + ")";
    if (!codes.empty())
        s += ", (SELECT coalesce(sum(entered),0) FROM operation_counts WHERE orchestration_id=?1" + filter + ")";
    return s;
}

// A page from an anchor: ?1 orchestration, ?2..?4 the anchor's key, ?5 page size, ?6 rows to skip.
// One state: a seek in operations_state. Several: one seek per state in operations_state (which
// covers the key), merged in list order by SQLite's MERGE (UNION ALL), each arm read only as far
// as the LIMIT needs; then only the page's rows are looked up for their item. (Without the arms
// SQLite walks the primary key from the anchor and tests each row's state, as many rows as the
// other states hold in between; arms that read `wire` themselves look up every skipped row too.)
std::string anchoredPageSql(const std::vector<int>& codes) {
    const char* from = " AND (created_at, seq, id) >= (?2, ?3, ?4)";
    const char* page = " ORDER BY created_at, seq, id LIMIT ?5 OFFSET ?6";
    if (codes.size() <= 1)
        return "SELECT wire, " + anchorCountersSql(codes) + " FROM operations WHERE orchestration_id=?1" +
               (codes.empty() ? std::string() : " AND state=" + std::to_string(codes[0])) + from + page;
    std::string arms;
    for (std::size_t i = 0; i < codes.size(); ++i)
        arms += std::string(i ? " UNION ALL " : "") +
                "SELECT created_at, seq, id FROM operations WHERE orchestration_id=?1 AND state=" +
                std::to_string(codes[i]) + from;
    // The counters as a one-row table joined first: as scalar subqueries in the select list of
    // this join the statement took ~0.7 ms instead of ~0.15 ms (measured on 100,000 rows; why was
    // not examined). `+o.id`: the row is found by the primary key (one seek), not operations_id.
    const std::string filter = literalStateFilter(codes);
    return "SELECT o.wire, c.t, c.x FROM (SELECT coalesce(sum(n),0) AS t, coalesce(sum(entered),0) AS x "
           "FROM operation_counts WHERE orchestration_id=?1" + filter + ") c CROSS JOIN (" + arms + page +
           ") k CROSS JOIN operations o ON o.orchestration_id=?1 AND o.created_at=k.created_at AND o.seq=k.seq AND "
           "+o.id=k.id ORDER BY k.created_at, k.seq, k.id";
}
}  // namespace

// The page from the rows' rendered items (migration 3) in ONE statement, each row carrying the
// total from the counters: one snapshot without a transaction around it. A row on the page also
// proves the orchestration exists (operations reference it; orchestrations are never deleted).
// Answers false when it cannot tell, for the transactional path to answer: no row on the page
// (past the end, nothing matches the filter, no such orchestration), a row from before
// migration 3 (no rendered item), counters that disagree with the rows.
bool SqliteStore::appendRenderedPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out,
                                     bool mayAnchor) {
    static_assert(kOpStates.size() + 1 == kFilterSlots, "one cached page statement per filter size");
    const auto states = distinctStates(q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    // A deep page, filtered or not, starts at the nearest anchor: SQLite then skips fewer than
    // `stride` rows. Not inside a commit group's open transaction: its writes are not committed
    // yet, and anchors whose token a rolled-back savepoint took back could match a later state.
    const std::int64_t stride = options_.pageAnchorStride;
    std::int64_t skip = offset;
    std::shared_ptr<const PageAnchors::Anchors> a;
    const PageAnchors::Key* k = nullptr;
    unsigned mask = 0;
    Stmt* sp = nullptr;
    if (mayAnchor && !groupTx_ && stride > 0 && offset >= stride) {
        const std::vector<int> codes = filterCodes(states, kOpStates, &mask);
        a = pageAnchors(orchestrationID, codes, mask);
        k = a->before(offset, &skip);
        if (k) {
            Stmt& s = stmt(anchoredPageSql(codes));
            s.bindRef(orchestrationID).bind(k->createdAt).bind(k->seq).bind(k->id).bind(size).bind(skip);
            sp = &s;
        }
    }
    if (!sp) {
        skip = offset;
        sp = &pageStmt(states.size());
        sp->bindRef(orchestrationID);
        for (auto st : states) sp->bind(stateCode(kOpStates, st));
        sp->bindRef(orchestrationID);
        for (auto st : states) sp->bind(stateCode(kOpStates, st));
        sp->bind(size).bind(skip);
    }
    Stmt& w = *sp;
    if (!w.step()) return false;
    const std::int64_t total = w.i64(1);
    if (k && (total != a->total || (mask != 0 && w.i64(2) != a->entered))) {
        // Unfiltered: operations were added since the anchors were taken. Filtered: an operation
        // also entered or left one of the states (page_anchors.h). Positions moved: forget the
        // anchors (the next deep page takes new ones) and answer this page with OFFSET.
        w.reset();
        anchors_->drop(orchestrationID, mask, a.get());
        return appendRenderedPage(orchestrationID, q, out, false);
    }
    const std::int64_t expected = std::clamp<std::int64_t>(total - offset, 0, size);
    appendPagePrefix(out, expected);
    out.reserve(out.size() + static_cast<std::size_t>(expected) * 400 + 64);
    std::int64_t count = 0;
    do {
        if (w.isNull(0) || count == expected) {
            w.reset();  // ends the statement's snapshot
            return false;
        }
        if (count++) out += ',';
        const std::string_view item = w.view(0);
        out.append(item.data(), item.size());
    } while (w.step());
    if (count != expected) return false;
    appendPageSuffix(out, total);
    if (k) ++anchoredPages_;
    return true;
}

std::shared_ptr<const PageAnchors::Anchors> SqliteStore::pageAnchors(const std::string& orchestrationID,
                                                                     const std::vector<int>& codes, unsigned mask) {
    const auto stride = static_cast<std::int64_t>(options_.pageAnchorStride);
    if (auto found = anchors_->find(orchestrationID, mask, stride)) return found;
    // One pass over the keys of the orchestration's operations (in the filter's states) with the
    // counters' token, in one snapshot.
    auto& s = stmt("SELECT created_at, seq, id, " + anchorCountersSql(codes) + " FROM operations WHERE orchestration_id=?1" +
                   literalStateFilter(codes) + " ORDER BY created_at, seq, id");
    s.bindRef(orchestrationID);
    auto a = std::make_shared<PageAnchors::Anchors>();
    a->stride = stride;
    std::int64_t n = 0;
    while (s.step()) {
        if (n == 0) {
            a->total = s.i64(3);
            if (mask != 0) a->entered = s.i64(4);
        }
        if (n > 0 && n % stride == 0) a->keys.push_back(PageAnchors::Key{s.i64(0), s.i64(1), s.text(2)});
        ++n;
    }
    // Counters that disagree with the rows (never expected): no anchors, every page uses OFFSET.
    if (n != a->total) a->keys.clear();
    // Anchors without keys serve no page, so nothing would ever find them stale: not kept (the
    // scan read at most `stride` rows, or the counters disagree).
    if (!a->keys.empty()) anchors_->put(orchestrationID, mask, a);
    return a;
}

bool SqliteStore::doAppendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) {
    const auto states = distinctStates(q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    std::int64_t total = 0;
    {
        // Existence and totalCount in one statement (no row: no such orchestration).
        auto& c = totalStmt(states.size());
        c.bindRef(orchestrationID);
        for (auto st : states) c.bind(stateCode(kOpStates, st));
        c.bindRef(orchestrationID);
        const bool exists = c.step();
        if (exists) total = c.i64(0);
        c.reset();
        if (!exists) return false;
    }
    // The item count goes first in the JSON: take it from the counters (kept in the same
    // transactions as the rows, so they agree) and correct the prefix in the (never expected)
    // case the rows disagree. No second buffer, no copy of the items.
    const std::int64_t expected = std::clamp<std::int64_t>(total - offset, 0, size);
    std::int64_t count = 0;
    const std::size_t start = out.size();
    appendPagePrefix(out, expected);
    const std::size_t prefixLen = out.size() - start;
    bool rendered = false;
    if (offset < total) {
        // Rows keep their rendered item (migration 3): the page is a concatenation.
        auto& w = stmt("SELECT wire FROM operations WHERE orchestration_id=?" + stateFilter(states.size()) +
                       " ORDER BY created_at, seq, id LIMIT ? OFFSET ?");
        w.bind(orchestrationID);
        for (auto st : states) w.bind(stateCode(kOpStates, st));
        w.bind(size).bind(offset);
        const std::size_t itemsStart = out.size();
        out.reserve(out.size() + static_cast<std::size_t>(std::min<std::int64_t>(size, total - offset)) * 400 + 64);
        rendered = true;
        while (w.step()) {
            if (w.isNull(0)) {  // a row from before migration 3: render this page from the columns
                rendered = false;
                out.resize(itemsStart);
                count = 0;
                w.reset();
                break;
            }
            if (count++) out += ',';
            const std::string_view item = w.view(0);
            out.append(item.data(), item.size());
        }
    }
    if (offset < total && !rendered) {
        auto& s = stmt(
            "SELECT id, runtime_id, global_account_id, sub_account_id, service_plan_id, service_plan_name, "
            "shoot_name, description, dry_run, mw_begin, mw_end, state, stage FROM operations WHERE orchestration_id=?" +
            stateFilter(states.size()) + " ORDER BY created_at, seq, id LIMIT ? OFFSET ?");
        s.bind(orchestrationID);
        for (auto st : states) s.bind(stateCode(kOpStates, st));
        s.bind(size).bind(offset);
        out.reserve(out.size() + static_cast<std::size_t>(std::min<std::int64_t>(size, total - offset)) * 400 + 64);
        OperationItemView v;
        v.orchestrationID = orchestrationID;  // the WHERE clause: equal to the column
        while (s.step()) {
            v.operationID = s.view(0);
            v.runtimeID = s.view(1);
            v.globalAccountID = s.view(2);
            v.subAccountID = s.view(3);
            v.servicePlanID = s.view(4);
            v.servicePlanName = s.view(5);
            v.shootName = s.view(6);
            v.description = s.view(7);
            v.dryRun = s.i64(8) != 0;
            v.maintenanceWindowBegin = s.i64(9);
            v.maintenanceWindowEnd = s.i64(10);
            v.state = stateFrom(kOpStates, s.i64(11));
            v.stage = s.view(12);
            if (count++) out += ',';
            appendOperationItem(out, v);
        }
    }
    appendPageSuffix(out, total);
    if (count != expected) {
        std::string prefix;
        appendPagePrefix(prefix, count);
        out.replace(start, prefixLen, prefix);
    }
    return true;
}

OperationPageSource::Render SqliteStore::appendOrchestration(const std::string& orchestrationID, std::string& out) {
    const bool began = readBegin();  // the orchestration and its counters from one snapshot
    const std::size_t start = out.size();
    try {
        Render r = Render::NotFound;
        auto& s = stmt("SELECT wire, wire_split FROM orchestrations WHERE id=?");
        s.bind(orchestrationID);
        if (s.step()) {
            // A row written before migration 2, or a staged orchestration (its `stages` come from
            // its operations): the JSON path serves it.
            r = Render::Unavailable;
            const std::string_view wire = s.view(0);  // valid until s steps again (other statements may run)
            const std::int64_t split = s.i64(1);
            if (!s.isNull(0) && split > 0 && static_cast<std::size_t>(split) < wire.size()) {
                const auto at = static_cast<std::size_t>(split);
                out.append(wire.data(), at);
                out += ",\"operationStats\":";
                appendOperationStats(out, operationStats(orchestrationID));
                out.append(wire.data() + at, wire.size() - at);
                r = Render::Found;
            }
        }
        s.reset();
        readEnd(began);
        return r;
    } catch (...) {
        readAbort(began);
        out.resize(start);
        throw;
    }
}

OperationStats SqliteStore::operationStats(const std::string& orchestrationID) {
    OperationStats stats;
    for (auto st : kOpStates) stats[st] = 0;
    auto& s = stmt("SELECT state, n FROM operation_counts WHERE orchestration_id=?");
    s.bind(orchestrationID);
    while (s.step()) stats[stateFrom(kOpStates, s.i64(0))] += s.i64(1);
    return stats;
}

Store::StateCounts SqliteStore::stateCounts() {
    const bool began = readBegin();  // both maps from one snapshot
    try {
        StateCounts c;
        c.orchestrations = orchestrationCountsByState();
        c.operations = operationCountsByState();
        readEnd(began);
        return c;
    } catch (...) {
        readAbort(began);
        throw;
    }
}

std::map<OrchestrationState, std::int64_t> SqliteStore::orchestrationCountsByState() {
    std::map<OrchestrationState, std::int64_t> out;
    for (auto st : kOrchStates) out[st] = 0;
    auto& s = stmt("SELECT state, n FROM orchestration_counts");
    while (s.step()) out[stateFrom(kOrchStates, s.i64(0))] += s.i64(1);
    return out;
}

std::map<OperationState, std::int64_t> SqliteStore::operationCountsByState() {
    std::map<OperationState, std::int64_t> out;
    for (auto st : kOpStates) out[st] = 0;
    auto& s = stmt("SELECT state, sum(n) FROM operation_counts GROUP BY state");
    while (s.step()) out[stateFrom(kOpStates, s.i64(0))] += s.i64(1);
    return out;
}

}  // namespace keb::server
