#include <gtest/gtest.h>

#include "harness.h"
#include "keb/forwarding_store.h"
#include "keb/windows.h"

using namespace keb;
using namespace keb::testing;

namespace {

const char* kImmediate = R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":3}},"kyma":{"version":"2.20.0"}})";

std::string body(int workers, const std::string& schedule = "immediate", bool window = false, bool dryRun = false) {
    return R"({"targets":{"include":[{"target":"all"}]},"dryRun":)" + std::string(dryRun ? "true" : "false") +
           R"(,"strategy":{"type":"parallel","schedule":")" + schedule + R"(","maintenanceWindow":)" +
           (window ? "true" : "false") + R"(,"parallel":{"workers":)" + std::to_string(workers) +
           R"(}},"kyma":{"version":"2.20.0"}})";
}

}  // namespace

TEST(Engine, ImmediateRolloutRunsEveryRuntimeOnceWithinWorkers) {
    Harness h;
    h.addRuntimes(10);
    std::string id = h.submit(kImmediate);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Pending);
    h.runToEnd();
    auto o = h.orch(id);
    EXPECT_EQ(o.state, OrchestrationState::Succeeded) << o.description;
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 10);
    EXPECT_EQ(h.backend.maxRunningPerOrch[id], 3u);
    for (const auto& [rt, n] : h.backend.upgrades) EXPECT_EQ(n, 1) << rt;
    EXPECT_EQ(h.backend.upgrades.size(), 10u);
    // 10 upgrades of 10 minutes, 3 at a time: 4 rounds.
    EXPECT_EQ(o.updatedAt, T("2026-11-23T10:40:00Z"));
    for (const auto& op : h.ops(id)) EXPECT_EQ(op.kymaConfig->version, "2.20.0");
}

TEST(Engine, WorkersNeverExceededForOneFiveFifty) {
    for (int workers : {1, 5, 50}) {
        Harness h;
        h.backend.duration = 7 * kMinute;
        h.addRuntimes(120);
        std::string id = h.submit(body(workers));
        h.runToEnd();
        EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
        EXPECT_EQ(h.backend.maxRunningPerOrch[id], static_cast<std::size_t>(workers)) << workers;
    }
}

// The operation a backend is given at start is the stored one, field for field, also when the
// engine reuses the memory of earlier operations (a kyma rollout, then a cluster one, then retries).
TEST(Engine, BackendGetsTheStoredOperationAtStart) {
    Harness h;
    h.addRuntimes(4);
    h.backend.failing = {"rt-2"};
    const std::string kyma = h.submit(body(1));
    h.runToEnd();
    const std::string cluster = h.submit(
        R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":2}},)"
        R"("kubernetes":{"kubernetesVersion":"1.30.1","machineImage":"gardenlinux","machineImageVersion":"1592.1"}})",
        "cluster");
    h.runToEnd();
    ASSERT_EQ(h.call("POST", "/orchestrations/" + cluster + "/retry", "").status, 202);
    h.runToEnd();
    int checked = 0;
    for (const std::string& id : {kyma, cluster}) {
        for (const Operation& stored : h.ops(id)) {
            ASSERT_TRUE(h.backend.seenAtStart.count(stored.operationID)) << stored.operationID;
            const Operation& seen = h.backend.seenAtStart.at(stored.operationID);
            EXPECT_EQ(seen.orchestrationID, stored.orchestrationID);
            EXPECT_EQ(seen.runtimeID, stored.runtimeID);
            EXPECT_EQ(seen.instanceID, stored.instanceID);
            EXPECT_EQ(seen.globalAccountID, stored.globalAccountID);
            EXPECT_EQ(seen.subAccountID, stored.subAccountID);
            EXPECT_EQ(seen.shootName, stored.shootName);
            EXPECT_EQ(seen.region, stored.region);
            EXPECT_EQ(seen.retryOf, stored.retryOf);
            EXPECT_EQ(seen.kymaConfig, stored.kymaConfig);
            EXPECT_EQ(seen.clusterConfig, stored.clusterConfig);
            EXPECT_EQ(seen.seq, stored.seq);
            EXPECT_EQ(seen.state, OperationState::InProgress);
            EXPECT_EQ(seen.startedAt, stored.startedAt);
            ++checked;
        }
    }
    EXPECT_EQ(checked, 4 + 4 + 1);  // the retry of rt-2's cluster upgrade
    EXPECT_TRUE(h.backend.seenAtStart.at(h.ops(cluster).back().operationID).clusterConfig.has_value());
    EXPECT_FALSE(h.backend.seenAtStart.at(h.ops(cluster).back().operationID).kymaConfig.has_value());
    EXPECT_FALSE(h.backend.seenAtStart.at(h.ops(cluster).back().operationID).retryOf.empty());
}

