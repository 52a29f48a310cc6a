// SPEC 14: the engine's customer-notification outbox. Rows are written in the same store batch as
// the state change that causes them, only for requests with "notification": true and only when
// the engine's config turns notifications on; payloads are the notification service's contract.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "keb/forwarding_store.h"
#include "keb/notify.h"

using namespace keb;
using namespace keb::testing;
using Json = nlohmann::json;

namespace {

std::string body(bool notification, const std::string& extra = "", bool window = false, int workers = 3) {
    return R"({"targets":{"include":[{"target":"all"}]},)" + extra +
           R"("strategy":{"type":"parallel","schedule":"immediate","maintenanceWindow":)" +
           (window ? "true" : "false") + R"(,"parallel":{"workers":)" + std::to_string(workers) + R"(}},)" +
           (notification ? R"("notification":true,)" : "") + R"("kyma":{"version":"2.20.0"}})";
}

struct NotifyHarness : Harness {
    NotifyHarness(bool on = true) {
        config.notifications = on;
        boot();
    }
    std::vector<Notification> outbox() { return store.pendingNotifications(1'000'000); }
    std::map<std::string, int> kinds() {
        std::map<std::string, int> out;
        for (const Notification& n : outbox()) ++out[toString(n.kind)];
        return out;
    }
};

}  // namespace

TEST(Notifications, TimeFormatIsTheServicesOwn) {
    EXPECT_EQ(formatNotificationTime(T("2006-01-02T15:04:05Z")), "2006-01-02 15:04:05");
    EXPECT_EQ(formatNotificationTime(T("2026-11-23T10:00:00.999Z")), "2026-11-23 10:00:00");
}

TEST(Notifications, RolloutWritesOneCreateAndAStartAndEndPerRuntime) {
    NotifyHarness h;
    h.addRuntimes(10);
    h.backend.failing = {"rt-4"};  // a failure ends too
    const std::string id = h.submit(body(true));
    EXPECT_TRUE(h.outbox().empty()) << "nothing before the operations are scheduled";
    h.runToEnd();
    EXPECT_EQ(h.kinds(), (std::map<std::string, int>{{"create", 1}, {"start", 10}, {"end", 10}}));
    const std::vector<Notification> rows = h.outbox();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        EXPECT_EQ(rows[i].sequence, static_cast<std::int64_t>(i + 1));
        EXPECT_EQ(rows[i].orchestrationID, id);
    }
    ASSERT_EQ(rows[0].kind, Notification::Kind::Create);
    const Json create = Json::parse(rows[0].payload);
    EXPECT_EQ(create["orchestrationId"], id);
    EXPECT_EQ(create["eventType"], "1");
    ASSERT_EQ(create["tenants"].size(), 10u);
    EXPECT_EQ(create["tenants"][0],
              Json::parse(R"({"instanceId":"inst-0","startDateTime":"2026-11-23 10:00:00","endDateTime":""})"));
    EXPECT_EQ(rows[0].payload.find("{\"orchestrationId\""), 0u) << "field order as in the contract";
    // The first start (10:00) and its end (10:10, upgrades take 10 minutes), byte for byte.
    EXPECT_EQ(rows[1].kind, Notification::Kind::Start);
    EXPECT_EQ(rows[1].payload, R"({"orchestrationId":")" + id +
                                   R"(","tenants":[{"instanceId":"inst-0","startDateTime":"2026-11-23 10:00:00","eventState":"1"}]})");
    bool sawEnd = false, sawFailedEnd = false;
    for (const Notification& n : rows) {
        if (n.kind != Notification::Kind::End) continue;
        const Json j = Json::parse(n.payload);
        if (j["tenants"][0]["instanceId"] == "inst-0") {
            EXPECT_EQ(n.payload, R"({"orchestrationId":")" + id +
                                     R"(","tenants":[{"instanceId":"inst-0","endDateTime":"2026-11-23 10:10:00","eventState":"2"}]})");
            sawEnd = true;
        }
        if (j["tenants"][0]["instanceId"] == "inst-4") sawFailedEnd = true;
    }
    EXPECT_TRUE(sawEnd);
    EXPECT_TRUE(sawFailedEnd);
}

TEST(Notifications, ClusterUpgradesAreEventTypeZero) {
    NotifyHarness h;
    h.addRuntimes(2);
    h.submit(R"({"targets":{"include":[{"target":"all"}]},"notification":true,)"
             R"("kubernetes":{"kubernetesVersion":"1.30.1","machineImage":"gardenlinux","machineImageVersion":"1592.1"}})",
             "cluster");
    h.runToEnd();
    const std::vector<Notification> rows = h.outbox();
    ASSERT_FALSE(rows.empty());
    EXPECT_EQ(Json::parse(rows[0].payload)["eventType"], "0");
}

TEST(Notifications, WindowedOperationsAnnounceTheirWindow) {
    NotifyHarness h;
    h.addRuntimes(3, "030000+0000", "050000+0000");  // the next window: tomorrow 03:00-05:00 UTC
    h.submit(body(true, "", /*window=*/true));
    h.runFor(kMinute);
    const std::vector<Notification> rows = h.outbox();
    ASSERT_EQ(rows.size(), 1u);
    const Json create = Json::parse(rows[0].payload);
    ASSERT_EQ(create["tenants"].size(), 3u);
    for (const Json& t : create["tenants"]) {
        EXPECT_EQ(t["startDateTime"], "2026-11-24 03:00:00");
        EXPECT_EQ(t["endDateTime"], "2026-11-24 05:00:00");
    }
}

