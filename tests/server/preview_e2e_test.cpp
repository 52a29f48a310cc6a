// SPEC 12 end to end: GET /runtimes and POST /upgrade/...?preview=true against a real keb-server
// (demo fleet, SQLite store) over HTTP on 127.0.0.1; every answer is checked against openapi.json.
#include "server_harness.h"

#include <ctime>
#include <map>

using namespace keb::test;

namespace {

constexpr const char* kSecret = "preview-e2e-secret-0123";

Json loadDoc(int port) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/openapi.json");
    return r && r->status == 200 ? Json::parse(r->body) : Json();
}

std::string body(int workers, const std::string& version) {
    return R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"parallel","schedule":"immediate","parallel":{"workers":)" +
           std::to_string(workers) + R"(}},"kyma":{"version":")" + version + R"("}})";
}

// "2026-12-05T14:00:01.250Z" -> Unix milliseconds (the server writes UTC with 'Z').
std::int64_t at(const Json& j) {
    std::tm tm{};
    int ms = 0;
    const std::string t = j.get<std::string>();
    std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec);
    if (auto dot = t.find('.'); dot != std::string::npos) {
        std::string frac = t.substr(dot + 1, t.find('Z') - dot - 1);
        frac = (frac + "000").substr(0, 3);
        ms = std::stoi(frac);
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

bool finished(const std::string& s) { return s == "succeeded" || s == "failed" || s == "canceled"; }

}  // namespace

TEST(PreviewE2E, RuntimesPagedFilteredAndScoped) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", std::string("hs256:") + kSecret,
                         "--demo-fleet", "50", "--demo-upgrade-duration", "50ms"},
                        dir.path.string()))
        << s.stderrText();
    const Json doc = loadDoc(s.port());
    Api a(s.port(), token(kSecret, "broker-upgrade:read broker-upgrade:write"));
    a.setOpenApi(&doc);

    auto all = a.get("/runtimes?page_size=1000");
    ASSERT_EQ(all.status, 200) << all.body;
    ASSERT_EQ(all.json["totalCount"], 50);
    ASSERT_EQ(all.json["count"], 50);
    for (const auto& item : all.json["data"]) EXPECT_FALSE(item.contains("lastOperation")) << item;
    // Paging: page 2 of 20 is items 20..39 of the whole list.
    auto p2 = a.get("/runtimes?page=2&page_size=20");
    ASSERT_EQ(p2.status, 200);
    ASSERT_EQ(p2.json["count"], 20);
    EXPECT_EQ(p2.json["totalCount"], 50);
    EXPECT_EQ(p2.json["data"][0], all.json["data"][20]);
    EXPECT_EQ(a.get("/runtimes?page=3&page_size=20").json["count"], 10);
    EXPECT_EQ(a.get("/runtimes").json["count"], 50);  // default page size 100
    // Filters: what the whole list says.
    const Json& first = all.json["data"][0];
    for (const char* f : {"region", "globalAccountID", "planName"}) {
        const std::string v = first[f];
        int expected = 0;
        for (const auto& item : all.json["data"]) expected += item[f] == v;
        auto r = a.get(std::string("/runtimes?page_size=1000&") + f + "=" + v);
        ASSERT_EQ(r.status, 200) << f;
        EXPECT_EQ(r.json["totalCount"], expected) << f << "=" << v;
        for (const auto& item : r.json["data"]) EXPECT_EQ(item[f], v);
    }
    // 400s name the parameter.
    for (const char* q : {"page_size=1001", "page=0", "state=done", "colour=red"}) {
        auto r = a.get(std::string("/runtimes?") + q);
        EXPECT_EQ(r.status, 400) << q;
        const std::string name(q, std::string_view(q).find('='));
        EXPECT_NE(r.json.value("error", "").find(name), std::string::npos) << q << " -> " << r.body;
    }
    // Scopes.
    Api reader(s.port(), token(kSecret, "broker-upgrade:read"));
    reader.setOpenApi(&doc);
    EXPECT_EQ(reader.get("/runtimes?page_size=1").status, 200);
    Api writer(s.port(), token(kSecret, "broker-upgrade:write"));
    writer.setOpenApi(&doc);
    EXPECT_EQ(writer.get("/runtimes").status, 403);
    Api anonymous(s.port());
    anonymous.setOpenApi(&doc);
    EXPECT_EQ(anonymous.get("/runtimes").status, 401);

    // After a rollout: every upgraded runtime's latest operation, filterable by its state.
    auto r = a.post("/upgrade/kyma", body(10, "2.20.0"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return finished(a.get("/orchestrations/" + id).json.value("state", "")); }, 30000));
    const int succeeded = a.get("/orchestrations/" + id).json["operationStats"]["succeeded"];
    auto done = a.get("/runtimes?page_size=1000&state=succeeded");
    ASSERT_EQ(done.status, 200);
    EXPECT_EQ(done.json["totalCount"], succeeded);
    for (const auto& item : done.json["data"]) {
        EXPECT_EQ(item["lastOperation"]["orchestrationID"], id);
        EXPECT_EQ(item["lastOperation"]["state"], "succeeded");
        auto op = a.get("/orchestrations/" + id + "/operations/" + item["lastOperation"]["operationID"].get<std::string>());
        EXPECT_EQ(op.status, 200);
        EXPECT_EQ(op.json["runtimeID"], item["runtimeID"]);
    }
}

