// keb-server on `--store postgresql://...` (SPEC 11) end to end: a real keb-server process on a
// real PostgreSQL 15 (tests/pg, started by this binary). A rollout on the demo fleet is killed
// with SIGKILL several times and restarted on the same database: every acknowledged orchestration
// finishes, every operation ends, and none is left in progress (mirrors tests/server/crash_test.cpp).
// A PostgreSQL that cannot be reached, or a wrong URI: keb-server exits 2 with a clear message.
// Exit code 77 (ctest: skipped) only when the PostgreSQL binaries are not installed.
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <thread>

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

// The store URI's password (userinfo, ?password=) never shows in the banner, the logs or /healthz,
// neither at a normal start nor when the start fails (SPEC 11; redact.h).
TEST(PostgresE2E, TheStorePasswordIsNeverPrinted) {
    gServer->createDatabase("keb_e2e_pw");
    // The throwaway server trusts every local connection: the passwords are accepted, unchecked.
    const std::string where = "/keb_e2e_pw?host=" + gServer->dir() + "&port=5432";
    for (const std::string& uri : {"postgresql://postgres:Pw-s3cret-1@" + where,
                                   "postgres://postgres@" + where + "&password=Pw-s3cret-2&application_name=keb"}) {
        TempDir dir;
        ServerProcess s;
        ASSERT_TRUE(s.start({"--store", uri, "--auth", "none", "--demo-fleet", "3", "--lease-ttl", "3s"},
                            dir.path.string()))
            << s.stderrText();
        Api a(s.port());
        const auto h = a.get("/healthz");
        EXPECT_EQ(h.status, 200) << h.body;
        EXPECT_EQ(h.body.find("s3cret"), std::string::npos) << h.body;
        EXPECT_EQ(s.kill(SIGTERM), 0);
        const std::string out = s.stdoutText(), err = s.stderrText();
        EXPECT_NE(out.find("keb-server is listening"), std::string::npos) << out;
        EXPECT_NE(out.find("***"), std::string::npos) << "the banner shows the URI redacted: " << out;
        EXPECT_NE(err.find("\"startup.listening\""), std::string::npos) << err;
        EXPECT_EQ(out.find("s3cret"), std::string::npos) << "password in stdout: " << out;
        EXPECT_EQ(err.find("s3cret"), std::string::npos) << "password in stderr: " << err;
    }
    // Failing starts (exit 2): unreachable, a password in the query, a bad percent-escape in the
    // password (libpq quotes the bad token), a misspelt scheme.
    TempDir empty;
    for (const std::string& uri :
         {"postgresql://keb:Pw-s3cret-3@/keb?host=" + empty.path.string() + "&port=5999&connect_timeout=2",
          "postgresql:///keb?host=" + empty.path.string() + "&port=5999&password=Pw-s3cret-4",
          "postgresql://keb:Pw-s3cret-%zz@/keb?host=" + empty.path.string() + "&port=5999",
          std::string("postgre://keb:Pw-s3cret-5@localhost/keb")}) {
        std::string err;
        EXPECT_EQ(exitCode({"--store", uri, "--auth", "none"}, &err), 2) << uri << "\n" << err;
        EXPECT_EQ(err.find("s3cret"), std::string::npos) << "password echoed: " << err;
        EXPECT_FALSE(err.empty());
    }
}

// SPEC 11: a write that reaches a leader whose store refuses it (fenced by a newer epoch) answers
// 503 {"error"} with Retry-After, like "no leader", not 500; nothing of it is stored.
TEST(PostgresE2E, AFencedWriteAnswers503WithRetryAfter) {
    const std::string uri = gServer->createDatabase("keb_e2e_fenced");
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", uri, "--auth", "none", "--demo-fleet", "5", "--lease-ttl", "30s", "--access-log",
                         "off", "--engine-log", "off"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    ASSERT_TRUE(eventually([&] { return a.get("/healthz").json.value("role", "") == "leader"; }, 20000));
    // Another replica took the lease (a newer epoch) and this one has not noticed yet (it renews
    // every 10 s): its next write transaction is fenced.
    gServer->psql("UPDATE keb_lease SET holder = 'intruder', epoch = epoch + 1, advertise_url = '', "
                  "expires_at = now() + interval '1 hour'",
                  "keb_e2e_fenced");
    const auto r = a.post("/upgrade/kyma", kymaBody(2));
    EXPECT_EQ(r.status, 503) << r.body;
    EXPECT_TRUE(r.json.is_object() && r.json.contains("error")) << r.body;
    std::cout << "fenced write answered: " << r.status << " " << r.body << "\n";
    std::string retryAfter;
    for (const auto& [k, v] : r.headers)
        if (k == "Retry-After") retryAfter = v;
    EXPECT_FALSE(retryAfter.empty()) << "no Retry-After";
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM orchestrations", "keb_e2e_fenced"), "0");
    // It steps down: a follower now, and later writes get the "no leader" 503 as well.
    EXPECT_TRUE(eventually([&] { return a.get("/healthz").json.value("role", "") == "follower"; }, 20000));
    const auto again = a.post("/upgrade/kyma", kymaBody(2));
    EXPECT_EQ(again.status, 503) << again.body;
    EXPECT_EQ(s.kill(SIGTERM), 0);
}