TEST(Engine, NoRuntimesMatchedSucceedsAtOnce) {
    Harness h;
    h.addRuntimes(3);
    std::string id = h.submit(R"({"targets":{"include":[{"runtimeID":"nope"}]}})");
    h.runFor(kSecond);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_TRUE(h.ops(id).empty());
}

TEST(Engine, FailedRuntimeFailsOrchestration) {
    Harness h;
    h.addRuntimes(4);
    h.backend.failing = {"rt-1"};
    std::string id = h.submit(body(2));
    h.runToEnd();
    auto o = h.orch(id);
    EXPECT_EQ(o.state, OrchestrationState::Failed);
    EXPECT_EQ(o.description, "1 of 4 runtimes failed");
    EXPECT_EQ(h.count(id, OperationState::Failed), 1);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 3);
}

TEST(Engine, ScheduledTimeKeepsOrchestrationPendingUntilThen) {
    Harness h;
    h.addRuntimes(2);
    std::string id = h.submit(body(2, "2026-11-23T12:00:00Z"));
    h.runUntil(T("2026-11-23T11:59:59Z"));
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Pending);
    EXPECT_EQ(h.fleet.snapshots, 0);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& [op, at] : h.backend.begunAt) EXPECT_EQ(at, T("2026-11-23T12:00:00Z"));
}

TEST(Engine, ScheduleInThePastMeansNow) {
    Harness h;
    h.addRuntimes(1);
    std::string id = h.submit(body(1, "2020-01-01T00:00:00Z"));
    h.runFor(kSecond);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::InProgress);
    EXPECT_EQ(h.backend.begunAt.begin()->second, h.now - kSecond);
}

TEST(Engine, MaintenanceWindowStartsInsideEachRuntimesWindow) {
    Harness h;
    h.addRuntimes(2, "140000+0000", "150000+0000");  // 14:00-15:00 UTC
    h.addRuntimes(2, "013000+0530", "023000+0530");  // 20:00-21:00 UTC
    h.addRuntimes(2, "150000-0800", "170000-0800");  // 23:00-01:00 UTC, crosses midnight
    std::string id = h.submit(body(10, "maintenanceWindow"));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    std::map<std::string, Millis> expectBegin{{"rt-0", T("2026-11-23T14:00:00Z")}, {"rt-1", T("2026-11-23T14:00:00Z")},
                                              {"rt-2", T("2026-11-23T20:00:00Z")}, {"rt-3", T("2026-11-23T20:00:00Z")},
                                              {"rt-4", T("2026-11-23T23:00:00Z")}, {"rt-5", T("2026-11-23T23:00:00Z")}};
    for (const auto& op : h.ops(id)) {
        Millis begun = h.backend.begunAt.at(op.operationID);
        EXPECT_EQ(begun, expectBegin[op.runtimeID]) << op.runtimeID;
        EXPECT_EQ(op.maintenanceWindowBegin, expectBegin[op.runtimeID]);
        EXPECT_EQ(op.maintenanceWindowEnd - op.maintenanceWindowBegin, op.runtimeID >= "rt-4" ? 2 * kHour : kHour);
        EXPECT_GE(begun, op.maintenanceWindowBegin);
        EXPECT_LT(begun, op.maintenanceWindowEnd);
    }
}

