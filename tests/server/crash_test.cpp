// The crash test (issue 4): a rollout on the demo fleet, keb-server killed with SIGKILL at
// random moments (>= 20 times) and restarted on the same SQLite file. At the end every
// acknowledged orchestration completes, every operation ends, and no runtime got two
// upgrades from one operation.
//
// How "two upgrades" is checked: the demo backend writes a line to an fsynced append-only
// journal (<db>.upgrades.jsonl) BEFORE it reports an upgrade as started, and start() is
// idempotent per operationID across restarts (it reloads the journal). So the journal holds
// exactly the upgrades that happened: an operationID appearing twice as "upgrade" would be a
// runtime upgraded twice by one operation. "duplicate-start" lines count start() calls the
// engine repeated after a crash that were absorbed (not upgrades).
//
// Replay a run: KEB_CRASH_SEED=<seed printed by the test>.
#include <random>
#include <set>
#include <sstream>
#include <unordered_map>

#include "server_harness.h"

using namespace keb::test;

namespace {

constexpr const char* kSecret = "crash-test-secret-42";

TEST(CrashTest, SigkillDuringRolloutLosesNothingAndNeverUpgradesTwice) {
    const char* envSeed = std::getenv("KEB_CRASH_SEED");
    const unsigned seed = envSeed ? static_cast<unsigned>(std::strtoul(envSeed, nullptr, 10)) : std::random_device{}();
    std::cout << "crash test seed: " << seed << " (replay with KEB_CRASH_SEED=" << seed << ")\n";
    std::mt19937 rng(seed);
    const int kills = std::getenv("KEB_LONG_TESTS") ? 100 : 24;

    TempDir dir;
    const std::string db = dir / "keb.db";
    const std::vector<std::string> args = {"--store", "sqlite:" + db, "--auth", std::string("hs256:") + kSecret,
                                           "--demo-fleet", "60", "--demo-seed", "7", "--demo-upgrade-duration", "250ms",
                                           "--workers", "6", "--access-log", "off", "--engine-log", "off"};
    const std::string tok = token(kSecret, "broker-upgrade:read broker-upgrade:write");
    std::vector<std::string> acknowledged;  // orchestrations answered with 202
    ServerProcess s;
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();

    auto submit = [&](int k) {
        Api a(s.port(), tok);
        std::string body;
        switch (k % 3) {
            case 0: body = kymaBody(4); break;
            case 1:
                body = R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":3}},
                          "kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.3"}})";
                break;
            default: body = kymaBody(5, R"(,"dryRun":true)"); break;
        }
        auto r = a.post(k % 3 == 1 ? "/upgrade/cluster" : "/upgrade/kyma", body);
        if (r.status == 202) acknowledged.push_back(r.json["orchestrationID"]);
        // status 0: killed mid-request, not acknowledged: it may or may not exist, both are fine.
    };

    submit(0);
    submit(1);
    int submitted = 2;
    std::uniform_int_distribution<int> wait(20, 600);
    for (int k = 0; k < kills; ++k) {
        // Sometimes a request is in flight when the kill lands.
        std::thread t;
        if (k % 4 == 0) t = std::thread([&, n = submitted++] { submit(n); });
        std::this_thread::sleep_for(std::chrono::milliseconds(wait(rng)));
        s.kill(SIGKILL);
        if (t.joinable()) t.join();
        ASSERT_TRUE(s.start(args, dir.path.string())) << "restart " << k << " failed:\n" << s.stderrText();
    }
    // Let it finish.
    Api a(s.port(), tok);
    ASSERT_FALSE(acknowledged.empty());
    for (const auto& id : acknowledged) {
        ASSERT_TRUE(eventually(
            [&] {
                auto o = a.get("/orchestrations/" + id);
                std::string st = o.json.is_object() ? o.json.value("state", "") : "";
                return st == "succeeded";
            },
            60000, 100))
            << "orchestration " << id << " did not complete: " << a.get("/orchestrations/" + id).body;
    }
    // Every orchestration in the store (acknowledged or not) has ended; every operation has ended.
    auto list = a.get("/orchestrations?page_size=100");
    ASSERT_EQ(list.status, 200);
    std::set<std::string> stored;
    for (const auto& o : list.json["data"]) {
        stored.insert(o["orchestrationID"]);
        EXPECT_TRUE(eventually([&] {
            auto st = a.get("/orchestrations/" + o["orchestrationID"].get<std::string>()).json["state"];
            return st == "succeeded" || st == "failed";
        }, 30000, 100));
    }
    for (const auto& id : acknowledged) EXPECT_TRUE(stored.count(id)) << "acknowledged orchestration lost: " << id;

    std::unordered_map<std::string, int> upgradesPerOp;
    std::unordered_map<std::string, std::string> runtimeOfOp;
    int duplicateStarts = 0;
    {
        std::ifstream in(db + ".upgrades.jsonl");
        std::string line;
        while (std::getline(in, line)) {
            Json j = Json::parse(line, nullptr, false);
            if (!j.is_object()) continue;  // a line torn by a kill
            if (j["kind"] == "upgrade") {
                ++upgradesPerOp[j["operationID"]];
                runtimeOfOp[j["operationID"]] = j["runtimeID"];
            } else if (j["kind"] == "duplicate-start") {
                ++duplicateStarts;
            }
        }
    }
    int operations = 0, upgraded = 0;
    for (const auto& id : stored) {
        bool dry = false;
        auto one = a.get("/orchestrations/" + id);
        dry = one.json["parameters"].value("dryRun", false);
        std::map<std::string, int> perRuntime;
        for (int page = 1;; ++page) {
            auto p = a.get("/orchestrations/" + id + "/operations?page_size=100&page=" + std::to_string(page));
            ASSERT_EQ(p.status, 200);
            if (p.json["data"].empty()) break;
            for (const auto& op : p.json["data"]) {
                ++operations;
                const std::string st = op["state"];
                EXPECT_TRUE(st == "succeeded" || st == "failed" || st == "canceled") << op.dump();
                const std::string opID = op["operationID"];
                const int n = upgradesPerOp.count(opID) ? upgradesPerOp[opID] : 0;
                EXPECT_LE(n, 1) << "runtime " << op["runtimeID"] << " upgraded " << n << " times by operation " << opID;
                if (!dry && st == "succeeded" && op["description"].get<std::string>().find("preempted") == std::string::npos) {
                    EXPECT_EQ(n, 1) << "succeeded without an upgrade: " << op.dump();
                }
                if (dry) {
                    EXPECT_EQ(n, 0) << "dry run upgraded a runtime: " << op.dump();
                }
                if (n) {
                    EXPECT_EQ(runtimeOfOp[opID], op["runtimeID"]);
                    ++upgraded;
                }
                ++perRuntime[op["runtimeID"]];
            }
        }
        for (const auto& [rt, n] : perRuntime) EXPECT_EQ(n, 1) << "runtime " << rt << " has " << n << " operations in " << id;
    }
    EXPECT_EQ(upgraded, static_cast<int>(upgradesPerOp.size())) << "journal has upgrades of unknown operations";
    std::cout << "kills: " << kills << ", orchestrations: " << stored.size() << " (acknowledged " << acknowledged.size()
              << "), operations: " << operations << ", upgrades: " << upgraded
              << ", duplicate start() calls absorbed: " << duplicateStarts << "\n";
    s.kill(SIGTERM);
}

