// SPEC 12: GET /runtimes and POST /upgrade/...?preview=true through the core's router.
#include <gtest/gtest.h>

#include "harness.h"
#include "keb/timefmt.h"

using namespace keb;
using namespace keb::testing;

namespace {

std::string request(int workers, const std::string& strategyExtra = "", bool window = false) {
    return R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate",)"
           R"("maintenanceWindow":)" +
           std::string(window ? "true" : "false") + R"(,"parallel":{"workers":)" + std::to_string(workers) + "}" +
           (strategyExtra.empty() ? "" : "," + strategyExtra) + R"(},"kyma":{"version":"2.21.0"}})";
}

Millis at(const Json& j) { return *parseRfc3339(j.get<std::string>()); }

const Principal kReader{true, "r", {kScopeRead}};
const Principal kWriter{true, "w", {kScopeWrite}};

}  // namespace

TEST(Runtimes, ListsTheFleetPagedAndFiltered) {
    Harness h;
    h.addRuntimes(10, "010000+0000", "030000+0000");
    auto r = h.call("GET", "/runtimes");
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body["totalCount"], 10);
    EXPECT_EQ(r.body["count"], 10);
    const Json& first = r.body["data"][0];
    EXPECT_EQ(first["runtimeID"], "rt-0");
    EXPECT_EQ(first["instanceID"], "inst-0");
    EXPECT_EQ(first["globalAccountID"], "ga-0");
    EXPECT_EQ(first["subAccountID"], "sa-0");
    EXPECT_EQ(first["planName"], "azure");
    EXPECT_EQ(first["region"], "eastus");
    EXPECT_EQ(first["shootName"], "shoot-0");
    EXPECT_EQ(first["maintenanceWindowBegin"], "010000+0000");
    EXPECT_EQ(first["maintenanceWindowEnd"], "030000+0000");
    EXPECT_EQ(first["kubernetesVersion"], "1.29.0");
    EXPECT_FALSE(first.contains("lastOperation")) << "absent when the runtime has no operation";

    r = h.call("GET", "/runtimes?page=2&page_size=3");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["count"], 3);
    EXPECT_EQ(r.body["totalCount"], 10);
    EXPECT_EQ(r.body["data"][0]["runtimeID"], "rt-3");
    r = h.call("GET", "/runtimes?page=4&page_size=3");
    EXPECT_EQ(r.body["count"], 1);
    EXPECT_EQ(r.body["data"][0]["runtimeID"], "rt-9");

    EXPECT_EQ(h.call("GET", "/runtimes?region=westeurope").body["totalCount"], 5);
    EXPECT_EQ(h.call("GET", "/runtimes?globalAccountID=ga-0").body["totalCount"], 4);  // 0, 3, 6, 9
    EXPECT_EQ(h.call("GET", "/runtimes?globalAccountID=ga-0&region=eastus").body["totalCount"], 2);  // 0, 6
    EXPECT_EQ(h.call("GET", "/runtimes?planName=azure").body["totalCount"], 10);
    EXPECT_EQ(h.call("GET", "/runtimes?planName=gcp").body["totalCount"], 0);
    EXPECT_EQ(h.call("GET", "/runtimes?page_size=1000").status, 200);
}

TEST(Runtimes, BadQueriesAre400NamingTheParameter) {
    Harness h;
    h.addRuntimes(2);
    for (const char* q : {"page_size=1001", "page_size=0", "page_size=x", "page=0", "state=done", "region=",
                          "region=a&region=b", "regions=a"}) {
        auto r = h.call("GET", std::string("/runtimes?") + q);
        EXPECT_EQ(r.status, 400) << q;
        std::string name(q, std::string_view(q).find('='));
        EXPECT_NE(r.body["error"].get<std::string>().find(name), std::string::npos) << q << " -> " << r.body;
    }
}

TEST(Runtimes, LastOperationAndStateFilter) {
    Harness h;
    h.addRuntimes(4);
    h.backend.failing = {"rt-1"};
    const std::string first = h.submit(request(2));
    h.runToEnd();
    auto r = h.call("GET", "/runtimes?state=failed");
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body["totalCount"], 1);
    const Json& item = r.body["data"][0];
    EXPECT_EQ(item["runtimeID"], "rt-1");
    EXPECT_EQ(item["lastOperation"]["orchestrationID"], first);
    EXPECT_EQ(item["lastOperation"]["state"], "failed");
    std::string failedOp;
    for (const auto& op : h.ops(first))
        if (op.runtimeID == "rt-1") failedOp = op.operationID;
    EXPECT_EQ(item["lastOperation"]["operationID"], failedOp);
    EXPECT_EQ(h.call("GET", "/runtimes?state=succeeded").body["totalCount"], 3);
    EXPECT_EQ(h.call("GET", "/runtimes?state=succeeded&state=failed").body["totalCount"], 4);

    // A newer orchestration's operation is the latest.
    h.backend.failing.clear();
    const std::string second =
        h.submit(R"({"targets":{"include":[{"runtimeID":"rt-1"}]},"kyma":{"version":"2.22.0"}})");
    h.runToEnd();
    r = h.call("GET", "/runtimes?state=failed");
    EXPECT_EQ(r.body["totalCount"], 0);
    r = h.call("GET", "/runtimes?page=2&page_size=1");
    EXPECT_EQ(r.body["data"][0]["lastOperation"]["orchestrationID"], second);
    EXPECT_EQ(r.body["data"][0]["lastOperation"]["state"], "succeeded");
}

