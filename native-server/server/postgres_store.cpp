#include "postgres_store.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <utility>

#include "keb/wire.h"

namespace keb::server {

using pg::Params;
using pg::Result;
using pg::Transaction;

namespace {

// Stored state codes: the same as SqliteStore's (positions in these arrays; append, never reorder).
constexpr std::array<OrchestrationState, 8> kOrchStates = {
    OrchestrationState::Pending,  OrchestrationState::InProgress, OrchestrationState::Canceling,
    OrchestrationState::Canceled, OrchestrationState::Retrying,   OrchestrationState::Succeeded,
    OrchestrationState::Failed,   OrchestrationState::Paused};
static_assert(kOrchStates.size() == kOrchestrationStateCount, "a new orchestration state needs a stored code");
constexpr std::array<OperationState, 5> kOpStates = {OperationState::Pending, OperationState::InProgress,
                                                     OperationState::Succeeded, OperationState::Failed,
                                                     OperationState::Canceled};
constexpr int kInProgressCode = 1;

template <class S, std::size_t N>
int stateCode(const std::array<S, N>& all, S s) {
    for (std::size_t i = 0; i < N; ++i)
        if (all[i] == s) return static_cast<int>(i);
    return -1;
}
template <class S, std::size_t N>
S stateFrom(const std::array<S, N>& all, std::int64_t code) {
    if (code < 0 || code >= static_cast<std::int64_t>(N)) throw PgError("corrupt state code in store");
    return all[static_cast<std::size_t>(code)];
}

// " AND state IN (1,3)" for the distinct states asked (codes are small integers: inlined, so each
// filter is its own prepared statement); "" for none (all states).
template <class S, std::size_t N>
std::string stateFilter(const std::array<S, N>& all, const std::vector<S>& states) {
    std::vector<int> codes;
    for (S s : states) {
        const int c = stateCode(all, s);
        if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
    }
    if (codes.empty()) return "";
    std::sort(codes.begin(), codes.end());
    std::string out = " AND state IN (";
    for (std::size_t i = 0; i < codes.size(); ++i) out += (i ? "," : "") + std::to_string(codes[i]);
    return out + ")";
}

// Migrations, applied in order; never edit a released one, append a new one.
const char* const kMigrations[] = {
    // 1: the whole schema of SqliteStore's migrations 1-5 (typed operation columns, the wire JSON
    // of rows, stages, counters kept by triggers, the SPEC 14 outbox) and the SPEC 11 lease row.
    R"SQL(
CREATE TABLE orchestrations (
  id          text COLLATE "C" PRIMARY KEY,
  seq         bigint NOT NULL,
  created_at  bigint NOT NULL,
  state       smallint NOT NULL,
  data        text NOT NULL,
  wire        text,      -- GET /orchestrations/{id} without operationStats; NULL: staged (JSON path)
  wire_split  bigint     -- where operationStats goes into wire
);
CREATE INDEX orchestrations_order ON orchestrations(created_at, id);
CREATE INDEX orchestrations_state ON orchestrations(state, created_at, id);
CREATE TABLE operations (
  orchestration_id  text COLLATE "C" NOT NULL REFERENCES orchestrations(id),
  id                text COLLATE "C" NOT NULL,
  seq               bigint NOT NULL,
  created_at        bigint NOT NULL,
  updated_at        bigint NOT NULL,
  state             smallint NOT NULL,
  description       bytea NOT NULL,     -- bytes as given: may be invalid UTF-8 (backend messages)
  runtime_id        text COLLATE "C" NOT NULL,
  instance_id       text NOT NULL,
  global_account_id text NOT NULL,
  sub_account_id    text NOT NULL,
  service_plan_id   text NOT NULL,
  service_plan_name text NOT NULL,
  region            text NOT NULL,
  shoot_name        text NOT NULL,
  dry_run           boolean NOT NULL,
  mw_begin          bigint NOT NULL,
  mw_end            bigint NOT NULL,
  start_at          bigint NOT NULL,
  started_at        bigint NOT NULL,
  upgrade_started   boolean NOT NULL,
  immediate         boolean NOT NULL,
  retry_of          text NOT NULL,
  config_kind       smallint NOT NULL,  -- 0 none, 1 kymaConfig, 2 clusterConfig
  config_a          text NOT NULL,      -- kyma version | kubernetesVersion
  config_b          text NOT NULL,      -- machineImage
  config_c          text NOT NULL,      -- machineImageVersion
  stage             text NOT NULL,
  wire              text NOT NULL,      -- the operation's rendered list item
  PRIMARY KEY (orchestration_id, id)
);
CREATE INDEX operations_order ON operations(orchestration_id, created_at, seq, id);
CREATE INDEX operations_state ON operations(orchestration_id, state, created_at, seq, id);
CREATE TABLE orchestration_counts (state smallint PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE operation_counts (
  orchestration_id text COLLATE "C" NOT NULL, state smallint NOT NULL, n bigint NOT NULL,
  PRIMARY KEY (orchestration_id, state));
CREATE FUNCTION keb_count_orchestration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE orchestration_counts SET n = n - 1 WHERE state = OLD.state;
  END IF;
  INSERT INTO orchestration_counts(state, n) VALUES (NEW.state, 1)
    ON CONFLICT (state) DO UPDATE SET n = orchestration_counts.n + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER orchestrations_ins AFTER INSERT ON orchestrations
  FOR EACH ROW EXECUTE FUNCTION keb_count_orchestration();
CREATE TRIGGER orchestrations_upd AFTER UPDATE OF state ON orchestrations
  FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION keb_count_orchestration();
-- Inserted operations are counted by the store per batch (one upsert per orchestration and
-- state, not one per row); state changes by this trigger.
CREATE FUNCTION keb_count_operation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n) VALUES (NEW.orchestration_id, NEW.state, 1)
    ON CONFLICT (orchestration_id, state) DO UPDATE SET n = operation_counts.n + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER operations_upd AFTER UPDATE OF state ON operations
  FOR EACH ROW WHEN (OLD.state <> NEW.state) EXECUTE FUNCTION keb_count_operation();
-- SPEC 14 outbox. Sequences come from notification_seq (transactional: no gaps, never reused).
-- kind: 0 create, 1 start, 2 end, 3 cancel.
CREATE TABLE notification_outbox (
  seq bigint PRIMARY KEY,
  kind smallint NOT NULL,
  orchestration_id text NOT NULL,
  payload text NOT NULL
);
CREATE TABLE notification_seq (id integer PRIMARY KEY CHECK (id = 1), last bigint NOT NULL);
INSERT INTO notification_seq VALUES (1, 0);
-- SPEC 11: the leader's lease (written by the replicas' leadership code; read here for fencing).
CREATE TABLE IF NOT EXISTS keb_lease (
  id integer PRIMARY KEY CHECK (id = 1),
  holder text NOT NULL,
  epoch bigint NOT NULL,
  expires_at timestamptz NOT NULL,
  advertise_url text NOT NULL DEFAULT ''
);
)SQL",
    // 2 (deep filtered pages, page_anchors.h; SqliteStore's migration 7): beside n, how many times
    // an operation entered the state (inserts included), never decreasing; the same counter row,
    // updated by the same statements. Only changes matter to its readers: existing rows start at n.
    R"SQL(
ALTER TABLE operation_counts ADD COLUMN entered bigint NOT NULL DEFAULT 0;
UPDATE operation_counts SET entered = n;
CREATE OR REPLACE FUNCTION keb_count_operation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n, entered) VALUES (NEW.orchestration_id, NEW.state, 1, 1)
    ON CONFLICT (orchestration_id, state)
    DO UPDATE SET n = operation_counts.n + 1, entered = operation_counts.entered + 1;
  RETURN NULL;