std::int64_t wallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// SPEC 11, losing the database while running: PostgreSQL stopped (immediate) mid-rollout for a few
// seconds. /healthz keeps answering (degraded), writes answer 503 with Retry-After (no hang, no
// crash), the demo backend starts nothing; once PostgreSQL is back the rollout finishes, every
// operation succeeded and no runtime was upgraded twice (the demo backend's journal).
TEST(PostgresE2E, LosingTheDatabaseWhileRunning) {
    const std::string db = "keb_e2e_dbloss";
    const std::string uri = gServer->createDatabase(db);
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", uri, "--auth", "none", "--demo-fleet", "40", "--demo-seed", "3",
                         "--demo-upgrade-duration", "400ms", "--workers", "3", "--lease-ttl", "3s", "--access-log",
                         "off", "--engine-log", "off"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    a.raw().set_read_timeout(5, 0);  // an answer, not a hang
    ASSERT_TRUE(eventually([&] { return a.get("/healthz").json.value("role", "") == "leader"; }, 20000));
    const auto r = a.post("/upgrade/kyma", kymaBody(3));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return std::stoi(gServer->psql("SELECT count(*) FROM operations WHERE state = 2", db)) >= 3; },
                           30000));
    ASSERT_LT(std::stoi(gServer->psql("SELECT count(*) FROM operations WHERE state = 2", db)), 40) << "finished too early";

    gServer->stop();  // pg_ctl stop -m immediate
    const std::int64_t downAt = wallMs();
    int healthAnswers = 0, degraded = 0, writes503 = 0, writesOther = 0;
    std::string lastHealth, lastWrite;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
        const auto h = a.get("/healthz");
        ASSERT_TRUE(h.status == 200 || h.status == 503) << "healthz: " << h.status << " " << h.body;
        ++healthAnswers;
        lastHealth = h.body;
        if (h.body.find("degraded") != std::string::npos || h.body.find("problem") != std::string::npos) ++degraded;
        const auto t0 = std::chrono::steady_clock::now();
        const auto w = a.post("/upgrade/kyma", kymaBody(2));
        EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4)) << "a write hung";
        lastWrite = std::to_string(w.status) + " " + w.body;
        if (w.status == 503 && w.headers.count("Retry-After")) ++writes503;
        else {
            ++writesOther;
            std::cout << "write while the database is down: " << lastWrite << "\n";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::cout << "database down 5 s: healthz answered " << healthAnswers << " (degraded " << degraded << "), writes 503 "
              << writes503 << ", other " << writesOther << "\n  last healthz: " << lastHealth
              << "\n  last write: " << lastWrite << "\n";
    EXPECT_GT(degraded, 0) << lastHealth;
    EXPECT_EQ(writesOther, 0) << lastWrite;
    EXPECT_GT(writes503, 0);
    EXPECT_TRUE(s.running());
    const std::int64_t upAt = wallMs();
    gServer->start();  // the same data

    EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json.value("state", "") == "succeeded"; }, 60000))
        << a.get("/orchestrations/" + id).body;
    EXPECT_EQ(a.get("/orchestrations/" + id).json["operationStats"]["succeeded"], 40);
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 1) << "a write answered 503 was stored";
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM operations WHERE state <> 2", db), "0");
    // The demo backend's journal (not the store): one start per runtime, none while the database was down.
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM keb_demo_upgrades", db), "40");
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM (SELECT runtime_id FROM keb_demo_upgrades GROUP BY runtime_id "
                            "HAVING count(*) > 1) d",
                            db),
              "0");
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM keb_demo_duplicate_starts", db), "0");
    EXPECT_EQ(gServer->psql("SELECT count(*) FROM keb_demo_upgrades WHERE started_at BETWEEN " + std::to_string(downAt) +
                                " AND " + std::to_string(upAt),
                            db),
              "0");
    EXPECT_EQ(s.kill(SIGTERM), 0);
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