// Ready operations start by (start time, seq): runtimes whose windows open at 12:00, 13:00 and
// 14:00 are interleaved in creation order, one worker takes them one by one.
TEST(Engine, ReadyOperationsStartByStartTimeThenSeq) {
    Harness h;
    h.backend.duration = 5 * kMinute;
    const char* begins[] = {"140000+0000", "120000+0000", "130000+0000"};
    const char* ends[] = {"150000+0000", "130000+0000", "140000+0000"};
    for (int i = 0; i < 9; ++i) h.addRuntimes(1, begins[i % 3], ends[i % 3]);
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    std::vector<std::pair<Millis, Operation>> started;
    for (const auto& op : h.ops(id)) started.emplace_back(h.backend.begunAt.at(op.operationID), op);
    ASSERT_EQ(started.size(), 9u);
    std::sort(started.begin(), started.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (std::size_t i = 1; i < started.size(); ++i) {
        const Operation& a = started[i - 1].second;
        const Operation& b = started[i].second;
        EXPECT_LT(std::make_pair(a.maintenanceWindowBegin, a.seq), std::make_pair(b.maintenanceWindowBegin, b.seq))
            << a.runtimeID << " started before " << b.runtimeID;
    }
    EXPECT_EQ(started.front().first, T("2026-11-23T12:00:00Z"));
    EXPECT_EQ(started.back().second.maintenanceWindowBegin, T("2026-11-23T14:00:00Z"));
}

TEST(Engine, InsideTheWindowStartsNow) {
    Harness h;  // now = 10:00
    h.addRuntimes(1, "093000+0000", "103000+0000");
    std::string id = h.submit(body(1, "now", true));
    h.runFor(kSecond);
    EXPECT_EQ(h.backend.begunAt.begin()->second, T("2026-11-23T10:00:00Z"));
    EXPECT_EQ(h.ops(id)[0].maintenanceWindowBegin, T("2026-11-23T09:30:00Z"));
}

TEST(Engine, WindowMissedWhileWorkersBusyMovesToNextWindow) {
    Harness h;
    h.backend.duration = 40 * kMinute;
    h.addRuntimes(3, "120000+0000", "130000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    auto ops = h.ops(id);
    ASSERT_EQ(ops.size(), 3u);
    std::vector<Millis> begun;
    for (const auto& op : ops) {
        Millis b = h.backend.begunAt.at(op.operationID);
        begun.push_back(b);
        EXPECT_GE(b, op.maintenanceWindowBegin) << op.runtimeID;  // never outside its recorded window
        EXPECT_LT(b, op.maintenanceWindowEnd) << op.runtimeID;
    }
    std::sort(begun.begin(), begun.end());
    EXPECT_EQ(begun[0], T("2026-11-23T12:00:00Z"));
    EXPECT_EQ(begun[1], T("2026-11-23T12:40:00Z"));
    // The third would start at 13:20, after the window closed: next day's window.
    EXPECT_EQ(begun[2], T("2026-11-24T12:00:00Z"));
}

// Many operations missing their window at once are moved in one store batch: every one of them
// is stored with the next window and the "window missed" description before the engine goes on.
TEST(Engine, EveryMissedWindowIsStored) {
    Harness h;
    h.backend.duration = 50 * kMinute;
    h.addRuntimes(6, "120000+0000", "130000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    // 12:00 the first starts, about 12:50 the second; when it ends (about 13:40) the window has
    // closed and the four others are moved at once.
    h.runUntil(T("2026-11-23T14:00:00Z"));
    int moved = 0;
    for (const auto& op : h.ops(id)) {
        if (op.state != OperationState::Pending) continue;
        ++moved;
        EXPECT_EQ(op.startAt, T("2026-11-24T12:00:00Z")) << op.runtimeID;
        EXPECT_EQ(op.maintenanceWindowBegin, T("2026-11-24T12:00:00Z"));
        EXPECT_EQ(op.maintenanceWindowEnd, T("2026-11-24T13:00:00Z"));
        EXPECT_EQ(op.description, "maintenance window missed, moved to the next window");
    }
    EXPECT_EQ(moved, 4);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
}

TEST(Engine, PolicyDaysRestrictTheWeekdayInUtc) {
    Harness h;
    auto policy = parseMaintenancePolicy(
        R"({"rules":[{"match":{"region":"eastus"},"days":["Wed"]}],"default":{"days":["Mon","Tue","Wed","Thu","Fri","Sat","Sun"]}})",
        nullptr);
    ASSERT_TRUE(policy);
    h.config.policy = *policy;
    h.restart();
    h.addRuntimes(2, "030000+0000", "040000+0000");  // rt-0 eastus (rule: Wednesdays), rt-1 westeurope
    std::string id = h.submit(body(5, "maintenanceWindow"));
    h.runToEnd();
    for (const auto& op : h.ops(id)) {
        Millis b = h.backend.begunAt.at(op.operationID);
        if (op.runtimeID == "rt-0") EXPECT_EQ(b, T("2026-11-25T03:00:00Z"));  // Wednesday
        else EXPECT_EQ(b, T("2026-11-24T03:00:00Z"));                         // next day
        EXPECT_EQ(weekdayUtc(b), op.runtimeID == "rt-0" ? 2 : 1);
    }
}

TEST(Engine, InvalidWindowIsSkippedAtResolution) {
    Harness h;
    h.addRuntimes(1, "250000+0000", "260000+0000");
    h.addRuntimes(1, "100000+0000", "110000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runToEnd();
    auto ops = h.ops(id);
    ASSERT_EQ(ops.size(), 1u);
    EXPECT_EQ(ops[0].runtimeID, "rt-1");
}

TEST(Engine, ChangedWindowIsHonouredAtStart) {
    Harness h;
    h.addRuntimes(1, "200000+0000", "210000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runUntil(T("2026-11-23T15:00:00Z"));
    h.fleet.runtimes[0].windowBegin = "030000+0000";  // operator moved the window
    h.fleet.runtimes[0].windowEnd = "040000+0000";
    h.runToEnd();
    auto op = h.ops(id)[0];
    EXPECT_EQ(h.backend.begunAt.at(op.operationID), T("2026-11-24T03:00:00Z"));
    EXPECT_EQ(op.maintenanceWindowBegin, T("2026-11-24T03:00:00Z"));
}

// With a fleet that reports its generation, the engine reuses the window and state it derived
// from a runtime; a change (generation bumped) is still honoured.
TEST(Engine, VersionedFleetChangedWindowIsHonouredAtStart) {
    Harness h;
    h.fleet.gen = 1;
    h.addRuntimes(1, "200000+0000", "210000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runUntil(T("2026-11-23T15:00:00Z"));
    h.fleet.runtimes[0].windowBegin = "030000+0000";
    h.fleet.runtimes[0].windowEnd = "040000+0000";
    h.fleet.changed();
    h.runToEnd();
    auto op = h.ops(id)[0];
    EXPECT_EQ(h.backend.begunAt.at(op.operationID), T("2026-11-24T03:00:00Z"));
    EXPECT_EQ(op.maintenanceWindowBegin, T("2026-11-24T03:00:00Z"));
}

TEST(Engine, VersionedFleetRuntimeThatDisappearsIsPreempted) {
    Harness h;
    h.fleet.gen = 7;
    h.addRuntimes(3, "120000+0000", "130000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runUntil(T("2026-11-23T11:00:00Z"));
    h.fleet.remove("rt-2");
    h.fleet.changed();
    h.runToEnd();
    for (const auto& op : h.ops(id))
        if (op.runtimeID == "rt-2") {
            EXPECT_NE(op.description.find("preempted"), std::string::npos);
        }
    EXPECT_EQ(h.backend.upgrades.count("rt-2"), 0u);
}

TEST(Engine, VersionedFleetIsNotLookedUpAgainWhileUnchanged) {
    auto lookups = [](bool versioned) {
        Harness h;
        if (versioned) h.fleet.gen = 1;
        h.backend.duration = 40 * kMinute;
        h.addRuntimes(3, "120000+0000", "130000+0000");  // the third misses its window (see above)
        std::string id = h.submit(body(1, "maintenanceWindow"));
        h.runToEnd();
        EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
        return h.fleet.lookups;
    };
    EXPECT_GE(lookups(false), 4);  // every attempt to start (3 + the missed window)
    EXPECT_EQ(lookups(true), 0);   // resolution's snapshot is enough
}

TEST(Engine, CancelWithOperationsInProgress) {
    Harness h;
    h.addRuntimes(10);
    std::string id = h.submit(body(2));
    h.runFor(5 * kMinute);
    EXPECT_EQ(h.count(id, OperationState::InProgress), 2);
    auto r = h.call("PUT", "/orchestrations/" + id + "/cancel");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceling);
    EXPECT_EQ(h.count(id, OperationState::Canceled), 8);
    EXPECT_EQ(h.count(id, OperationState::InProgress), 2);
    // Cancel again is a no-op.
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceled);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 2);  // in progress ran to their end
    EXPECT_EQ(h.count(id, OperationState::Canceled), 8);
    EXPECT_EQ(h.backend.upgrades.size(), 2u);
    for (const auto& op : h.ops(id))
        if (op.state == OperationState::Canceled) {
            EXPECT_EQ(op.description, "Operation was canceled");
        }
}

TEST(Engine, CancelPendingOrchestrationBeforeItStarts) {
    Harness h;
    h.addRuntimes(2);
    std::string id = h.submit(body(1, "2026-11-24T00:00:00Z"));
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceled);
    EXPECT_TRUE(h.ops(id).empty());
    EXPECT_EQ(h.fleet.snapshots, 0);
}

TEST(Engine, RetrySomeFailedOperations) {
    Harness h;
    h.addRuntimes(5);
    h.backend.failing = {"rt-1", "rt-3"};
    std::string id = h.submit(body(5));
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Failed);
    std::string failed1, failed3;
    for (const auto& op : h.ops(id)) {
        if (op.runtimeID == "rt-1") failed1 = op.operationID;
        if (op.runtimeID == "rt-3") failed3 = op.operationID;
    }
    h.backend.failing.clear();
    auto r = h.call("POST", "/orchestrations/" + id + "/retry?operation-id=" + failed1 + "&operation-id=bogus", "");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    // oldOperations lists failed operations NOT retried because a newer orchestration holds their
    // runtime (SPEC 4): none here.
    EXPECT_EQ(r.body["oldOperations"], Json::array());
    EXPECT_EQ(r.body["invalidOperations"], Json::array({"bogus"}));
    EXPECT_EQ(r.body["retryShoots"], Json::array({"shoot-1"}));
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Retrying);
    h.runToEnd();
    // rt-3's latest operation is still failed.
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    EXPECT_EQ(h.orch(id).description, "1 of 5 runtimes failed");
    EXPECT_EQ(h.ops(id).size(), 6u);
    // The old failed operation stays failed; retrying it again is invalid (already retried).
    r = h.call("POST", "/orchestrations/" + id + "/retry", "operation-id=" + failed1);
    EXPECT_EQ(r.body["invalidOperations"], Json::array({failed1}));
    // Retry all: only rt-3 is left.
    r = h.call("POST", "/orchestrations/" + id + "/retry", "immediate=true");
    ASSERT_EQ(r.status, 202);
    EXPECT_EQ(r.body["oldOperations"], Json::array());
    EXPECT_EQ(r.body["retryShoots"], Json::array({"shoot-3"}));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.upgrades["rt-1"], 2);
    EXPECT_EQ(h.backend.upgrades["rt-0"], 1);
}