END $$;
)SQL",
    // 3 (write speed): pages of operations filled to 70 %, so that an update that changes no
    // indexed column (a window move: about two of every three engine writes) finds room on its
    // row's page and is a HOT update (no index entries written). Applies to pages written from now on.
    "ALTER TABLE operations SET (fillfactor = 70)",
};

// SPEC 11: no runtime upgraded twice at once, across replicas. A partial (WHERE state = in
// progress) unique constraint on runtime_id, checked at commit (deferred), so one batch may end
// one operation of a runtime and start the next in either order.
const char* const kRuntimeGuardName = "operations_one_in_progress_per_runtime";
const char* const kRuntimeGuard =
    "ALTER TABLE operations ADD CONSTRAINT operations_one_in_progress_per_runtime "
    "EXCLUDE USING btree (runtime_id WITH =) WHERE (state = 1) DEFERRABLE INITIALLY DEFERRED";
static_assert(kInProgressCode == 1);

const char* const kOpColumns =
    "orchestration_id, id, seq, created_at, updated_at, state, description, runtime_id, instance_id, "
    "global_account_id, sub_account_id, service_plan_id, service_plan_name, region, shoot_name, dry_run, "
    "mw_begin, mw_end, start_at, started_at, upgrade_started, immediate, retry_of, config_kind, config_a, "
    "config_b, config_c, stage";
constexpr int kOpColumnCount = 29;  // kOpColumns and wire
constexpr const char* kOpOrder = " ORDER BY created_at, seq, id";

// bytea as a text parameter / from a text result (bytea_output = hex): "\x" and two hex digits a byte.
std::string byteaParam(std::string_view bytes) {
    static const char* const hex = "0123456789abcdef";
    std::string out = "\\x";
    out.reserve(2 + bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}
std::string byteaValue(std::string_view v) {
    if (v.size() < 2 || v[0] != '\\' || v[1] != 'x') throw PgError("postgres: unexpected bytea text (bytea_output must be hex)");
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        throw PgError("postgres: bad hex digit in bytea");
    };
    std::string out;
    out.reserve((v.size() - 2) / 2);
    for (std::size_t i = 2; i + 1 < v.size(); i += 2) out += static_cast<char>(digit(v[i]) * 16 + digit(v[i + 1]));
    return out;
}

// The body columns from seq on (as kOpColumns, then wire).
void addOperationBody(Params& p, const Operation& op, std::string& wireBuf) {
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
    p.add(op.seq).add(op.createdAt).add(op.updatedAt).add(stateCode(kOpStates, op.state))
        .add(byteaParam(op.description)).add(op.runtimeID).add(op.instanceID).add(op.globalAccountID).add(op.subAccountID).add(op.servicePlanID)
        .add(op.servicePlanName).add(op.region).add(op.shootName).add(op.dryRun).add(op.maintenanceWindowBegin)
        .add(op.maintenanceWindowEnd).add(op.startAt).add(op.startedAt).add(op.upgradeStarted).add(op.immediate)
        .add(op.retryOf).add(kind).add(a).add(b).add(c).add(op.stage);
    wireBuf.clear();
    appendOperationItem(wireBuf, itemView(op));
    p.add(wireBuf);
}

Operation rowToOperation(const Result& r, int i) {
    Operation op;
    op.orchestrationID = r.text(i, 0);
    op.operationID = r.text(i, 1);
    op.seq = r.i64(i, 2);
    op.createdAt = r.i64(i, 3);
    op.updatedAt = r.i64(i, 4);
    op.state = stateFrom(kOpStates, r.i64(i, 5));
    op.description = byteaValue(r.view(i, 6));
    op.runtimeID = r.text(i, 7);
    op.instanceID = r.text(i, 8);
    op.globalAccountID = r.text(i, 9);
    op.subAccountID = r.text(i, 10);
    op.servicePlanID = r.text(i, 11);
    op.servicePlanName = r.text(i, 12);
    op.region = r.text(i, 13);
    op.shootName = r.text(i, 14);
    op.dryRun = r.boolean(i, 15);
    op.maintenanceWindowBegin = r.i64(i, 16);
    op.maintenanceWindowEnd = r.i64(i, 17);
    op.startAt = r.i64(i, 18);
    op.startedAt = r.i64(i, 19);
    op.upgradeStarted = r.boolean(i, 20);
    op.immediate = r.boolean(i, 21);
    op.retryOf = r.text(i, 22);
    switch (r.i64(i, 23)) {
        case 1: op.kymaConfig = KymaParams{r.text(i, 24)}; break;
        case 2: op.clusterConfig = KubernetesParams{r.text(i, 24), r.text(i, 25), r.text(i, 26)}; break;
        default: break;
    }
    op.stage = r.text(i, 27);
    return op;
}

Orchestration readOrchestration(std::string_view data) { return orchestrationFromStoreJson(Json::parse(data)); }

// The orchestration's pre-rendered GET /orchestrations/{id} text, NULL for a staged one (its
// answer adds `stages`, counted from its operations at read time: the JSON path renders it).
void addOrchestrationWire(Params& p, const Orchestration& o) {
    std::size_t split = 0;
    if (!o.parameters.strategy.stages.empty()) {
        p.addNull().addNull();
        return;
    }
    std::string text = orchestrationWireText(o, &split);
    if (split == 0) p.addNull().addNull();
    else p.add(text).add(static_cast<std::int64_t>(split));
}