TEST(Runtimes, ScopesAndFleetDown) {
    Harness h;
    h.addRuntimes(2);
    EXPECT_EQ(h.call("GET", "/runtimes", "", kReader).status, 200);
    EXPECT_EQ(h.call("GET", "/runtimes", "", kWriter).status, 403);
    EXPECT_EQ(h.call("GET", "/runtimes", "", Principal{}).status, 401);
    h.fleet.down = true;
    auto r = h.call("GET", "/runtimes");
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body["error"].get<std::string>().find("gardener: 503"), std::string::npos) << r.body;
}

TEST(Preview, WritesNothingAndIsDeterministic) {
    Harness h;
    h.addRuntimes(10);
    auto r = h.call("POST", "/upgrade/kyma?preview=true", request(2));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (const char* f : {"runtimes", "skippedCount", "skipped", "predictedStart", "predictedEnd", "predictedEndP90",
                          "peakWorkers", "hourly", "stages", "assumptions"})
        EXPECT_TRUE(r.body.contains(f)) << f;
    EXPECT_EQ(r.body["runtimes"], 10);
    EXPECT_EQ(r.body["skippedCount"], 0);
    EXPECT_EQ(r.body["peakWorkers"], 2);
    EXPECT_EQ(at(r.body["predictedStart"]), h.now);
    EXPECT_GT(at(r.body["predictedEnd"]), h.now);
    EXPECT_GE(at(r.body["predictedEndP90"]), at(r.body["predictedEnd"]));
    EXPECT_EQ(r.body["assumptions"]["source"], "default");
    EXPECT_EQ(r.body["assumptions"]["durationMedian"], "15m");
    EXPECT_EQ(r.body["assumptions"]["failureRate"], 0);
    EXPECT_EQ(r.body["assumptions"]["historyOperations"], 0);
    ASSERT_EQ(r.body["hourly"].size(), 1u + (at(r.body["predictedEnd"]) - h.now > kHour ? 1u : 0u) +
                                           (at(r.body["predictedEnd"]) - h.now > 2 * kHour ? 1u : 0u))
        << r.body.dump();
    std::int64_t starts = 0;
    for (const auto& hr : r.body["hourly"]) starts += hr["starts"].get<std::int64_t>();
    EXPECT_EQ(starts, 10);
    // Nothing stored, nothing started.
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 0);
    EXPECT_FALSE(h.engine->nextWakeup().has_value());
    // Same store, fleet and request: the same answer; the cluster route too.
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=true", request(2)).body, r.body);
    auto c = h.call("POST", "/upgrade/cluster?preview=true",
                    R"({"targets":{"include":[{"target":"all"}]},"kubernetes":{"kubernetesVersion":"1.30.1"}})");
    EXPECT_EQ(c.status, 200) << c.body.dump();
    EXPECT_EQ(c.body["runtimes"], 10);
    EXPECT_EQ(c.body["peakWorkers"], 1);
    // preview=false is the ordinary POST.
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=false", request(2)).status, 202);
}

TEST(Preview, ModelFromHistoryPredictsTheRun) {
    Harness h;
    h.addRuntimes(10);
    h.backend.duration = 10 * kMinute;
    h.submit(request(10));
    h.runToEnd();
    h.now += kHour;
    auto r = h.call("POST", "/upgrade/kyma?preview=true", request(2));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    const Json& as = r.body["assumptions"];
    EXPECT_EQ(as["source"], "history");
    EXPECT_EQ(as["historyOperations"], 10);
    EXPECT_EQ(as["failureRate"], 0);
    // The harness's engine polls every minute: measured durations are 10m (whole minutes).
    EXPECT_EQ(as["durationMedian"], "10m");
    EXPECT_EQ(as["durationP90"], "10m");
    // 10 runtimes, 2 workers, 10 minutes each: 5 rounds.
    const Millis start = at(r.body["predictedStart"]);
    EXPECT_EQ(start, h.now);
    EXPECT_EQ(at(r.body["predictedEnd"]) - start, 50 * kMinute);
    EXPECT_EQ(r.body["predictedEndP90"], r.body["predictedEnd"]);

    // Compare with the run itself.
    const std::string id = h.submit(request(2));
    h.runToEnd();
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Succeeded);
    EXPECT_NEAR(static_cast<double>(h.orch(id).updatedAt - start), 50.0 * kMinute, 2.0 * kMinute);

    // Failures in history give a failure rate.
    h.backend.failing = {"rt-0", "rt-1"};
    h.submit(request(10));
    h.runToEnd();
    r = h.call("POST", "/upgrade/kyma?preview=true", request(2));
    EXPECT_EQ(r.body["assumptions"]["historyOperations"], 30);
    EXPECT_NEAR(r.body["assumptions"]["failureRate"].get<double>(), 2.0 / 30, 1e-9);
    // The other type has no history.
    r = h.call("POST", "/upgrade/cluster?preview=true",
               R"({"targets":{"include":[{"target":"all"}]},"kubernetes":{"kubernetesVersion":"1.30.1"}})");
    EXPECT_EQ(r.body["assumptions"]["source"], "default");
}

