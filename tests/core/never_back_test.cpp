// SPEC 4, "Never back to an older target": the orchestration created later wins, (a) at retry
// and (b) at start, across restarts.
#include <gtest/gtest.h>

#include "harness.h"

using namespace keb;
using namespace keb::testing;

namespace {

std::string request(const std::string& targets, const std::string& version, bool window = false, int workers = 5,
                    bool dryRun = false, const std::string& kind = "kyma") {
    std::string include;
    if (targets == "all") {
        include = R"({"target":"all"})";
    } else {
        for (std::size_t i = 0, j; i < targets.size(); i = j + 1) {
            j = targets.find(',', i);
            if (j == std::string::npos) j = targets.size();
            if (!include.empty()) include += ",";
            include += R"({"runtimeID":")" + targets.substr(i, j - i) + "\"}";
        }
    }
    std::string b = R"({"targets":{"include":[)" + include + R"(]},"dryRun":)" + (dryRun ? "true" : "false") +
                    R"(,"strategy":{"type":"parallel","schedule":"immediate","maintenanceWindow":)" +
                    (window ? "true" : "false") + R"(,"parallel":{"workers":)" + std::to_string(workers) + "}},";
    if (kind == "kyma") b += R"("kyma":{"version":")" + version + "\"}}";
    else b += R"("kubernetes":{"kubernetesVersion":")" + version + "\"}}";
    return b;
}

std::string opOf(Harness& h, const std::string& orch, const std::string& runtime, bool retry = false) {
    for (const auto& op : h.ops(orch))
        if (op.runtimeID == runtime && op.retryOf.empty() != retry) return op.operationID;
    return {};
}

struct Recorder : EngineListener {
    std::vector<std::string> superseded;  // "operationID runtimeID detail"
    void onEvent(const EngineEvent& e) override {
        if (e.kind == "operation.superseded")
            superseded.push_back(std::string(e.operationID) + " " + std::string(e.runtimeID) + " " + std::string(e.detail));
    }
};

}  // namespace

// The bug found with KEB's TestStatusRetryHandler: A fails, B (newer) upgrades the runtimes, a retry
// of A must not take them back to A's version.
TEST(NeverBack, RetrySkipsRuntimesANewerOrchestrationUpgraded) {
    for (const std::string kind : {"kyma", "cluster"}) {
        SCOPED_TRACE(kind);
        Harness h;
        h.addRuntimes(3);
        h.backend.failing = {"rt-0", "rt-1", "rt-2"};
        const std::string a = h.submit(request("all", "2.20.0", false, 5, false, kind), kind);
        h.runToEnd();
        ASSERT_EQ(h.orch(a).state, OrchestrationState::Failed);
        h.backend.failing.clear();
        const std::string b = h.submit(request("rt-0,rt-1", "2.21.0", false, 5, false, kind), kind);
        h.runToEnd();
        ASSERT_EQ(h.orch(b).state, OrchestrationState::Succeeded);

        auto r = h.call("POST", "/orchestrations/" + a + "/retry", "immediate=true");
        ASSERT_EQ(r.status, 202) << r.body.dump();
        EXPECT_EQ(r.body["oldOperations"], Json::array({opOf(h, a, "rt-0"), opOf(h, a, "rt-1")}));
        EXPECT_EQ(r.body["retryShoots"], Json::array({"shoot-2"}));
        EXPECT_EQ(r.body["invalidOperations"], Json::array());
        h.runToEnd();
        EXPECT_EQ(h.ops(a).size(), 4u);  // only rt-2 was retried
        EXPECT_EQ(h.backend.upgrades["rt-0"], 2);
        EXPECT_EQ(h.backend.upgrades["rt-1"], 2);
        EXPECT_EQ(h.backend.upgrades["rt-2"], 2);
        // rt-0 and rt-1's latest operation in A is still failed: A stays failed.
        EXPECT_EQ(h.orch(a).state, OrchestrationState::Failed);
        EXPECT_EQ(h.orch(a).description, "2 of 3 runtimes failed");
    }
}

TEST(NeverBack, NamedOperationOfASupersededRuntimeIsOldNotInvalid) {
    Harness h;
    h.addRuntimes(2);
    h.backend.failing = {"rt-0", "rt-1"};
    const std::string a = h.submit(request("all", "2.20.0"));
    h.runToEnd();
    h.backend.failing.clear();
    h.submit(request("rt-0", "2.21.0"));
    h.runToEnd();
    auto r = h.call("POST", "/orchestrations/" + a + "/retry",
                    "operation-id=" + opOf(h, a, "rt-0") + "&operation-id=nope");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    EXPECT_EQ(r.body["oldOperations"], Json::array({opOf(h, a, "rt-0")}));
    EXPECT_EQ(r.body["invalidOperations"], Json::array({"nope"}));
    EXPECT_EQ(r.body["retryShoots"], Json::array());
    EXPECT_NE(r.body["msg"].get<std::string>().find("newer operations"), std::string::npos) << r.body.dump();
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Failed);  // nothing to retry: unchanged
    EXPECT_EQ(h.ops(a).size(), 2u);
}