const char* const kReadTx = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// A read's snapshot: its own read-only transaction, or, when the connection is already in one (the
// leader's commit group: PostgresStore::beginGroup), that transaction, which sees the group's writes.
class ReadTx {
public:
    explicit ReadTx(pg::Connection& c) {
        if (!c.inTransaction()) tx_.emplace(c, kReadTx);
    }
    bool own() const { return tx_.has_value(); }
    void done() {
        if (tx_) tx_->commit();
    }

private:
    std::optional<Transaction> tx_;
};

}  // namespace

PostgresStore::PostgresStore(const std::string& uri, PostgresOptions options)
    : options_(options), anchors_(options_.pageAnchors ? options_.pageAnchors : std::make_shared<PageAnchors>()) {
    conn_ = std::make_unique<pg::Connection>(uri);
    conn_->exec("SET client_min_messages = warning; SET bytea_output = hex");
    if (!options_.readOnly) {
        migrate();
    } else if (schemaVersion() < static_cast<int>(std::size(kMigrations))) {
        throw PgError("PostgreSQL store is not initialised (open it read-write first)");
    }
}

PostgresStore::~PostgresStore() = default;

void PostgresStore::setFence(std::optional<std::int64_t> epoch) {
    std::lock_guard<std::mutex> lk(fenceMu_);
    fence_ = epoch;
}

std::optional<std::int64_t> PostgresStore::fence() const {
    std::lock_guard<std::mutex> lk(fenceMu_);
    return fence_;
}