TEST(Engine, RetryNotAllowedOnSucceededOrchestration) {
    Harness h;
    h.addRuntimes(1);
    std::string id = h.submit(body(1));
    h.runToEnd();
    EXPECT_EQ(h.call("POST", "/orchestrations/" + id + "/retry").status, 409);
    EXPECT_EQ(h.call("POST", "/orchestrations/unknown/retry").status, 404);
}

TEST(Engine, RetryWithWindowsWaitsForNextWindowUnlessImmediate) {
    Harness h;
    h.addRuntimes(2, "100000+0000", "110000+0000");
    h.backend.failing = {"rt-0", "rt-1"};
    std::string id = h.submit(body(2, "maintenanceWindow"));
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Failed);
    h.backend.failing.clear();
    auto ops = h.ops(id);
    h.now = T("2026-11-24T15:00:00Z");
    ASSERT_EQ(h.call("POST", "/orchestrations/" + id + "/retry", "operation-id=" + ops[0].operationID).status, 202);
    ASSERT_EQ(h.call("POST", "/orchestrations/" + id + "/retry",
                     "operation-id=" + ops[1].operationID + "&immediate=true").status, 202);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& op : h.ops(id)) {
        if (op.retryOf.empty()) continue;
        Millis b = h.backend.begunAt.at(op.operationID);
        if (op.runtimeID == "rt-0") EXPECT_EQ(b, T("2026-11-25T10:00:00Z"));
        else EXPECT_EQ(b, T("2026-11-24T15:00:00Z"));
    }
}