TEST(Preview, MaintenanceWindowsStagesAndBusyRuntimes) {
    Harness h;
    h.addRuntimes(6, "010000+0000", "030000+0000");
    // Windows: nothing starts before tomorrow 01:00.
    auto r = h.call("POST", "/upgrade/kyma?preview=true", request(6, "", true));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    ASSERT_TRUE(r.body["predictedStart"].is_string()) << r.body.dump();
    EXPECT_EQ(at(r.body["predictedStart"]), T("2026-11-24T01:00:00Z"));
    EXPECT_EQ(r.body["hourly"][0]["hour"], "2026-11-24T01:00:00Z");
    EXPECT_EQ(r.body["hourly"][0]["starts"], 6);

    // Stages: canary (2) then the rest (4).
    r = h.call("POST", "/upgrade/kyma?preview=true",
               request(2, R"("stages":[{"name":"canary","targets":{"include":[{"runtimeID":"rt-0"},{"runtimeID":"rt-1"}]},"soak":"30m"},{"name":"rest"}])"));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    ASSERT_EQ(r.body["stages"].size(), 2u);
    ASSERT_TRUE(r.body["stages"][0]["predictedEnd"].is_string()) << r.body.dump();
    ASSERT_TRUE(r.body["stages"][1]["predictedStart"].is_string()) << r.body.dump();
    EXPECT_EQ(r.body["stages"][0]["name"], "canary");
    EXPECT_EQ(r.body["stages"][0]["runtimes"], 2);
    EXPECT_EQ(r.body["stages"][1]["name"], "rest");
    EXPECT_EQ(r.body["stages"][1]["runtimes"], 4);
    EXPECT_GE(at(r.body["stages"][1]["predictedStart"]), at(r.body["stages"][0]["predictedEnd"]));
    EXPECT_EQ(r.body["runtimes"], 6);

    // A running orchestration holds rt-0 for 10 minutes: the preview's rt-0 waits for it.
    h.backend.duration = 10 * kMinute;
    h.submit(R"({"targets":{"include":[{"runtimeID":"rt-0"}]},"kyma":{"version":"2.20.0"}})");
    h.runUntil(h.now);
    r = h.call("POST", "/upgrade/kyma?preview=true",
               R"({"targets":{"include":[{"runtimeID":"rt-0"}]},"kyma":{"version":"2.21.0"}})");
    ASSERT_EQ(r.status, 200) << r.body.dump();
    ASSERT_TRUE(r.body["predictedStart"].is_string()) << r.body.dump();
    EXPECT_GT(at(r.body["predictedStart"]), h.now) << r.body.dump();
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 1);
}

TEST(Preview, ValidatedAsThePostAndScopedForReaders) {
    Harness h;
    h.addRuntimes(3);
    for (const char* body : {"", "[1]", R"({"targets":{"include":[]}})",
                             R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":0}}})"}) {
        auto post = h.call("POST", "/upgrade/kyma", body);
        auto preview = h.call("POST", "/upgrade/kyma?preview=true", body);
        EXPECT_EQ(post.status, 400) << body;
        EXPECT_EQ(preview.status, 400) << body;
        EXPECT_EQ(preview.body, post.body) << body;
    }
    for (const char* q : {"preview=yes", "preview=", "preview=true&preview=true"}) {
        auto r = h.call("POST", std::string("/upgrade/kyma?") + q, request(2));
        EXPECT_EQ(r.status, 400) << q;
        EXPECT_NE(r.body["error"].get<std::string>().find("preview"), std::string::npos) << r.body;
    }
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=true", request(2), kReader).status, 200);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=true", request(2), kWriter).status, 200);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma", request(2), kReader).status, 403);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=true", request(2), Principal{}).status, 401);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?preview=true", request(2), Principal{true, "x", {"other"}}).status, 403);
    h.fleet.down = true;
    auto r = h.call("POST", "/upgrade/kyma?preview=true", request(2));
    EXPECT_EQ(r.status, 503);
    EXPECT_NE(r.body["error"].get<std::string>().find("gardener: 503"), std::string::npos) << r.body;
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 0);
}