int PostgresStore::schemaVersion() {
    Result has = conn_->query("SELECT to_regclass('schema_migrations') IS NOT NULL");
    if (!has.boolean(0, 0)) return 0;
    Result v = conn_->query("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return static_cast<int>(v.i64(0, 0));
}

void PostgresStore::migrate() {
    Transaction tx(*conn_);
    conn_->queryOnce("SELECT pg_advisory_xact_lock($1)", Params().add(kMigrationLock));
    conn_->exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    const int have = static_cast<int>(
        conn_->queryOnce("SELECT coalesce(max(version), 0) FROM schema_migrations").i64(0, 0));
    const int known = static_cast<int>(std::size(kMigrations));
    if (have > known)
        throw PgError("PostgreSQL store has schema version " + std::to_string(have) + ", newer than this keb-server knows (" +
                      std::to_string(known) + ")");
    for (int v = have + 1; v <= known; ++v) {
        conn_->exec(kMigrations[v - 1]);
        conn_->queryOnce("INSERT INTO schema_migrations(version) VALUES ($1)", Params().add(v));
    }
    if (options_.oneInProgressPerRuntime &&
        conn_->queryOnce("SELECT 1 FROM pg_constraint WHERE conname = $1", Params().add(kRuntimeGuardName)).rows() == 0)
        conn_->exec(kRuntimeGuard);
    tx.commit();
}

void PostgresStore::checkFence() {
    const std::optional<std::int64_t> want = fence();
    if (!want) return;
    Result r = conn_->query("SELECT epoch FROM keb_lease WHERE id = 1 FOR SHARE");
    if (r.rows() == 0)
        throw StoreFencedError("write fenced: no lease row (this replica was fenced with epoch " +
                               std::to_string(*want) + ")");
    const std::int64_t epoch = r.i64(0, 0);
    if (epoch != *want)
        throw StoreFencedError("write fenced: the lease has epoch " + std::to_string(epoch) + ", this replica holds " +
                               std::to_string(*want));
}

void PostgresStore::writeTx(const std::function<void()>& body) {
    if (group_) {
        // No savepoint per write (SqliteStore has one): a write that fails (in PostgreSQL or in
        // our code halfway through a batch) fails the whole group, which commitGroup then rolls
        // back; the leader's engine loop ends its round (and its leadership) on any failed write
        // anyway. Two round trips per write saved.
        try {
            if (!groupTx_) {
                conn_->ensureConnected();
                groupTx_ = true;
                conn_->exec("BEGIN");
                checkFence();  // FOR SHARE: the lease row stays locked until commitGroup
            } else if (groupFailed_) {
                throw PgError("an earlier write of this commit group failed");
            } else if (!conn_->inTransaction()) {
                // The connection broke (and may have been reopened by a read): the group's writes are gone.
                throw PgError("the commit group's transaction was lost (connection to PostgreSQL broken)");
            }
            body();
        } catch (...) {
            groupFailed_ = true;
            throw;
        }
        return;
    }
    conn_->ensureConnected();
    Transaction tx(*conn_);  // rolls back unless committed (a throw anywhere below)
    checkFence();
    body();
    tx.commit();
}

void PostgresStore::beginGroup() {
    if (group_) throw PgError("PostgreSQL store: commit group already open");
    // A group left open by a failed round (its transaction aborted or gone): roll it back.
    if (conn_->inTransaction()) {
        conn_->execIgnoringErrors("ROLLBACK");
    }
    group_ = true;
    groupTx_ = groupFailed_ = false;
    dropPending();
}

void PostgresStore::dropPending() {
    pending_.clear();
    pendingKeys_.clear();
}

void PostgresStore::commitGroup() {
    if (!group_) return;
    group_ = false;
    if (!groupTx_) {  // nothing was written (a queued write opened the transaction)
        dropPending();
        return;
    }
    groupTx_ = false;
    if (!conn_->inTransaction()) {
        dropPending();
        throw PgError("the commit group's transaction was lost (connection to PostgreSQL broken)");
    }
    if (groupFailed_ || conn_->transactionFailed()) dropPending();
    try {
        writePending();  // the queued progress and window-move writes
    } catch (...) {
        conn_->execIgnoringErrors("ROLLBACK");
        throw;
    }
    // A write failed (PostgreSQL would even answer COMMIT of an aborted transaction with a quiet
    // rollback): nothing of the group may be committed.
    if (groupFailed_ || conn_->transactionFailed()) {
        conn_->execIgnoringErrors("ROLLBACK");
        throw PgError("a write of the commit group failed: nothing of the group was committed");
    }
    try {
        conn_->exec("COMMIT");  // also checks the deferred one-in-progress-per-runtime constraint
    } catch (...) {
        conn_->execIgnoringErrors("ROLLBACK");
        throw;
    }
}

void PostgresStore::doInsertOrchestration(const Orchestration& o) {
    Params p;
    p.add(o.orchestrationID).add(o.seq).add(o.createdAt).add(stateCode(kOrchStates, o.state)).add(toStoreJson(o).dump());
    addOrchestrationWire(p, o);
    conn_->query(
        "INSERT INTO orchestrations(id, seq, created_at, state, data, wire, wire_split) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        p);
}

void PostgresStore::doUpdateOrchestration(const Orchestration& o) {
    Params p;
    p.add(o.seq).add(o.createdAt).add(stateCode(kOrchStates, o.state)).add(toStoreJson(o).dump());
    addOrchestrationWire(p, o);
    p.add(o.orchestrationID);
    Result r = conn_->query(
        "UPDATE orchestrations SET seq=$1, created_at=$2, state=$3, data=$4, wire=$5, wire_split=$6 WHERE id=$7", p);
    if (r.affected() == 0) throw PgError("no orchestration " + o.orchestrationID);
}

namespace {
std::string insertOperationsSql(std::size_t rows) {
    std::string sql = std::string("INSERT INTO operations(") + kOpColumns + ", wire) VALUES ";
    int n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        sql += r ? ",(" : "(";
        for (int c = 0; c < kOpColumnCount; ++c) sql += (c ? ",$" : "$") + std::to_string(++n);
        sql += ')';
    }
    return sql;
}
constexpr std::size_t kInsertChunk = 256;  // rows per INSERT (29 parameters each)
}  // namespace

// Multi-row INSERTs of up to kInsertChunk rows, then one counter upsert per (orchestration, state).
void PostgresStore::doInsertOperationStream(const std::function<bool(Operation&)>* next,
                                            const std::vector<Operation>* batch) {
    static const std::string fullSql = insertOperationsSql(kInsertChunk);
    std::map<std::pair<std::string, int>, std::int64_t> counts;
    Params p;
    std::size_t rows = 0;
    std::string wireBuf;
    auto flush = [&] {
        if (rows == 0) return;
        if (rows == kInsertChunk) conn_->query(fullSql, p);
        else conn_->queryOnce(insertOperationsSql(rows), p);
        p.clear();
        rows = 0;
    };
    auto insertOne = [&](const Operation& op) {
        const int code = stateCode(kOpStates, op.state);
        p.add(op.orchestrationID).add(op.operationID);
        addOperationBody(p, op, wireBuf);
        if (++rows == kInsertChunk) flush();
        ++counts[{op.orchestrationID, code}];
    };
    if (batch) {
        for (const auto& op : *batch) insertOne(op);
    } else {
        for (Operation op; (*next)(op); op = Operation{}) insertOne(op);
    }
    flush();
    for (const auto& [key, n] : counts)
        conn_->query(
            "INSERT INTO operation_counts(orchestration_id, state, n, entered) VALUES ($1,$2,$3,$3) "
            "ON CONFLICT (orchestration_id, state) "
            "DO UPDATE SET n = operation_counts.n + excluded.n, entered = operation_counts.entered + excluded.n",
            Params().add(key.first).add(key.second).add(n));
}

void PostgresStore::doUpdateOperation(const Operation& op) {
    Params p;
    std::string wireBuf;
    addOperationBody(p, op, wireBuf);
    p.add(op.orchestrationID).add(op.operationID);
    Result r = conn_->query(
        "UPDATE operations SET seq=$1, created_at=$2, updated_at=$3, state=$4, description=$5, runtime_id=$6, "
        "instance_id=$7, global_account_id=$8, sub_account_id=$9, service_plan_id=$10, service_plan_name=$11, "
        "region=$12, shoot_name=$13, dry_run=$14, mw_begin=$15, mw_end=$16, start_at=$17, started_at=$18, "
        "upgrade_started=$19, immediate=$20, retry_of=$21, config_kind=$22, config_a=$23, config_b=$24, "
        "config_c=$25, stage=$26, wire=$27 WHERE orchestration_id=$28 AND id=$29",
        p);
    if (r.affected() == 0) throw PgError("no operation " + op.operationID + " in orchestration " + op.orchestrationID);
}

bool PostgresStore::readOp(const std::string& orchestrationID, const std::string& operationID, Operation& out) {
    Result r = conn_->query(std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=$1 AND id=$2",
                            Params().add(orchestrationID).add(operationID));
    if (r.rows() == 0) return false;
    out = rowToOperation(r, 0);
    return true;
}

void PostgresStore::doInsertNotifications(const std::vector<Notification>& ns) {
    if (ns.empty()) return;
    const std::int64_t last =
        conn_->query("UPDATE notification_seq SET last = last + $1 WHERE id = 1 RETURNING last",
                     Params().add(static_cast<std::int64_t>(ns.size())))
            .i64(0, 0);
    std::int64_t seq = last - static_cast<std::int64_t>(ns.size());
    for (const Notification& n : ns)
        conn_->query("INSERT INTO notification_outbox(seq, kind, orchestration_id, payload) VALUES ($1,$2,$3,$4)",
                     Params().add(++seq).add(static_cast<int>(n.kind)).add(n.orchestrationID).add(n.payload));
}

void PostgresStore::insertOrchestration(const Orchestration& o) {
    writeTx([&] { doInsertOrchestration(o); });
}
void PostgresStore::updateOrchestration(const Orchestration& o) {
    writeTx([&] { doUpdateOrchestration(o); });
}
void PostgresStore::insertOperations(const std::vector<Operation>& ops) {
    if (ops.empty()) return;
    writeTx([&] {
        writePending();
        doInsertOperationStream(nullptr, &ops);
    });
}
void PostgresStore::updateOperations(const std::vector<Operation>& ops) {
    if (ops.empty()) return;
    writeTx([&] {
        writePending();
        for (const auto& op : ops) doUpdateOperation(op);
    });
}
void PostgresStore::updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    writeTx([&] {
        queueProgress(orchestrationID, c);
        if (!group_) writePending();
    });
}
void PostgresStore::rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                         const std::string* description, Millis updatedAt) {
    writeTx([&] {
        queueMoves(orchestrationID, changes, description, updatedAt);
        if (!group_) writePending();
    });
}
void PostgresStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                      const std::vector<Operation>& updated) {
    writeTx([&] {
        writePending();
        if (!inserted.empty()) doInsertOperationStream(nullptr, &inserted);
        for (const auto& op : updated) doUpdateOperation(op);
        doUpdateOrchestration(o);
    });
}
void PostgresStore::updateOrchestrationAddingOperations(const Orchestration& o,
                                                        const std::function<bool(Operation&)>& next) {
    writeTx([&] {
        writePending();
        doInsertOperationStream(&next, nullptr);
        doUpdateOrchestration(o);
    });
}