TEST(Engine, DryRunChangesNothing) {
    Harness h;
    h.addRuntimes(6);
    std::string id = h.submit(body(2, "immediate", false, true));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 6);
    EXPECT_TRUE(h.backend.startCalls.empty());
    for (const auto& op : h.ops(id)) {
        EXPECT_TRUE(op.dryRun);
        EXPECT_EQ(op.description, "dry run: nothing was changed");
    }
}

TEST(Engine, GardenerOutageDuringResolutionIsRetried) {
    Harness h;
    h.addRuntimes(3);
    h.fleet.down = true;
    std::string id = h.submit(body(3));
    h.runFor(5 * kMinute);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Pending);
    EXPECT_NE(h.orch(id).description.find("503"), std::string::npos);
    EXPECT_GT(h.fleet.snapshots, 5);
    h.fleet.down = false;
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 3);
}

TEST(Engine, GardenerOutageLongerThanResolveTimeoutFails) {
    Harness h;
    h.addRuntimes(3);
    h.fleet.down = true;
    std::string id = h.submit(body(3));
    h.runToEnd();
    auto o = h.orch(id);
    EXPECT_EQ(o.state, OrchestrationState::Failed);  // KEB bug: after a failed start it went on running
    EXPECT_NE(o.description.find("failed to resolve targets"), std::string::npos);
    EXPECT_EQ(h.engine->activeOrchestrations(), 0u);
}