TEST(PreviewE2E, PreviewWritesNothingValidatesAsThePostAndIsDeterministic) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", std::string("hs256:") + kSecret,
                         "--demo-fleet", "40", "--demo-upgrade-duration", "50ms"},
                        dir.path.string()))
        << s.stderrText();
    const Json doc = loadDoc(s.port());
    Api a(s.port(), token(kSecret, "broker-upgrade:read broker-upgrade:write"));
    a.setOpenApi(&doc);
    Api reader(s.port(), token(kSecret, "broker-upgrade:read"));
    reader.setOpenApi(&doc);

    auto p = reader.post("/upgrade/kyma?preview=true", body(4, "2.20.0"));
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_GT(p.json["runtimes"].get<int>(), 0);
    EXPECT_EQ(p.json["peakWorkers"], 4);
    EXPECT_EQ(p.json["assumptions"]["source"], "default");
    // Same store, fleet and request: the same prediction (times relative to the request's now).
    auto again = reader.post("/upgrade/kyma?preview=true", body(4, "2.20.0"));
    ASSERT_EQ(again.status, 200);
    for (const char* f : {"runtimes", "skippedCount", "skipped", "peakWorkers", "stages", "assumptions"})
        EXPECT_EQ(again.json[f], p.json[f]) << f;
    for (const char* f : {"predictedEnd", "predictedEndP90"})
        EXPECT_EQ(at(again.json[f]) - at(again.json["predictedStart"]), at(p.json[f]) - at(p.json["predictedStart"])) << f;
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 0) << "a preview stored an orchestration";
    EXPECT_EQ(a.get("/runtimes?state=pending&state=in+progress&state=succeeded").json["totalCount"], 0);
    // The same 400s as the POST.
    for (const std::string& bad : {std::string("{"), std::string(R"({"targets":{"include":[]}})"), body(0, "2.20.0")}) {
        auto post = a.post("/upgrade/kyma", bad);
        auto preview = a.post("/upgrade/kyma?preview=true", bad);
        EXPECT_EQ(post.status, 400) << bad;
        EXPECT_EQ(preview.status, 400) << bad;
        EXPECT_EQ(preview.json, post.json) << bad;
    }
    EXPECT_EQ(a.post("/upgrade/kyma?preview=maybe", body(4, "2.20.0")).status, 400);
    EXPECT_EQ(a.post("/upgrade/cluster?preview=true", body(4, "2.20.0")).status, 400);  // no kubernetes block
    Api anonymous(s.port());
    anonymous.setOpenApi(&doc);
    EXPECT_EQ(anonymous.post("/upgrade/kyma?preview=true", body(4, "2.20.0")).status, 401);
    EXPECT_EQ(reader.post("/upgrade/kyma", body(4, "2.20.0")).status, 403);
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 0);
    auto c = reader.post("/upgrade/cluster?preview=true",
                         R"({"targets":{"include":[{"target":"all"}]},"kubernetes":{"kubernetesVersion":"1.30.1"}})");
    EXPECT_EQ(c.status, 200) << c.body;
}

// SPEC 12 accuracy: on the demo fleet with a fixed upgrade duration, the preview's predictedEnd
// is within 10% of the real end of the same request sent right after it.
TEST(PreviewE2E, PredictedEndWithinTenPercentOfTheRealEnd) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none", "--demo-fleet", "24",
                         "--demo-upgrade-duration", "1s", "--workers", "8"},
                        dir.path.string()))
        << s.stderrText();
    const Json doc = loadDoc(s.port());
    Api a(s.port());
    a.setOpenApi(&doc);
    // History: one rollout of the whole fleet (the same parallelism: a busier backend would
    // measure longer upgrades).
    auto r = a.post("/upgrade/kyma", body(4, "2.20.0"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string first = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return finished(a.get("/orchestrations/" + first).json.value("state", "")); }, 30000));

    auto p = a.post("/upgrade/kyma?preview=true", body(4, "2.21.0"));
    ASSERT_EQ(p.status, 200) << p.body;
    EXPECT_EQ(p.json["assumptions"]["source"], "history");
    EXPECT_GT(p.json["assumptions"]["historyOperations"].get<int>(), 0);
    EXPECT_EQ(p.json["peakWorkers"], 4);
    const std::int64_t predicted = at(p.json["predictedEnd"]) - at(p.json["predictedStart"]);

    r = a.post("/upgrade/kyma", body(4, "2.21.0"));
    ASSERT_EQ(r.status, 202) << r.body;
    const std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return finished(a.get("/orchestrations/" + id).json.value("state", "")); }, 60000));
    auto o = a.get("/orchestrations/" + id);
    EXPECT_EQ(o.json["state"], "succeeded");
    EXPECT_EQ(o.json["operationStats"]["succeeded"], p.json["runtimes"].get<int>() - p.json["skippedCount"].get<int>());
    const std::int64_t real = at(o.json["updatedAt"]) - at(o.json["createdAt"]);
    std::cout << "predicted " << predicted << " ms, real " << real << " ms (median "
              << p.json["assumptions"]["durationMedian"] << ")\n";
    EXPECT_NEAR(static_cast<double>(predicted), static_cast<double>(real), 0.1 * static_cast<double>(real));
}