TEST(CrashTest, AcknowledgedOrchestrationSurvivesAnImmediateSigkill) {
    // A 202 means "on disk": kill -9 right after the answer, restart, it is there and runs.
    TempDir dir;
    const std::vector<std::string> args = {"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none", "--demo-fleet", "8",
                                           "--demo-upgrade-duration", "100ms", "--access-log", "off"};
    ServerProcess s;
    std::vector<std::string> ids;
    for (int round = 0; round < 5; ++round) {
        ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
        Api a(s.port());
        auto r = a.post("/upgrade/kyma", kymaBody(8));
        ASSERT_EQ(r.status, 202);
        ids.push_back(r.json["orchestrationID"]);
        s.kill(SIGKILL);
    }
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    Api a(s.port());
    for (const auto& id : ids)
        EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json.value("state", "") == "succeeded"; }, 20000))
            << id << ": " << a.get("/orchestrations/" + id).body;
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 5);
}

TEST(CrashTest, EveryStartedUpgradeIsDurablyInProgressAtAnImmediateSigkill) {
    // Group commit (issue 15): an operation is durably `in progress` before its start is handed
    // to a backend. The demo backend journals (fsynced) every start it receives; kill -9 while
    // starts are being handed out, then read the file offline: no journaled operation may still be
    // pending in the store (state code 0). Repeated several times at different moments.
    for (int round = 0; round < 4; ++round) {
        TempDir dir;
        const std::string db = dir / "keb.db";
        const std::vector<std::string> args = {"--store", "sqlite:" + db, "--auth", "none", "--demo-fleet", "3000",
                                               "--demo-upgrade-duration", "0s", "--poll-interval", "1ms",
                                               "--workers", "200", "--access-log", "off", "--engine-log", "off"};
        ServerProcess s;
        ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
        Api a(s.port());
        auto r = a.post("/upgrade/kyma", kymaBody(200));
        ASSERT_EQ(r.status, 202);
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + 200 * round));
        s.kill(SIGKILL);
        std::set<std::string> journaled;
        {
            std::ifstream in(db + ".upgrades.jsonl");
            std::string line;
            while (std::getline(in, line)) {
                Json j = Json::parse(line, nullptr, false);
                if (j.is_object() && j["kind"] == "upgrade") journaled.insert(j["operationID"].get<std::string>());
            }
        }
        ASSERT_FALSE(journaled.empty()) << "no start reached the backend before the kill (round " << round << ")";
        const std::string pending = run("sqlite3 '" + db + "' 'SELECT id FROM operations WHERE state=0'");
        std::set<std::string> pendingIds;
        std::istringstream lines(pending);
        for (std::string id; std::getline(lines, id);) pendingIds.insert(id);
        int bad = 0;
        for (const auto& id : journaled) bad += pendingIds.count(id) ? 1 : 0;
        EXPECT_EQ(bad, 0) << bad << " of " << journaled.size() << " started operations are still pending in the store";
        std::cout << "round " << round << ": " << journaled.size() << " starts journaled, " << pendingIds.size()
                  << " operations pending in the store, none of them started\n";
    }
}

}  // namespace