TEST(Engine, RuntimeThatDisappearsBeforeStartIsPreempted) {
    Harness h;
    h.addRuntimes(3);
    std::string id = h.submit(body(1));
    h.runFor(kMinute);
    h.fleet.remove("rt-2");
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& op : h.ops(id))
        if (op.runtimeID == "rt-2") {
            EXPECT_EQ(op.state, OperationState::Succeeded);
            EXPECT_NE(op.description.find("preempted"), std::string::npos);
        }
    EXPECT_EQ(h.backend.upgrades.count("rt-2"), 0u);
}

TEST(Engine, DeprovisioningRuntimesAreSkipped) {
    Harness h;
    h.addRuntimes(3);
    h.fleet.runtimes[1].deprovisioning = true;
    std::string id = h.submit(body(3));
    h.runToEnd();
    EXPECT_EQ(h.ops(id).size(), 2u);
}

TEST(Engine, HangingUpgradeReachesTheTimeLimit) {
    Harness h;
    h.addRuntimes(2);
    h.backend.hanging = {"rt-0"};
    std::string id = h.submit(body(2));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    for (const auto& op : h.ops(id))
        if (op.runtimeID == "rt-0") {
            EXPECT_EQ(op.description, "operation has reached the time limit");
            EXPECT_EQ(op.updatedAt - op.startedAt, 3 * kHour);
        }
}

