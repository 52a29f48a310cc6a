// A store written by the previous schema (version 3, before SPEC 10) migrates when today's
// SqliteStore opens it (migrations 4, 5, 6, which rebuilds the operations table, and 7): every record reads back as the old server wrote it (new fields at their
// defaults: no stage, no rollout), the GET fast paths still give the JSON path's bytes, the
// engine's restart query sees the same unfinished orchestrations, and new data (paused, stages,
// rollout) can be written next to the old rows and survives a reopen.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "keb/api.h"
#include "keb/reference_store.h"
#include "keb/wire.h"
#include "sqlite_query_text.h"
#include "sqlite_store.h"
#include "sqlite_v3_data.h"
#include "store_contract.h"

#ifndef KEB_SOURCE_DIR
#error "KEB_SOURCE_DIR must be defined"
#endif

namespace {

using keb::server::SqliteStore;

struct Dir {
    std::filesystem::path path;
    Dir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "keb-migration-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~Dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

std::string fixtureSql() {
    std::ifstream in(std::string(KEB_SOURCE_DIR) + "/tests/server/data/sqlite-schema-v3.sql");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A database file holding exactly what the fixture holds (as the old server left it).
void loadFixture(const std::string& file) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const std::string sql = fixtureSql();
    ASSERT_FALSE(sql.empty());
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
}

int columnCount(const std::string& file, const char* table, const char* column) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* s = nullptr;
    const std::string sql = std::string("SELECT count(*) FROM pragma_table_info('") + table + "') WHERE name='" + column + "'";
    int n = -1;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

// Migration 6 rebuilt `operations` with `wire` right after the key columns (the page reads it
// without walking the record over the other columns) and recreated its indexes and trigger.
void expectOperationsTableOfVersion6(const std::string& file) {
    EXPECT_EQ(queryText(file, "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('operations') ORDER BY cid)"),
              "orchestration_id,id,seq,created_at,wire,updated_at,state,description,runtime_id,instance_id,"
              "global_account_id,sub_account_id,service_plan_id,service_plan_name,region,shoot_name,dry_run,"
              "mw_begin,mw_end,start_at,started_at,upgrade_started,immediate,retry_of,config_kind,config_a,"
              "config_b,config_c,stage");
    EXPECT_EQ(queryText(file, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE tbl_name='operations' "
                              "AND type IN ('index','trigger') ORDER BY name)"),
              "operations_id,operations_state,operations_upd");
    EXPECT_EQ(queryText(file, "SELECT count(*) FROM sqlite_master WHERE name='operations_v6'"), "0");
    EXPECT_EQ(queryText(file, "SELECT \"table\" FROM pragma_foreign_key_list('operations')"), "orchestrations");
    EXPECT_EQ(queryText(file, "SELECT count(*) FROM pragma_index_list('operations') WHERE origin='pk'"), "1");
}

// Every read of `s` against the reference (which got the same writes as the old server).
void expectSameReads(SqliteStore& s, keb::ReferenceStore& ref) {
    keb::OrchestrationQuery all;
    all.pageSize = 100;
    const auto want = ref.listOrchestrations(all);
    const auto got = s.listOrchestrations(all);
    ASSERT_EQ(got.data, want.data);
    EXPECT_EQ(got.totalCount, want.totalCount);
    EXPECT_EQ(keb::contract::ids(s.unfinishedOrchestrations()), keb::contract::ids(ref.unfinishedOrchestrations()));
    EXPECT_EQ(s.stateCounts(), ref.stateCounts());
    for (keb::OrchestrationState st : keb::allOrchestrationStates()) {
        keb::OrchestrationQuery q;
        q.states = {st};
        EXPECT_EQ(keb::contract::ids(s.listOrchestrations(q).data), keb::contract::ids(ref.listOrchestrations(q).data))
            << keb::toString(st);
    }
    keb::OperationPageSource* pages = s.pageSource();
    ASSERT_NE(pages, nullptr);
    for (const keb::Orchestration& o : want.data) {
        const std::string& id = o.orchestrationID;
        EXPECT_EQ(s.getOrchestration(id), ref.getOrchestration(id));
        EXPECT_EQ(s.operationsOf(id), ref.operationsOf(id)) << id;
        EXPECT_EQ(s.operationStats(id), ref.operationStats(id)) << id;
        for (const keb::Operation& op : ref.operationsOf(id)) EXPECT_EQ(s.getOperation(id, op.operationID), op);
        for (int size : {1, 2, 100}) {
            keb::OperationQuery q;
            q.pageSize = size;
            std::string text;
            ASSERT_TRUE(pages->appendOperationPage(id, q, text));
            EXPECT_EQ(text, keb::dumpWire(keb::pageJson(ref.listOperations(id, q)))) << id;
        }
        std::string text;
        const keb::OperationStats stats = ref.operationStats(id);
        if (o.parameters.strategy.stages.empty()) {
            ASSERT_EQ(pages->appendOrchestration(id, text), keb::OperationPageSource::Render::Found) << id;
            EXPECT_EQ(text, keb::dumpWire(keb::toJson(o, &stats))) << id;
        } else {
            EXPECT_EQ(pages->appendOrchestration(id, text), keb::OperationPageSource::Render::Unavailable) << id;
        }
    }
}

TEST(SqliteMigration, SchemaVersion3StoreMigratesAndReadsAsWritten) {
    Dir dir;
    const std::string file = (dir.path / "keb.db").string();
    loadFixture(file);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_EQ(columnCount(file, "operations", "stage"), 0) << "the fixture must be the old schema";

    keb::ReferenceStore ref;
    keb::test::writeSchemaV3Data(ref);
    {
        SqliteStore s(file);
        EXPECT_EQ(s.schemaVersion(), 7);
        EXPECT_EQ(columnCount(file, "operations", "stage"), 1);
        EXPECT_EQ(queryText(file, "SELECT count(*) FROM operation_counts WHERE entered <> n"), "0") << "migration 7";
        EXPECT_NE(queryText(file, "SELECT count(*) FROM operation_counts"), "0");
        expectOperationsTableOfVersion6(file);
        EXPECT_EQ(s.pendingNotificationCount(), 0) << "migration 5: an empty outbox";
        expectSameReads(s, ref);
        // Nothing old is staged or has rollout progress.
        for (const keb::Orchestration& o : s.listOrchestrations({}).data) {
            EXPECT_TRUE(o.rollout.empty()) << o.orchestrationID;
            for (const keb::Operation& op : s.operationsOf(o.orchestrationID)) EXPECT_EQ(op.stage, "");
        }
        EXPECT_EQ(s.unfinishedOrchestrations().size(), 4u) << "in progress, pending, canceling, retrying";
    }

    // New writes next to the old rows: the old in-progress orchestration is paused, a staged one
    // is added with staged operations; the old rows are updated through progress writes.
    const std::string oldID = "0b7a5f36-0d3b-4a53-9a2e-5b0f3c1a0002";
    auto write = [&](keb::Store& st) {
        keb::Orchestration b = *st.getOrchestration(oldID);
        b.state = keb::OrchestrationState::Paused;
        b.description = "paused by operator";
        b.updatedAt += 1;
        st.updateOrchestration(b);
        keb::Orchestration staged = keb::contract::makeStagedOrch("staged-1", 1'767'225'700'000);
        st.insertOrchestration(staged);
        std::vector<keb::Operation> ops;
        for (int i = 0; i < 5; ++i) {
            keb::Operation op = keb::contract::makeOp("staged-1", "s" + std::to_string(i), 1'767'225'700'010, i);
            op.stage = i < 2 ? "canary" : "rest";
            ops.push_back(op);
        }
        st.insertOperations(ops);
        keb::Store::ProgressChange c;
        c.operationID = "b1-5f36-0d3b-4a53-9a2e-5b0f3c1a0002";
        c.seq = 1;
        c.state = keb::OperationState::InProgress;
        c.updatedAt = 1'767'229'300'000;
        c.startedAt = c.updatedAt;
        st.updateOperationProgress(oldID, c);
    };
    {
        SqliteStore s(file);
        write(s);
        write(ref);
        expectSameReads(s, ref);
    }
    SqliteStore again(file);  // the migration runs once; the new rows survive the reopen
    EXPECT_EQ(again.schemaVersion(), 7);
    expectSameReads(again, ref);
    keb::OrchestrationQuery paused;
    paused.states = {keb::OrchestrationState::Paused};
    EXPECT_EQ(keb::contract::ids(again.listOrchestrations(paused).data), std::vector<std::string>{oldID});
    EXPECT_EQ(again.getOperation("staged-1", "s3")->stage, "rest");
}

// A store of a newer schema than this server knows is refused, naming the versions (the
// migration runs forward only).
TEST(SqliteMigration, NewerSchemaIsRefused) {
    Dir dir;
    const std::string file = (dir.path / "keb.db").string();
    { SqliteStore s(file); }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (8, 'later')", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    try {
        SqliteStore s(file);
        FAIL() << "a schema 8 store was opened";
    } catch (const keb::server::SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find("schema version 8"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("(7)"), std::string::npos) << e.what();
    }
}

}  // namespace