void PostgresStore::apply(const WriteBatch& b) {
    if (b.empty()) return;
    writeTx([&] {
        // Whole-row writes and inserts go after the queued writes before them (same order as
        // the calls); orchestration rows and outbox rows do not touch operation rows.
        if (!b.insertedOperations.empty() || b.operationSource || !b.updatedOperations.empty()) writePending();
        for (const Orchestration& o : b.insertedOrchestrations) doInsertOrchestration(o);
        if (!b.insertedOperations.empty()) doInsertOperationStream(nullptr, &b.insertedOperations);
        if (b.operationSource) doInsertOperationStream(&b.operationSource, nullptr);
        for (const Operation& op : b.updatedOperations) doUpdateOperation(op);
        for (const WriteBatch::Moves& mv : b.moves)
            queueMoves(mv.orchestrationID, mv.changes, mv.description ? &*mv.description : nullptr, mv.updatedAt);
        for (const WriteBatch::Progress& p : b.progress) queueProgress(p.orchestrationID, p.change);
        if (!group_) writePending();
        for (const Orchestration& o : b.updatedOrchestrations) doUpdateOrchestration(o);
        doInsertNotifications(b.notifications);
    });
}

std::string PostgresStore::pendingKey(const std::string& orchestrationID, const std::string& operationID) {
    return std::to_string(orchestrationID.size()) + ':' + orchestrationID + operationID;
}

void PostgresStore::queueProgress(const std::string& orchestrationID, const ProgressChange& c) {
    pendingKeys_.insert(pendingKey(orchestrationID, c.operationID));
    PendingWrite& w = pending_.emplace_back();
    w.orchestrationID = orchestrationID;
    w.operationID = c.operationID;
    w.state = c.state;
    if (c.description) w.description = *c.description;
    w.updatedAt = c.updatedAt;
    w.startedAt = c.startedAt;
    w.upgradeStarted = c.upgradeStarted;
    w.window = c.window;
}

void PostgresStore::queueMoves(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                               const std::string* description, Millis updatedAt) {
    for (const ScheduleChange& c : changes) {
        pendingKeys_.insert(pendingKey(orchestrationID, c.operationID));
        PendingWrite& w = pending_.emplace_back();
        w.orchestrationID = orchestrationID;
        w.operationID = c.operationID;
        w.move = true;
        if (description) w.description = *description;
        w.updatedAt = updatedAt;
        w.window = std::make_pair(c.windowBegin, c.windowEnd);
        w.startAt = c.startAt;
    }
}

namespace {
// A one-dimensional array parameter in PostgreSQL's text form: {"a","b\"c"}, {1,2}, {t,f}.
class ArrayParam {
public:
    ArrayParam() { s_ = "{"; }
    void text(std::string_view v) {
        comma();
        s_ += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') s_ += '\\';
            s_ += c;
        }
        s_ += '"';
    }
    void number(std::int64_t v) {
        comma();
        s_ += std::to_string(v);
    }
    void boolean(bool v) {
        comma();
        s_ += v ? 't' : 'f';
    }
    std::string done() {
        s_ += '}';
        return std::move(s_);
    }

private:
    void comma() {
        if (s_.size() > 1) s_ += ',';
    }
    std::string s_;
};
constexpr std::size_t kPendingChunk = 1000;  // operations per SELECT / UPDATE (one array each)
}  // namespace