// A poll's result is written only when it changes something: the first acknowledgement of the
// start, or a progress note that differs from the stored one. The same note again, or no note,
// writes nothing; the backend sees the latest note in the operation it polls.
TEST(Engine, PollsWriteOnlyTheAcknowledgementAndNewNotes) {
    struct Counting : ForwardingStore {
        using ForwardingStore::ForwardingStore;
        std::vector<std::string> writes;  // per progress write: its state and note ("-": unchanged)
        void apply(const WriteBatch& b) override {
            ForwardingStore::apply(b);
            for (const auto& p : b.progress)
                writes.push_back(std::string(toString(p.change.state)) + ":" +
                                 (p.change.description ? *p.change.description : "-"));
        }
    };
    // Its polls' notes, in order; then done.
    struct Noting : UpgradeBackend {
        std::vector<std::string> notes{"", "copying", "copying", "", "copying", "rolling", "rolling"};
        std::vector<std::string> seen;  // the description of the operation each call was given
        std::size_t calls = 0;
        StepResult next(const Operation& op) {
            seen.push_back(op.description);
            if (calls >= notes.size()) return StepResult::done();
            StepResult r = StepResult::again(kMinute);
            r.reason = notes[calls++];
            return r;
        }
        StepResult start(OrchestrationType, const Operation& op, Millis) override { return next(op); }
        StepResult poll(OrchestrationType, const Operation& op, Millis) override { return next(op); }
    };
    MemoryStore inner;
    Counting store(inner);
    TestFleet fleet;
    fleet.runtimes.push_back(makeRuntime(0));
    Noting backend;
    SeededIdGenerator ids{3};
    Engine engine(store, fleet, ids, EngineConfig{});
    Millis now = T("2026-11-23T10:00:00Z");
    engine.recover(now);
    const std::string id = engine.create(OrchestrationType::UpgradeKyma, upgradeAll(), now);
    runToIdle(engine, backend, now);
    EXPECT_EQ(inner.getOrchestration(id)->state, OrchestrationState::Succeeded);
    EXPECT_EQ(store.writes, (std::vector<std::string>{"in progress:upgrade started", "in progress:-",
                                                      "in progress:copying", "in progress:rolling",
                                                      "succeeded:upgrade succeeded"}));
    EXPECT_EQ(backend.seen, (std::vector<std::string>{"upgrade started", "upgrade started", "copying", "copying",
                                                      "copying", "copying", "rolling", "rolling"}));
}

// A result of an action handed out before a restart is not taken for the action the new engine
// handed out for the same operation (same orchestration handle and seq, another snapshot).
TEST(EngineRestart, ResultOfAnActionFromBeforeTheRestartIsIgnored) {
    Harness h;
    h.addRuntimes(1);
    const std::string id = h.submit(body(1));
    std::vector<Action> before = h.engine->tick(h.now);
    ASSERT_EQ(before.size(), 1u);
    h.restart();
    std::vector<Action> after = h.engine->tick(h.now);  // the unacknowledged start, again
    ASSERT_EQ(after.size(), 1u);
    ASSERT_EQ(after[0].orchestrationHandle, before[0].orchestrationHandle);
    ASSERT_EQ(after[0].seq, before[0].seq);
    h.engine->complete(before[0], StepResult::failed("stale"), h.now);
    EXPECT_EQ(h.ops(id)[0].state, OperationState::InProgress);
    h.engine->complete(after[0], StepResult::done(), h.now);
    EXPECT_EQ(h.ops(id)[0].state, OperationState::Succeeded);
    EXPECT_EQ(h.ops(id)[0].description, "upgrade succeeded");
}

TEST(Engine, SecondOrchestrationWaitsForRuntimeBusyInFirst) {
    Harness h;
    h.addRuntimes(1);
    std::string a = h.submit(body(1));
    h.runFor(kMinute);
    std::string b = h.submit(body(1));
    h.runToEnd();
    EXPECT_EQ(h.orch(a).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.orch(b).state, OrchestrationState::Succeeded);
    auto opA = h.ops(a)[0], opB = h.ops(b)[0];
    EXPECT_GE(h.backend.begunAt.at(opB.operationID), h.backend.begunAt.at(opA.operationID) + h.backend.duration);
}

// --- restart (SPEC 7) -----------------------------------------------------------