TEST(Notifications, OnlyWhenBothTheRequestAndTheServerOptIn) {
    {
        NotifyHarness off(false);
        off.addRuntimes(3);
        off.submit(body(true));
        off.runToEnd();
        EXPECT_TRUE(off.outbox().empty()) << "server has notifications off";
    }
    {
        NotifyHarness h;
        h.addRuntimes(3);
        h.submit(body(false));
        h.runToEnd();
        EXPECT_TRUE(h.outbox().empty()) << "request did not opt in";
    }
    {
        NotifyHarness h;
        h.addRuntimes(3);
        h.submit(body(true, R"("dryRun":true,)"));
        h.runToEnd();
        EXPECT_TRUE(h.outbox().empty()) << "a dry run changes nothing a customer must hear about";
    }
}

TEST(Notifications, CancelWritesTheCancelEvent) {
    NotifyHarness h;
    h.addRuntimes(6);
    const std::string id = h.submit(body(true, "", false, 1));
    h.runFor(5 * kMinute);  // one upgrade in progress, five pending
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel").status, 200);
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Canceled);
    // The running one ends; the canceled pending ones are covered by the cancel event.
    EXPECT_EQ(h.kinds(), (std::map<std::string, int>{{"create", 1}, {"start", 1}, {"end", 1}, {"cancel", 1}}));
    for (const Notification& n : h.outbox())
        if (n.kind == Notification::Kind::Cancel) {
            EXPECT_EQ(n.payload, R"({"orchestrationId":")" + id + R"("})");
        }
    // Canceled before it was scheduled: no create was sent, so no cancel either.
    const std::string early = h.submit(
        R"({"targets":{"include":[{"target":"all"}]},"notification":true,"strategy":{"type":"parallel","schedule":"2030-01-01T00:00:00Z"},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(h.call("PUT", "/orchestrations/" + early + "/cancel").status, 200);
    EXPECT_EQ(h.kinds()["cancel"], 1);
}

// Every outbox row rides in the batch of its state change (one transaction), never alone.
TEST(Notifications, RowsAreWrittenInTheBatchOfTheirStateChange) {
    struct Recording : ForwardingStore {
        using ForwardingStore::ForwardingStore;
        int withRows = 0, alone = 0;
        std::map<std::string, int> byLabel;
        void apply(const WriteBatch& b) override {
            ForwardingStore::apply(b);  // the producer adds the create row while it runs
            if (b.notifications.empty()) return;
            ++withRows;
            const bool stateChange = !b.progress.empty() || !b.updatedOrchestrations.empty() || b.operationSource ||
                                     !b.updatedOperations.empty();
            if (!stateChange) ++alone;
            for (const Notification& n : b.notifications) ++byLabel[std::string(b.describe()) + "/" + toString(n.kind)];
        }
    };
    MemoryStore inner;
    Recording rec(inner);
    TestFleet fleet;
    for (int i = 0; i < 4; ++i) fleet.runtimes.push_back(makeRuntime(i));
    ScriptedBackend backend;
    SeededIdGenerator ids{7};
    EngineConfig config;
    config.notifications = true;
    Engine engine(rec, fleet, ids, config);
    Millis now = T("2026-11-23T10:00:00Z");
    engine.recover(now);
    Parameters p = upgradeAll();
    p.strategy.workers = 2;
    p.notification = true;
    const std::string id = engine.create(OrchestrationType::UpgradeKyma, p, now);
    runToIdle(engine, backend, now);
    EXPECT_EQ(inner.getOrchestration(id)->state, OrchestrationState::Succeeded);
    EXPECT_EQ(rec.alone, 0);
    EXPECT_EQ(rec.withRows, 9);
    EXPECT_EQ(rec.byLabel, (std::map<std::string, int>{{"updateOrchestrationAddingOperations/create", 1},
                                                      {"updateOperationProgress/start", 4},
                                                      {"updateOperationProgress/end", 4}}));
    EXPECT_EQ(inner.pendingNotificationCount(), 9);
}

TEST(Notifications, RequestFieldIsValidatedAndEchoedOnlyWhenSet) {
    NotifyHarness h;
    h.addRuntimes(1);
    for (const char* bad : {R"("yes")", "1", R"("true")", "{}"}) {
        ApiResponse r = h.call("POST", "/upgrade/kyma",
                               R"({"targets":{"include":[{"target":"all"}]},"notification":)" + std::string(bad) +
                                   R"(,"kyma":{"version":"2.20.0"}})");
        EXPECT_EQ(r.status, 400) << bad;
        EXPECT_NE(r.body["error"].get<std::string>().find("notification"), std::string::npos) << r.body.dump();
    }
    const std::string on = h.submit(body(true));
    const std::string off = h.submit(body(false));
    const Json a = h.call("GET", "/orchestrations/" + on).body;
    const Json b = h.call("GET", "/orchestrations/" + off).body;
    EXPECT_EQ(a["parameters"]["notification"], true);
    EXPECT_FALSE(b["parameters"].contains("notification")) << b.dump();
    const std::string explicitFalse = h.submit(
        R"({"targets":{"include":[{"target":"all"}]},"notification":false,"kyma":{"version":"2.20.0"}})");
    EXPECT_FALSE(h.call("GET", "/orchestrations/" + explicitFalse).body["parameters"].contains("notification"));
}