// The queued writes, per orchestration (in the order they first appear): one SELECT of the rows
// they name (by id, an array parameter), the changes applied in queue order as applyProgress and
// applySchedule apply them (so a later write sees an earlier one), one UPDATE of the columns
// those two change and the rendered item, from arrays (one prepared statement for any count).
// Both find each row by its primary key; the UPDATE then targets the version that lookup found
// (ctid, in the same statement).
void PostgresStore::writePending() {
    if (pending_.empty()) return;
    std::vector<PendingWrite> work;
    work.swap(pending_);  // a throw below fails the whole transaction: nothing is left queued
    pendingKeys_.clear();
    std::vector<const std::string*> orchs;
    for (const PendingWrite& w : work)
        if (std::none_of(orchs.begin(), orchs.end(), [&](const std::string* o) { return *o == w.orchestrationID; }))
            orchs.push_back(&w.orchestrationID);
    struct Row {
        Operation op;
        bool found = false;
    };
    for (const std::string* orch : orchs) {
        std::unordered_map<std::string, Row> rows;
        std::vector<const std::string*> ids;  // distinct, first-appearance order
        for (const PendingWrite& w : work)
            if (w.orchestrationID == *orch && rows.try_emplace(w.operationID).second) ids.push_back(&w.operationID);
        for (std::size_t at = 0; at < ids.size(); at += kPendingChunk) {
            ArrayParam arr;
            for (std::size_t i = at; i < std::min(ids.size(), at + kPendingChunk); ++i) arr.text(*ids[i]);
            // One primary-key lookup per id whatever the statistics say (OFFSET 0 keeps the
            // subquery a parameterised scan; a join on orchestration_id alone scanned all of the
            // orchestration's operations when the statistics were older than its insert).
            Result r = conn_->query(std::string("SELECT o.* FROM unnest($2::text[]) AS k(id) CROSS JOIN LATERAL (SELECT ") +
                                        kOpColumns + " FROM operations WHERE orchestration_id=$1 AND id=k.id OFFSET 0) AS o",
                                    Params().add(*orch).add(arr.done()));
            for (int i = 0; i < r.rows(); ++i) {
                Row& row = rows.at(r.text(i, 1));
                row.op = rowToOperation(r, i);
                row.found = true;
            }
        }
        for (const PendingWrite& w : work) {
            if (w.orchestrationID != *orch) continue;
            Row& row = rows.at(w.operationID);
            if (!row.found) throw PgError("no operation " + w.operationID + " in orchestration " + *orch);
            const std::string* description = w.description ? &*w.description : nullptr;
            if (w.move) {
                ScheduleChange c;
                c.startAt = w.startAt;
                c.windowBegin = w.window->first;
                c.windowEnd = w.window->second;
                applySchedule(c, description, w.updatedAt, row.op);
            } else {
                ProgressChange c;
                c.state = w.state;
                c.description = description;
                c.updatedAt = w.updatedAt;
                c.startedAt = w.startedAt;
                c.upgradeStarted = w.upgradeStarted;
                c.window = w.window;
                applyProgress(c, row.op);
            }
        }
        std::string wireBuf;
        for (std::size_t at = 0; at < ids.size(); at += kPendingChunk) {
            const std::size_t end = std::min(ids.size(), at + kPendingChunk);
            ArrayParam id, updatedAt, state, description, mwBegin, mwEnd, startAt, startedAt, upgradeStarted, wire;
            for (std::size_t i = at; i < end; ++i) {
                const Operation& op = rows.at(*ids[i]).op;
                id.text(op.operationID);
                updatedAt.number(op.updatedAt);
                state.number(stateCode(kOpStates, op.state));
                description.text(byteaParam(op.description));
                mwBegin.number(op.maintenanceWindowBegin);
                mwEnd.number(op.maintenanceWindowEnd);
                startAt.number(op.startAt);
                startedAt.number(op.startedAt);
                upgradeStarted.boolean(op.upgradeStarted);
                wireBuf.clear();
                appendOperationItem(wireBuf, itemView(op));
                wire.text(wireBuf);
            }
            Params p;
            p.add(*orch).add(id.done()).add(updatedAt.done()).add(state.done()).add(description.done())
                .add(mwBegin.done()).add(mwEnd.done()).add(startAt.done()).add(startedAt.done())
                .add(upgradeStarted.done()).add(wire.done());
            Result r = conn_->query(
                "UPDATE operations AS o SET updated_at=v.updated_at, state=v.state, description=v.description, "
                "mw_begin=v.mw_begin, mw_end=v.mw_end, start_at=v.start_at, started_at=v.started_at, "
                "upgrade_started=v.upgrade_started, wire=v.wire "
                "FROM unnest($2::text[], $3::bigint[], $4::smallint[], $5::bytea[], $6::bigint[], $7::bigint[], "
                "$8::bigint[], $9::bigint[], $10::boolean[], $11::text[]) "
                "AS v(id, updated_at, state, description, mw_begin, mw_end, start_at, started_at, upgrade_started, wire) "
                "CROSS JOIN LATERAL (SELECT ctid AS t FROM operations WHERE orchestration_id=$1 AND id=v.id OFFSET 0) AS k "
                "WHERE o.ctid=k.t",
                p);
            ++batchedWriteStatements_;
            if (r.affected() != static_cast<std::int64_t>(end - at))
                throw PgError("postgres: " + std::to_string(r.affected()) + " of " + std::to_string(end - at) +
                              " queued operation writes matched a row in orchestration " + *orch);
        }
    }
}

void PostgresStore::flushPending() {
    if (!pending_.empty()) writeTx([&] { writePending(); });
}

std::vector<Notification> PostgresStore::pendingNotifications(std::size_t limit) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    Result r = conn_->query("SELECT seq, kind, orchestration_id, payload FROM notification_outbox ORDER BY seq LIMIT $1",
                            Params().add(static_cast<std::int64_t>(limit)));
    std::vector<Notification> out;
    for (int i = 0; i < r.rows(); ++i) {
        Notification& n = out.emplace_back();
        n.sequence = r.i64(i, 0);
        const std::int64_t kind = r.i64(i, 1);
        if (kind < 0 || kind > 3) throw PgError("corrupt notification kind in store");
        n.kind = static_cast<Notification::Kind>(kind);
        n.orchestrationID = r.text(i, 2);
        n.payload = r.text(i, 3);
    }
    return out;
}

void PostgresStore::markNotificationsDelivered(const std::vector<std::int64_t>& sequences) {
    if (sequences.empty()) return;
    std::string arr = "{";
    for (std::size_t i = 0; i < sequences.size(); ++i) arr += (i ? "," : "") + std::to_string(sequences[i]);
    arr += "}";
    writeTx([&] { conn_->query("DELETE FROM notification_outbox WHERE seq = ANY($1::bigint[])", Params().add(arr)); });
}

std::int64_t PostgresStore::pendingNotificationCount() {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    return conn_->query("SELECT count(*) FROM notification_outbox").i64(0, 0);
}

std::optional<Orchestration> PostgresStore::getOrchestration(const std::string& id) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    Result r = conn_->query("SELECT data FROM orchestrations WHERE id=$1", Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return readOrchestration(r.view(0, 0));
}

