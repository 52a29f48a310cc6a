// SPEC 11 end to end: three keb-server replicas on one throwaway PostgreSQL, the demo fleet, a
// rollout of more than 2,000 operations with writes sent to every replica (followers forward them),
// and faults on a seeded schedule (KEB_HA_SEED, default 1): 10 kill -9 of the leader (restarted),
// 3 SIGSTOPs of the leader longer than the lease, 2 pg_terminate_backend of the leader's
// sessions, 1 PostgreSQL restart. After the faults heal it checks, from the database and the demo
// backend's own journal (keb_demo_upgrades, never the store):
//   - every write answered 2xx is stored and honoured (its orchestration succeeded);
//   - every orchestration finished; every operation was upgraded exactly once by the backend;
//   - no runtime upgraded twice by one orchestration, never two upgrades of one runtime at once;
//   - no replica wrote the store or started an upgrade while it did not hold the lease (an audit
//     trigger on the store's tables + the lease history), so the paused leader wrote nothing late;
//   - epochs only grow (lease history, and each replica's /healthz over time).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "pg_server.h"
#include "server_harness.h"

namespace {

using keb::test::Json;
using keb::test::PgServer;
using keb::test::ServerProcess;
using keb::test::TempDir;
using Clock = std::chrono::steady_clock;

constexpr int kReplicas = 3;
constexpr int kFleet = 2200;

struct Answer {
    int status = 0;
    Json json;
    std::string body;
};

Answer call(int port, const std::string& method, const std::string& path, const std::string& body = "",
            int timeoutMs = 3000 * keb::test::kTimeScale) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_connection_timeout(std::chrono::milliseconds(timeoutMs));
    cli.set_read_timeout(std::chrono::milliseconds(timeoutMs));
    httplib::Result r = method == "POST" ? cli.Post(path.c_str(), body, "application/json") : cli.Get(path.c_str());
    Answer a;
    if (!r) return a;
    a.status = r->status;
    a.body = r->body;
    a.json = Json::parse(r->body, nullptr, false);
    return a;
}

// As a client honouring Retry-After: repeats a request answered 503 (no leader known yet: a
// follower that has just started learns the leader from the lease on its next read) for up to
// timeoutMs. A 503 wrote nothing, so repeating a POST is safe.
Answer callUntilLed(int port, const std::string& method, const std::string& path, const std::string& body = "",
                    int timeoutMs = 15000 * keb::test::kTimeScale) {
    Answer a;
    keb::test::eventually([&] {
        a = call(port, method, path, body, 10000 * keb::test::kTimeScale);
        return a.status != 503;
    }, timeoutMs, 200);
    return a;
}

class Cluster {
public:
    Cluster(std::string dbUri, TempDir& dir) : uri_(std::move(dbUri)), dir_(dir) {}

    std::vector<std::string> args(int i) const {
        return {"--store", uri_ + "&application_name=r" + std::to_string(i), "--replica-id", "r" + std::to_string(i),
                "--lease-ttl", "2s", "--demo-fleet", std::to_string(kFleet), "--demo-upgrade-duration", "300ms",
                "--auth", "none", "--access-log", "off", "--engine-log", "off", "--workers", "24"};
    }
    bool start(int i) {
        const bool ok = p_[i].start(args(i), dir_.path.string(), 20000);
        std::lock_guard<std::mutex> lk(mu_);
        ports_[i] = ok ? p_[i].port() : 0;
        return ok;
    }
    ServerProcess& at(int i) { return p_[i]; }
    // For the writer thread: the published port (0 while down). It must not read p_[i] itself:
    // start() rewrites the process's pid and port on the main thread (ThreadSanitizer reported
    // ServerProcess::running() racing with ServerProcess::start() under killAndRestart).
    int port(int i) {
        std::lock_guard<std::mutex> lk(mu_);
        return ports_[i];
    }
    // The replica whose /healthz says leader (-1 when none within timeoutMs).
    int leader(int timeoutMs = 15000) {
        auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
        do {
            for (int i = 0; i < kReplicas; ++i) {
                if (stopped_.count(i) || !p_[i].running()) continue;
                auto h = call(p_[i].port(), "GET", "/healthz", "", 1000);
                if (h.status == 200 && h.json.is_object()) {
                    noteEpoch(i, h.json.value("epoch", std::int64_t{0}));
                    if (h.json.value("role", "") == "leader") return i;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        } while (Clock::now() < deadline);
        return -1;
    }
    void noteEpoch(int i, std::int64_t e) {
        std::lock_guard<std::mutex> lk(mu_);
        if (e < lastEpoch_[i] && !restartedSinceEpoch_[i]) epochWentBack_ = true;
        lastEpoch_[i] = e;
        restartedSinceEpoch_[i] = false;
    }
    void killAndRestart(int i) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            ports_[i] = 0;
            p_[i].kill(SIGKILL);
        }
        ASSERT_TRUE(start(i)) << p_[i].stderrText();
        std::lock_guard<std::mutex> lk(mu_);
        restartedSinceEpoch_[i] = true;  // a new process may first show the epoch it last saw, lower is fine
    }
    std::set<int> stopped_;
    bool epochWentBack_ = false;

private:
    std::string uri_;
    TempDir& dir_;
    std::mutex mu_;
    ServerProcess p_[kReplicas];
    int ports_[kReplicas] = {0, 0, 0};
    std::int64_t lastEpoch_[kReplicas] = {0, 0, 0};
    bool restartedSinceEpoch_[kReplicas] = {false, false, false};
};