TEST(EngineRestart, MidRunFinishedStayFinishedRunningResumeByPolling) {
    Harness h;
    h.addRuntimes(9);
    std::string id = h.submit(body(3));
    h.runFor(15 * kMinute);  // first round done, second in progress
    auto before = h.ops(id);
    int finished = 0, running = 0;
    for (const auto& op : before) {
        finished += op.state == OperationState::Succeeded;
        running += op.state == OperationState::InProgress;
    }
    ASSERT_EQ(finished, 3);
    ASSERT_EQ(running, 3);
    h.restart();
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& op : h.ops(id)) {
        EXPECT_EQ(h.backend.startCalls[op.operationID], 1) << "started twice: " << op.operationID;
        EXPECT_EQ(h.backend.upgrades[op.runtimeID], 1);
    }
    for (const auto& op : before)
        if (op.state == OperationState::Succeeded) {
            EXPECT_EQ(*h.store.getOperation(id, op.operationID), op);
        }
}

TEST(EngineRestart, UnacknowledgedStartIsStartedAgainIdempotently) {
    Harness h;
    h.addRuntimes(2);
    std::string id = h.submit(body(2));
    // Crash after the engine recorded "in progress" but before the backend answered.
    auto actions = h.engine->tick(h.now);
    ASSERT_EQ(actions.size(), 2u);
    h.backend.start(actions[0].type, actions[0].operation(), h.now);  // the backend got one, the answer was lost
    h.restart();
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    for (const auto& [rt, n] : h.backend.upgrades) EXPECT_EQ(n, 1) << rt;
}

TEST(EngineRestart, WhilePendingKeepsSchedule) {
    Harness h;
    h.addRuntimes(2);
    std::string id = h.submit(body(1, "2026-11-23T18:00:00Z"));
    h.runFor(kHour);
    h.restart();
    h.runUntil(T("2026-11-23T17:59:00Z"));
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Pending);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    Millis first = INT64_MAX;
    for (const auto& [op, at] : h.backend.begunAt) first = std::min(first, at);
    EXPECT_EQ(first, T("2026-11-23T18:00:00Z"));
}

TEST(EngineRestart, WhileCanceling) {
    Harness h;
    h.addRuntimes(6);
    std::string id = h.submit(body(2));
    h.runFor(kMinute);
    h.call("PUT", "/orchestrations/" + id + "/cancel");
    h.restart();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceling);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceled);
    EXPECT_EQ(h.count(id, OperationState::Succeeded), 2);
    EXPECT_EQ(h.count(id, OperationState::Canceled), 4);
}

TEST(EngineRestart, PendingOperationsGetWindowsRecomputed) {
    Harness h;
    h.addRuntimes(2, "200000+0000", "210000+0000");
    std::string id = h.submit(body(1, "maintenanceWindow"));
    h.runFor(kMinute);
    // While the broker is down the operator changes a window.
    h.fleet.runtimes[1].windowBegin = "120000+0000";
    h.fleet.runtimes[1].windowEnd = "130000+0000";
    h.restart();
    for (const auto& op : h.ops(id))
        if (op.runtimeID == "rt-1") {
            EXPECT_EQ(op.maintenanceWindowBegin, T("2026-11-23T12:00:00Z"));
        }
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
}

TEST(EngineRestart, WhileRetrying) {
    Harness h;
    h.addRuntimes(3);
    h.backend.failing = {"rt-0"};
    std::string id = h.submit(body(3));
    h.runToEnd();
    h.backend.failing.clear();
    ASSERT_EQ(h.call("POST", "/orchestrations/" + id + "/retry").status, 202);
    h.restart();
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_EQ(h.backend.upgrades["rt-0"], 2);
}

TEST(EngineRestart, RestartAtEveryStepNeverStartsAnUpgradeTwice) {
    Harness h;
    h.backend.duration = 3 * kMinute;
    h.addRuntimes(20);
    h.backend.failing = {"rt-4"};
    std::string id = h.submit(body(4));
    for (int i = 0; i < 40 && h.engine->activeOrchestrations(); ++i) {
        h.runFor(kMinute + i * 7 * kSecond);
        h.restart();
    }
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    EXPECT_EQ(h.ops(id).size(), 20u);
    for (const auto& [rt, n] : h.backend.upgrades) EXPECT_EQ(n, 1) << rt;
    EXPECT_EQ(h.backend.upgrades.size(), 20u);
}