TEST(NeverBack, CanceledDryRunOrOtherTypeDoNotBlockARetry) {
    Harness h;
    h.addRuntimes(3, "220000+0000", "230000+0000");
    h.backend.failing = {"rt-0", "rt-1", "rt-2"};
    const std::string a = h.submit(request("all", "2.20.0"));
    h.runToEnd();
    h.backend.failing.clear();
    // rt-0: a newer orchestration scheduled it for its window and was canceled.
    const std::string canceled = h.submit(request("rt-0", "2.21.0", true));
    h.runFor(kMinute);
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + canceled + "/cancel").status, 200);
    h.runFor(kMinute);
    ASSERT_EQ(h.orch(canceled).state, OrchestrationState::Canceled);
    // rt-1: a newer dry run (changes nothing). rt-2: a newer cluster upgrade (another type).
    const std::string dry = h.submit(request("rt-1", "2.21.0", false, 5, true));
    h.submit(request("rt-2", "1.30.0", false, 5, false, "cluster"), "cluster");
    h.runToEnd();
    ASSERT_EQ(h.orch(dry).state, OrchestrationState::Succeeded);
    auto r = h.call("POST", "/orchestrations/" + a + "/retry", "immediate=true");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    EXPECT_EQ(r.body["oldOperations"], Json::array());
    EXPECT_EQ(r.body["retryShoots"], Json::array({"shoot-0", "shoot-1", "shoot-2"}));
    h.runToEnd();
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.upgrades["rt-0"], 2);
    EXPECT_EQ(h.backend.upgrades["rt-1"], 2);
    EXPECT_EQ(h.backend.upgrades["rt-2"], 3);  // failed kyma, cluster, retried kyma
}

// (b) at start: A's operations wait for their windows; B, created later, upgrades the runtime
// first. A's operation ends succeeded without starting, and says why; across a restart.
TEST(NeverBack, PendingOperationOfAnOlderOrchestrationIsSupersededAtStart) {
    for (bool restart : {false, true}) {
        SCOPED_TRACE(restart ? "with restart" : "without restart");
        Harness h;
        h.addRuntimes(2, "220000+0000", "230000+0000");
        Recorder rec;
        h.engine->setListener(&rec);
        const std::string a = h.submit(request("all", "2.20.0", true));
        h.runFor(kHour);
        const std::string b = h.submit(request("rt-0", "2.21.0"));
        h.runFor(kHour);
        ASSERT_EQ(h.orch(b).state, OrchestrationState::Succeeded);
        if (restart) {
            h.restart();
            h.engine->setListener(&rec);
        }
        h.runToEnd();
        EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
        const auto opA = *h.store.getOperation(a, opOf(h, a, "rt-0"));
        const std::string byOp = opOf(h, b, "rt-0");
        EXPECT_EQ(opA.state, OperationState::Succeeded);
        EXPECT_EQ(opA.description, "skipped: superseded by operation " + byOp + " of orchestration " + b);
        EXPECT_EQ(opA.startedAt, 0);
        EXPECT_EQ(h.backend.upgrades["rt-0"], 1);  // only B's
        EXPECT_EQ(h.backend.upgrades["rt-1"], 1);  // A's, in its window
        ASSERT_EQ(rec.superseded.size(), 1u);
        EXPECT_EQ(rec.superseded[0],
                  opA.operationID + " rt-0 superseded by operation " + byOp + " of orchestration " + b);
    }
}

// An operation in progress in a newer orchestration supersedes at once (no waiting for it).
TEST(NeverBack, NewerOperationInProgressSupersedesWithoutWaiting) {
    Harness h;
    h.addRuntimes(2);
    h.backend.duration = kHour;
    const std::string a = h.submit(request("all", "2.20.0", false, 1));  // rt-0 first, rt-1 waits a worker
    h.runFor(kMinute);
    const std::string b = h.submit(request("rt-1", "2.21.0"));
    h.runFor(kMinute);
    ASSERT_EQ(h.store.getOperation(b, opOf(h, b, "rt-1"))->state, OperationState::InProgress);
    h.runUntil(T("2026-11-23T11:00:30Z"));  // A's rt-0 ended at 11:00: rt-1 is next
    const auto opA = *h.store.getOperation(a, opOf(h, a, "rt-1"));
    EXPECT_EQ(opA.state, OperationState::Succeeded);
    EXPECT_EQ(opA.updatedAt, T("2026-11-23T11:00:00Z"));
    h.runToEnd();
    EXPECT_EQ(h.backend.upgrades["rt-1"], 1);
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
}

// A newer operation that failed (or a newer dry run) upgraded nothing: the older one runs.
TEST(NeverBack, NewerFailedOrDryRunOperationDoesNotSupersede) {
    Harness h;
    h.addRuntimes(2, "220000+0000", "230000+0000");
    const std::string a = h.submit(request("all", "2.20.0", true));
    h.runFor(kMinute);
    h.backend.failing = {"rt-0"};
    const std::string b = h.submit(request("rt-0", "2.21.0"));
    const std::string dry = h.submit(request("rt-1", "2.21.0", false, 5, true));
    h.runFor(kHour);
    ASSERT_EQ(h.orch(b).state, OrchestrationState::Failed);
    ASSERT_EQ(h.orch(dry).state, OrchestrationState::Succeeded);
    h.backend.failing.clear();
    h.restart();  // also after a restart
    h.runToEnd();
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.upgrades["rt-0"], 2);  // B's failed one, then A's
    EXPECT_EQ(h.backend.upgrades["rt-1"], 1);  // A's (the dry run changed nothing)
    for (const auto& op : h.ops(a)) EXPECT_EQ(op.description, "upgrade succeeded");
}

// Creation order decides, not versions; an older orchestration's operations never supersede a
// newer one's.
TEST(NeverBack, OlderOrchestrationNeverSupersedesANewerOne) {
    Harness h;
    h.addRuntimes(1, "220000+0000", "230000+0000");
    const std::string a = h.submit(request("all", "2.20.0"));  // immediate: upgrades rt-0 now
    h.runFor(kMinute);
    const std::string b = h.submit(request("all", "2.19.0", true));  // later, older version, window
    h.runToEnd();
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.orch(b).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.upgrades["rt-0"], 2);  // B is newer: it runs in its window
    EXPECT_EQ(h.ops(b)[0].description, "upgrade succeeded");
}