// Orchestrations not in a final state, through the API (paged); -1 when a page failed.
std::int64_t unfinishedOrchestrations(int port) {
    std::int64_t n = 0;
    for (int page = 1;; ++page) {
        auto a = call(port, "GET", "/orchestrations?page_size=100&page=" + std::to_string(page), "", 10000);
        if (a.status != 200 || !a.json.is_object()) return -1;
        if (a.json["data"].empty()) return n;
        for (const auto& o : a.json["data"]) {
            const std::string st = o.value("state", "");
            if (st != "succeeded" && st != "failed" && st != "canceled") ++n;
        }
    }
}

std::int64_t sqlInt(PgServer& pg, const std::string& sql, const std::string& db) {
    std::string out = pg.psql(sql, db);
    return std::stoll(out.empty() ? "0" : out);
}

TEST(Replicas, FaultsDuringARolloutLoseNothingAndUpgradeOnce) {
    std::string why;
    if (!PgServer::available(&why)) GTEST_SKIP() << "PostgreSQL not installed: " << why;
    const char* seedEnv = std::getenv("KEB_HA_SEED");
    const unsigned seed = seedEnv ? static_cast<unsigned>(std::atoi(seedEnv)) : 1u;
    std::mt19937 rng(seed);
    TempDir dir;
    PgServer pg;
    pg.start();
    const std::string db = "keb_ha";
    const std::string uri = pg.createDatabase(db);
    Cluster cluster(uri, dir);
    ASSERT_TRUE(cluster.start(0)) << cluster.at(0).stderrText();  // migrates the schema
    // Audit: every statement on the store's tables, with the session's replica and the time
    // (read after the fence's FOR SHARE lock, so it orders against take-overs).
    pg.psql(R"SQL(
CREATE TABLE keb_ha_audit (app text NOT NULL, at timestamptz NOT NULL, tbl text NOT NULL);
CREATE FUNCTION keb_ha_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO keb_ha_audit VALUES (current_setting('application_name'), clock_timestamp(), TG_TABLE_NAME);
RETURN NULL; END $$;
CREATE TRIGGER keb_ha_audit_o AFTER INSERT OR UPDATE OR DELETE ON orchestrations
  FOR EACH STATEMENT EXECUTE FUNCTION keb_ha_audit();
CREATE TRIGGER keb_ha_audit_p AFTER INSERT OR UPDATE OR DELETE ON operations
  FOR EACH STATEMENT EXECUTE FUNCTION keb_ha_audit();
)SQL", db);
    for (int i = 1; i < kReplicas; ++i) ASSERT_TRUE(cluster.start(i)) << cluster.at(i).stderrText();
    int lead = cluster.leader();
    ASSERT_GE(lead, 0) << "no leader after start";
    const int follower = (lead + 1) % kReplicas;

    // Runtime ids for small orchestrations (a fleet read, forwarded by the follower).
    auto rts = callUntilLed(cluster.port(follower), "GET", "/runtimes?page_size=100");
    ASSERT_EQ(rts.status, 200) << rts.body;
    std::vector<std::string> runtimeIDs;
    for (const auto& r : rts.json["data"]) runtimeIDs.push_back(r["runtimeID"]);
    ASSERT_GE(runtimeIDs.size(), 10u);

    // The rollout, sent to a follower: every runtime of the fleet, 16 at a time.
    const std::string big = R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":16}},"kyma":{"version":"2.20.0"}})";
    auto first = callUntilLed(cluster.port(follower), "POST", "/upgrade/kyma", big);
    ASSERT_EQ(first.status, 202) << first.body;
    std::mutex ackMu;
    // orchestrationID -> least operations expected (a runtime being deprovisioned or suspended is
    // not a target: "all" resolves to a little less than the fleet)
    std::map<std::string, int> acknowledged;
    acknowledged[first.json["orchestrationID"]] = 2000;

    // Writes to every replica while the faults run: small orchestrations of 2 runtimes each.
    std::atomic<bool> stopWriting{false};
    std::atomic<int> sent{0}, ok{0}, unavailable{0};
    std::thread writer([&] {
        std::mt19937 wr(seed * 7 + 1);
        while (!stopWriting) {
            const int i = static_cast<int>(wr() % kReplicas);
            const int port = cluster.port(i);
            const std::string a = runtimeIDs[wr() % runtimeIDs.size()], b = runtimeIDs[wr() % runtimeIDs.size()];
            if (port > 0 && a != b) {
                const std::string body = R"({"targets":{"include":[{"runtimeID":")" + a + R"("},{"runtimeID":")" + b +
                                         R"("}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":2}},"kyma":{"version":"2.21.0"}})";
                ++sent;
                auto r = call(port, "POST", "/upgrade/kyma", body, 3000);
                if (r.status >= 200 && r.status < 300) {
                    ++ok;
                    std::lock_guard<std::mutex> lk(ackMu);
                    acknowledged[r.json["orchestrationID"]] = 1;
                } else if (r.status == 503) {
                    ++unavailable;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
    });

    // The seeded fault schedule.
    enum Fault { Kill, Stop, Terminate, RestartPg };
    std::vector<Fault> faults(10, Kill);
    faults.insert(faults.end(), 3, Stop);
    faults.insert(faults.end(), 2, Terminate);
    faults.push_back(RestartPg);
    std::shuffle(faults.begin(), faults.end(), rng);
    std::set<std::string> pausedReplicas;
    int applied = 0;
    const auto t0 = Clock::now();
    for (Fault f : faults) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2500 + rng() % 2000));
        lead = cluster.leader();
        ASSERT_GE(lead, 0) << "no leader before fault " << applied;
        const std::string name = "r" + std::to_string(lead);
        switch (f) {
            case Kill:
                std::printf("[ha] %5.1fs kill -9 leader %s\n", std::chrono::duration<double>(Clock::now() - t0).count(), name.c_str());
                cluster.killAndRestart(lead);
                break;
            case Stop:
                std::printf("[ha] %5.1fs SIGSTOP leader %s for 3.5s\n", std::chrono::duration<double>(Clock::now() - t0).count(), name.c_str());
                ::kill(cluster.at(lead).pid(), SIGSTOP);
                cluster.stopped_.insert(lead);
                std::this_thread::sleep_for(std::chrono::milliseconds(3500));
                ::kill(cluster.at(lead).pid(), SIGCONT);
                cluster.stopped_.erase(lead);
                pausedReplicas.insert(name);
                break;
            case Terminate:
                std::printf("[ha] %5.1fs pg_terminate_backend of %s's sessions: %s\n",
                            std::chrono::duration<double>(Clock::now() - t0).count(), name.c_str(),
                            pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" + name + "'").c_str());
                break;
            case RestartPg:
                std::printf("[ha] %5.1fs PostgreSQL restart\n", std::chrono::duration<double>(Clock::now() - t0).count());
                pg.restart();
                break;
        }
        std::fflush(stdout);
        ++applied;
    }
    stopWriting = true;
    writer.join();
    ASSERT_GE(cluster.leader(30000), 0) << "no leader after the faults";
    std::printf("[ha] faults done after %.1fs; writes sent %d, 2xx %d, 503 %d\n",
                std::chrono::duration<double>(Clock::now() - t0).count(), sent.load(), ok.load(), unavailable.load());

    // Every orchestration finishes (the rollout included).
    const auto deadline = Clock::now() + std::chrono::seconds(240);
    std::int64_t unfinished = -1;
    while (Clock::now() < deadline) {
        unfinished = unfinishedOrchestrations(cluster.port(std::max(0, cluster.leader(20000))));
        if (unfinished == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    }
    EXPECT_EQ(unfinished, 0) << "orchestrations still running after the faults healed";

    // Every acknowledged write: stored, succeeded, with its operations; every operation either
    // upgraded by the backend or skipped as superseded (SPEC 6: a later orchestration's operation
    // of the same runtime ran), never neither.
    std::map<std::string, std::int64_t> opsStored;
    {
        std::istringstream rows(pg.psql("SELECT orchestration_id || ' ' || count(*) FROM operations GROUP BY orchestration_id", db));
        std::string id;
        std::int64_t n = 0;
        while (rows >> id >> n) opsStored[id] = n;
    }
    const int anyPort = cluster.port(std::max(0, cluster.leader()));
    for (const auto& [id, ops] : acknowledged) {
        auto o = call(anyPort, "GET", "/orchestrations/" + id);
        ASSERT_EQ(o.status, 200) << "acknowledged orchestration lost: " << id << " " << o.body;
        EXPECT_EQ(o.json.value("state", ""), "succeeded") << o.body;
        EXPECT_GE(opsStored[id], ops) << "orchestration " << id << ": operations stored";
    }
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM operations o WHERE NOT o.dry_run AND convert_from(o.description, 'UTF8') NOT LIKE 'skipped%' "
                         "AND NOT EXISTS (SELECT 1 FROM keb_demo_upgrades u WHERE u.operation_id = o.id)", db), 0)
        << "operations that ended without an upgrade by the backend";
    std::printf("[ha] %lld operations skipped as superseded\n",
                static_cast<long long>(sqlInt(pg, "SELECT count(*) FROM operations WHERE convert_from(description, 'UTF8') LIKE 'skipped%'", db)));
    // The backend's own record.
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM (SELECT 1 FROM keb_demo_upgrades GROUP BY orchestration_id, runtime_id HAVING count(*) > 1) t", db), 0)
        << "a runtime upgraded twice by one orchestration";
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM (SELECT started_at, lag(started_at + duration_ms) OVER (PARTITION BY runtime_id ORDER BY started_at) AS prev_end FROM keb_demo_upgrades) t WHERE prev_end > started_at", db), 0)
        << "two upgrades of one runtime at once";
    const std::int64_t upgrades = sqlInt(pg, "SELECT count(*) FROM keb_demo_upgrades", db);
    EXPECT_GE(upgrades, 2000);
    // Nobody acted without the lease: each audited store write and each recorded upgrade start
    // happened while its replica held the newest epoch taken so far.
    const std::string holderAt = "(SELECT holder FROM keb_lease_history h WHERE h.taken_at <= %AT% ORDER BY h.taken_at DESC LIMIT 1)";
    auto holderSql = [&](const std::string& at) {
        std::string s = holderAt;
        s.replace(s.find("%AT%"), 4, at);
        return s;
    };
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM keb_ha_audit a WHERE " + holderSql("a.at") + " IS DISTINCT FROM a.app", db), 0)
        << "a store write by a replica that did not hold the lease: "
        << pg.psql("SELECT a.app, a.at, a.tbl, " + holderSql("a.at") + " FROM keb_ha_audit a WHERE " + holderSql("a.at") + " IS DISTINCT FROM a.app LIMIT 5", db);
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM keb_demo_upgrades u WHERE " + holderSql("u.recorded_at") + " IS DISTINCT FROM u.replica", db), 0)
        << "an upgrade started by a replica that did not hold the lease";
    for (const auto& r : pausedReplicas)
        std::printf("[ha] paused leader %s: %lld store writes, all under its own leases\n", r.c_str(),
                    static_cast<long long>(sqlInt(pg, "SELECT count(*) FROM keb_ha_audit WHERE app = '" + r + "'", db)));
    // Epochs only grow.
    EXPECT_EQ(sqlInt(pg, "SELECT count(*) FROM (SELECT taken_at, lag(taken_at) OVER (ORDER BY epoch) AS p FROM keb_lease_history) t WHERE p >= taken_at", db), 0);
    EXPECT_FALSE(cluster.epochWentBack_) << "a replica's /healthz epoch went down";
    const std::int64_t epochs = sqlInt(pg, "SELECT max(epoch) FROM keb_lease_history", db);
    EXPECT_GE(epochs, 11) << "each kill/stop should have moved the lease";
    std::printf("[ha] %lld upgrades, %lld duplicate starts answered from the journal, %lld epochs, %zu acknowledged writes\n",
                static_cast<long long>(upgrades),
                static_cast<long long>(sqlInt(pg, "SELECT count(*) FROM keb_demo_duplicate_starts", db)),
                static_cast<long long>(epochs), acknowledged.size());
}

}  // namespace