Page<Orchestration> PostgresStore::listOrchestrations(const OrchestrationQuery& q) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    const std::string filter = stateFilter(kOrchStates, q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    Page<Orchestration> out;
    ReadTx tx(*conn_);  // the count and the rows from one snapshot
    out.totalCount = conn_->query("SELECT coalesce(sum(n),0) FROM orchestration_counts WHERE true" + filter).i64(0, 0);
    if (offset < out.totalCount) {
        Result r = conn_->query("SELECT data FROM orchestrations WHERE true" + filter +
                                    " ORDER BY created_at, id LIMIT $1 OFFSET $2",
                                Params().add(size).add(offset));
        for (int i = 0; i < r.rows(); ++i) out.data.push_back(readOrchestration(r.view(i, 0)));
    }
    tx.done();
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Orchestration> PostgresStore::unfinishedOrchestrations() {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    // Every state but the final ones: a paused orchestration (SPEC 10) is taken up again too.
    const std::string filter = stateFilter(
        kOrchStates, std::vector<OrchestrationState>{OrchestrationState::Pending, OrchestrationState::InProgress,
                                                     OrchestrationState::Canceling, OrchestrationState::Retrying,
                                                     OrchestrationState::Paused});
    Result r = conn_->query("SELECT data FROM orchestrations WHERE true" + filter + " ORDER BY created_at, id");
    std::vector<Orchestration> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(readOrchestration(r.view(i, 0)));
    return out;
}

std::optional<Operation> PostgresStore::getOperation(const std::string& orchestrationID,
                                                     const std::string& operationID) {
    // Only a queued write to this operation changes what this read sees (the engine reads the
    // record of each operation it starts, between the progress writes of others).
    if (pendingKeys_.count(pendingKey(orchestrationID, operationID))) flushPending();
    conn_->ensureConnected();
    Operation op;
    if (!readOp(orchestrationID, operationID, op)) return std::nullopt;
    return op;
}

Page<Operation> PostgresStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    const std::string filter = stateFilter(kOpStates, q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    Page<Operation> out;
    ReadTx tx(*conn_);
    out.totalCount = conn_->query("SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=$1" + filter,
                                  Params().add(orchestrationID))
                         .i64(0, 0);
    if (offset < out.totalCount) {
        Result r = conn_->query(std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=$1" +
                                    filter + kOpOrder + " LIMIT $2 OFFSET $3",
                                Params().add(orchestrationID).add(size).add(offset));
        for (int i = 0; i < r.rows(); ++i) out.data.push_back(rowToOperation(r, i));
    }
    tx.done();
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Operation> PostgresStore::operationsOf(const std::string& orchestrationID) {
    std::vector<Operation> out;
    forEachOperation(orchestrationID, [&](const Operation& op) { out.push_back(op); });
    return out;
}

namespace {
// Streams a query's rows through a cursor in one read snapshot, `batch` rows per fetch. Inside a
// commit group's transaction the cursor is closed at the end and the transaction goes on.
void streamRows(pg::Connection& c, const std::string& sql, const Params& params, int batch,
                const std::function<void(const Result&, int)>& fn) {
    ReadTx tx(c);
    c.queryOnce("DECLARE keb_stream NO SCROLL CURSOR FOR " + sql, params);
    const std::string fetch = "FETCH " + std::to_string(batch) + " FROM keb_stream";
    for (;;) {
        Result r = c.query(fetch);
        for (int i = 0; i < r.rows(); ++i) fn(r, i);
        if (r.rows() < batch) break;
    }
    if (!tx.own()) c.exec("CLOSE keb_stream");
    tx.done();
}
}  // namespace

void PostgresStore::forEachOperation(const std::string& orchestrationID,
                                     const std::function<void(const Operation&)>& fn) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    streamRows(*conn_, std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=$1" + kOpOrder,
               Params().add(orchestrationID), 5000, [&](const Result& r, int i) { fn(rowToOperation(r, i)); });
}

void PostgresStore::forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                            const std::function<void(const Operation&)>& fn) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    streamRows(*conn_,
               std::string("SELECT ") + kOpColumns + " FROM operations WHERE orchestration_id=$1 AND state=$2" +
                   kOpOrder,
               Params().add(orchestrationID).add(stateCode(kOpStates, state)), 5000,
               [&](const Result& r, int i) { fn(rowToOperation(r, i)); });
}

void PostgresStore::forEachOperationBrief(const std::string& orchestrationID,
                                          const std::function<void(const OperationBrief&)>& fn) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    streamRows(*conn_,
               std::string("SELECT id, runtime_id, seq, state, start_at, immediate, retry_of <> '' FROM operations "
                           "WHERE orchestration_id=$1") +
                   kOpOrder,
               Params().add(orchestrationID), 20000, [&](const Result& r, int i) {
                   fn(OperationBrief{r.view(i, 0), r.view(i, 1), r.i64(i, 2), stateFrom(kOpStates, r.i64(i, 3)),
                                     r.i64(i, 4), r.boolean(i, 5), r.boolean(i, 6), nullptr, nullptr});
               });
}

OperationStats PostgresStore::operationStats(const std::string& orchestrationID) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    OperationStats stats;
    for (auto st : kOpStates) stats[st] = 0;
    Result r = conn_->query("SELECT state, n FROM operation_counts WHERE orchestration_id=$1", Params().add(orchestrationID));
    for (int i = 0; i < r.rows(); ++i) stats[stateFrom(kOpStates, r.i64(i, 0))] += r.i64(i, 1);
    return stats;
}

Store::StateCounts PostgresStore::stateCounts() {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    StateCounts c;
    for (auto st : kOrchStates) c.orchestrations[st] = 0;
    for (auto st : kOpStates) c.operations[st] = 0;
    // Both maps from one statement: one snapshot.
    Result r = conn_->query(
        "SELECT 0, state, n FROM orchestration_counts UNION ALL "
        "SELECT 1, state, sum(n)::bigint FROM operation_counts GROUP BY state");
    for (int i = 0; i < r.rows(); ++i) {
        if (r.i64(i, 0) == 0) c.orchestrations[stateFrom(kOrchStates, r.i64(i, 1))] += r.i64(i, 2);
        else c.operations[stateFrom(kOpStates, r.i64(i, 1))] += r.i64(i, 2);
    }
    return c;
}

// One statement (one snapshot, one round trip): existence and totalCount (from the counters) on
// every row, then the page's stored items in list order (one row with a NULL item when the page
// is empty). Rows joined here rather than by string_agg(... ORDER BY ...): 4x faster measured.
bool PostgresStore::appendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) {
    return appendPage(orchestrationID, q, out, true);
}

namespace {
// The rows of a page: ($1 orchestration, $2 page size, $3 rows to skip, $4..$6 the anchor's key
// when `anchored`). Filtered by several states from an anchor: each state's first $2 + $3 rows
// from its own seek in operations_state, merged (one index walk over all states would read the
// other states' rows in between too).
std::string pageRowsSql(const std::vector<int>& codes, const std::string& filter, bool anchored) {
    const char* from = " AND (created_at, seq, id) >= ($4, $5, $6)";
    if (!anchored || codes.size() <= 1)
        return "SELECT wire, created_at, seq, id FROM operations WHERE orchestration_id=$1" + filter +
               (anchored ? from : "") + kOpOrder + " LIMIT $2 OFFSET $3";
    std::string arms;
    for (std::size_t i = 0; i < codes.size(); ++i)
        arms += std::string(i ? " UNION ALL " : "") +
                "(SELECT wire, created_at, seq, id FROM operations WHERE orchestration_id=$1 AND state=" +
                std::to_string(codes[i]) + from + kOpOrder + " LIMIT $2::bigint + $3::bigint)";
    return "SELECT wire, created_at, seq, id FROM (" + arms + ") u" + kOpOrder + " LIMIT $2 OFFSET $3";
}
}  // namespace

