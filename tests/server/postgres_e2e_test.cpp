// keb-server on `--store postgresql://...` (SPEC 11) end to end: a real keb-server process on a
// real PostgreSQL 15 (tests/pg, started by this binary). A rollout on the demo fleet is killed
// with SIGKILL several times and restarted on the same database: every acknowledged orchestration
// finishes, every operation ends, and none is left in progress (mirrors tests/server/crash_test.cpp).
// A PostgreSQL that cannot be reached, or a wrong URI: keb-server exits 2 with a clear message.
// Exit code 77 (ctest: skipped) only when the PostgreSQL binaries are not installed.
#include <sys/wait.h>

#include <random>

#include "pg_server.h"
#include "server_harness.h"

using namespace keb::test;

namespace {

PgServer* gServer = nullptr;

TEST(PostgresE2E, SigkillDuringRolloutThenRestartEverythingFinishes) {
    const std::string uri = gServer->createDatabase("keb_e2e_rollout");
    TempDir dir;
    const std::vector<std::string> args = {"--store", uri, "--auth", "none", "--demo-fleet", "30", "--demo-seed", "7",
                                           "--demo-upgrade-duration", "300ms", "--workers", "4", "--access-log", "off",
                                           "--engine-log", "off", "--lease-ttl", "2s"};
    ServerProcess s;
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    std::vector<std::string> ids;
    {
        Api a(s.port());
        // A PostgreSQL store is replicated (SPEC 11): writes wait for this process to take the lease.
        ASSERT_TRUE(eventually([&] { return a.get("/healthz").json.value("role", "") == "leader"; }, 20000))
            << a.get("/healthz").body;
        for (const std::string& body : {kymaBody(3), kymaBody(4), kymaBody(2, R"(,"dryRun":true)")}) {
            auto r = a.post("/upgrade/kyma", body);
            ASSERT_EQ(r.status, 202) << r.body;
            ids.push_back(r.json["orchestrationID"]);
        }
    }
    std::mt19937 rng(42);
    std::vector<int> unfinishedAtKill;
    for (int k = 0; k < 4; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));  // mid-rollout
        unfinishedAtKill.push_back(
            std::stoi(gServer->psql("SELECT count(*) FROM operations WHERE state IN (0, 1)", "keb_e2e_rollout")));
        s.kill(SIGKILL);
        ASSERT_TRUE(s.start(args, dir.path.string())) << "restart " << k << ": " << s.stderrText();
    }
    // The kills landed mid-rollout: operations were pending or running at the first ones.
    ASSERT_GT(unfinishedAtKill[0], 0);
    std::cout << "unfinished operations at each kill:";
    for (int n : unfinishedAtKill) std::cout << " " << n;
    std::cout << "\n";
    Api a(s.port());
    for (const auto& id : ids) {
        EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json.value("state", "") == "succeeded"; }, 60000))
            << id << ": " << a.get("/orchestrations/" + id).body;
        const auto o = a.get("/orchestrations/" + id).json;
        EXPECT_EQ(o["operationStats"]["succeeded"], 30) << o.dump();
        auto page = a.get("/orchestrations/" + id + "/operations?page_size=100").json;
        EXPECT_EQ(page["totalCount"], 30);
        for (const auto& op : page["data"]) EXPECT_EQ(op["state"], "succeeded") << op.dump();
    }
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 3);
    // In the database: nothing left in progress, the SPEC 11 constraint in place.
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM operations WHERE state <> 2", "keb_e2e_rollout"), "0");
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM pg_constraint WHERE conname = 'operations_one_in_progress_per_runtime'",
                            "keb_e2e_rollout"),
              "1");
    EXPECT_EQ(s.kill(SIGTERM), 0);
}

int exitCode(const std::vector<std::string>& args, std::string* err) {
    TempDir dir;
    ServerProcess s;
    if (s.start(args, dir.path.string(), 20000)) {
        s.kill(SIGKILL);
        return -1;  // it started: wrong
    }
    *err = s.stderrText();
    const int st = s.exitStatus();
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

TEST(PostgresE2E, UnreachableOrWrongPostgresExitsTwoWithAClearMessage) {
    TempDir empty;  // a socket folder where nothing listens
    struct Case {
        std::string uri, mentions;
    };
    for (const Case& c :
         {Case{"postgresql://keb:pw-s3cret@/keb?host=" + empty.path.string() + "&port=5999&connect_timeout=2",
               "cannot connect to PostgreSQL"},
          Case{"postgres:///no_such_database?host=" + gServer->dir() + "&port=5432&user=postgres",
               "does not exist"},
          Case{"postgresql://[::1", "cannot connect to PostgreSQL"},
          Case{"postgresql:///postgres?host=" + gServer->dir() + "&port=5432&nosuchoption=1", "invalid URI query parameter"}}) {
        std::string err;
        EXPECT_EQ(exitCode({"--store", c.uri, "--auth", "none"}, &err), 2) << c.uri << "\n" << err;
        EXPECT_NE(err.find(c.mentions), std::string::npos) << c.uri << "\n" << err;
        EXPECT_EQ(err.find("pw-s3cret"), std::string::npos) << "password echoed: " << err;
    }
}

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    std::string why;
    if (!PgServer::available(&why)) {
        std::cout << "SKIPPED: keb-server PostgreSQL e2e tests need the PostgreSQL server binaries: " << why << "\n";
        return 77;
    }
    PgServer server;
    gServer = &server;
    try {
        server.start();
    } catch (const std::exception& e) {
        std::cerr << "cannot start the throwaway PostgreSQL: " << e.what() << "\n";
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    gServer = nullptr;
    return rc;
}