bool PostgresStore::appendPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out,
                               bool mayAnchor) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    const std::string filter = stateFilter(kOpStates, q.states);
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t offset = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    // A deep page, filtered or not, starts at the nearest anchor (page_anchors.h), not at OFFSET.
    // Not inside a commit group's open transaction: anchors taken from writes not yet committed
    // carry a token the rollback of a failed group would take back.
    std::int64_t skip = offset;
    std::shared_ptr<const PageAnchors::Anchors> anchors;
    const PageAnchors::Key* k = nullptr;
    const std::int64_t stride = options_.pageAnchorStride;
    unsigned mask = 0;
    const std::vector<int> codes = filterCodes(q.states, kOpStates, &mask);
    if (mayAnchor && !groupTx_ && stride > 0 && offset >= stride) {
        anchors = pageAnchorsOf(orchestrationID, filter, mask);
        k = anchors->before(offset, &skip);
        if (!k) skip = offset;
    }
    Params params;
    params.add(orchestrationID).add(size).add(skip);
    if (k) params.add(k->createdAt).add(k->seq).add(k->id);
    // h.x: the filter's entries (migration 2), the anchors' token beside the total.
    Result r = conn_->query(
        "SELECT h.e, h.t, s.wire" + std::string(k && mask ? ", h.x" : "") +
            " FROM (SELECT EXISTS (SELECT 1 FROM orchestrations WHERE id=$1) AS e, "
            "(SELECT coalesce(sum(n),0) FROM operation_counts WHERE orchestration_id=$1" + filter + ") AS t" +
            (k && mask ? ", (SELECT coalesce(sum(entered),0) FROM operation_counts WHERE orchestration_id=$1" + filter +
                             ") AS x"
                       : "") +
            ") h LEFT JOIN LATERAL (" + pageRowsSql(codes, filter, k != nullptr) +
            ") s ON true ORDER BY s.created_at, s.seq, s.id",
        params);
    if (r.rows() == 0 || !r.boolean(0, 0)) return false;
    if (k && (r.i64(0, 1) != anchors->total || (mask && r.i64(0, 3) != anchors->entered))) {
        // Unfiltered: operations were added since the anchors were taken. Filtered: an operation
        // also entered or left one of the states (page_anchors.h). Positions moved: forget the
        // anchors (the next deep page takes new ones) and answer this page with OFFSET.
        anchors_->drop(orchestrationID, mask, anchors.get());
        return appendPage(orchestrationID, q, out, false);
    }
    std::int64_t count = 0;
    std::size_t bytes = 0;
    for (int i = 0; i < r.rows(); ++i)
        if (!r.isNull(i, 2)) {
            ++count;
            bytes += r.view(i, 2).size() + 1;
        }
    out.reserve(out.size() + bytes + 64);
    appendPagePrefix(out, count);
    bool first = true;
    for (int i = 0; i < r.rows(); ++i) {
        if (r.isNull(i, 2)) continue;
        if (!first) out += ',';
        first = false;
        const std::string_view item = r.view(i, 2);
        out.append(item.data(), item.size());
    }
    appendPageSuffix(out, r.i64(0, 1));
    if (k) ++anchoredPages_;
    return true;
}

// The key of every stride-th operation in the filter's states (by position, from 1 * stride),
// the counters' token (total; filtered: also the states' entries) and the number of rows, in one
// statement (one snapshot).
std::shared_ptr<const PageAnchors::Anchors> PostgresStore::pageAnchorsOf(const std::string& orchestrationID,
                                                                         const std::string& filter, unsigned mask) {
    const std::int64_t stride = options_.pageAnchorStride;
    if (auto found = anchors_->find(orchestrationID, mask, stride)) return found;
    Result r = conn_->query(
        "SELECT t.total, x.created_at, x.seq, x.id, x.n, t.entered FROM "
        "(SELECT coalesce(sum(n),0) AS total, coalesce(sum(entered),0) AS entered FROM operation_counts "
        "WHERE orchestration_id=$1" + filter + ") t "
        "LEFT JOIN LATERAL (SELECT created_at, seq, id, pos, n FROM (SELECT created_at, seq, id, "
        "row_number() OVER (" + std::string(kOpOrder) + ") - 1 AS pos, count(*) OVER () AS n "
        "FROM operations WHERE orchestration_id=$1" + filter + ") w WHERE pos > 0 AND pos % $2 = 0) x ON true ORDER BY x.pos",
        Params().add(orchestrationID).add(stride));
    auto a = std::make_shared<PageAnchors::Anchors>();
    a->stride = stride;
    a->total = r.rows() > 0 ? r.i64(0, 0) : 0;
    if (mask && r.rows() > 0) a->entered = r.i64(0, 5);
    for (int i = 0; i < r.rows(); ++i) {
        if (r.isNull(i, 1)) break;  // fewer than stride + 1 operations: no anchor
        // Counters that disagree with the rows (never expected): no anchors, pages use OFFSET.
        if (r.i64(i, 4) != a->total) {
            a->keys.clear();
            break;
        }
        a->keys.push_back(PageAnchors::Key{r.i64(i, 1), r.i64(i, 2), std::string(r.view(i, 3))});
    }
    // Anchors without keys serve no page, so nothing would ever find them stale: not kept.
    if (!a->keys.empty()) anchors_->put(orchestrationID, mask, a);
    return a;
}

OperationPageSource::Render PostgresStore::appendOrchestration(const std::string& orchestrationID, std::string& out) {
    flushPending();  // this connection's reads see its queued writes
    conn_->ensureConnected();
    Result r = conn_->query(
        "SELECT wire, wire_split, (SELECT string_agg(state || ':' || n, ',') FROM operation_counts "
        "WHERE orchestration_id=$1) FROM orchestrations WHERE id=$1",
        Params().add(orchestrationID));
    if (r.rows() == 0) return Render::NotFound;
    if (r.isNull(0, 0) || r.isNull(0, 1)) return Render::Unavailable;
    const std::string_view wire = r.view(0, 0);
    const std::int64_t split = r.i64(0, 1);
    if (split <= 0 || static_cast<std::size_t>(split) >= wire.size()) return Render::Unavailable;
    OperationStats stats;
    for (auto st : kOpStates) stats[st] = 0;
    if (!r.isNull(0, 2)) {
        std::string_view list = r.view(0, 2);
        while (!list.empty()) {
            const std::size_t comma = list.find(',');
            const std::string_view item = list.substr(0, comma);
            const std::size_t colon = item.find(':');
            stats[stateFrom(kOpStates, std::stoll(std::string(item.substr(0, colon))))] +=
                std::stoll(std::string(item.substr(colon + 1)));
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    const auto at = static_cast<std::size_t>(split);
    out.append(wire.data(), at);
    out += ",\"operationStats\":";
    appendOperationStats(out, stats);
    out.append(wire.data() + at, wire.size() - at);
    return Render::Found;
}

}  // namespace keb::server
