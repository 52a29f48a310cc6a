// End-to-end tests of keb-server over real HTTP on 127.0.0.1: every endpoint and error
// code, auth (HS256, RS256 via JWKS), paging, cancel, retry, malformed bodies, static files,
// TLS, metrics, and every JSON answer checked against GET /openapi.json.
#include "server_harness.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace keb::test;

namespace {

constexpr const char* kSecret = "e2e-test-secret-0123";
const std::string kRW = "broker-upgrade:read broker-upgrade:write";

class ServerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir();
        server_ = new ServerProcess();
        ASSERT_TRUE(server_->start({"--store", "sqlite:" + (*dir_ / "keb.db"), "--auth", std::string("hs256:") + kSecret,
                                    "--demo-fleet", "30", "--demo-upgrade-duration", "100ms", "--workers", "8",
                                    "--web-root", webRoot()},
                                   dir_->path.string()))
            << server_->stderrText();
        rw_ = new std::string(token(kSecret, kRW));
        httplib::Client c("127.0.0.1", server_->port());
        auto r = c.Get("/openapi.json");
        ASSERT_TRUE(r && r->status == 200);
        doc_ = new Json(Json::parse(r->body));
    }
    static void TearDownTestSuite() {
        delete server_;
        delete dir_;
        delete rw_;
        delete doc_;
    }
    static std::string webRoot() {
        static TempDir web;
        std::ofstream(web / "index.html") << "<html>sim</html>";
        std::ofstream(web / "app.wasm") << std::string("\0asm\1\0\0\0", 8);
        std::ofstream(web / "app.js") << "console.log(1)";
        return web.path.string();
    }
    Api api(const std::string& tok = "") {
        Api a(server_->port(), tok.empty() ? *rw_ : tok);
        a.setOpenApi(doc_);
        return a;
    }
    // Starts an orchestration and waits until it is finished; returns its id.
    std::string runToEnd(Api& a, const std::string& body, const std::string& kind = "kyma", int timeoutMs = 20000) {
        auto r = a.post("/upgrade/" + kind, body);
        EXPECT_EQ(r.status, 202) << r.body;
        std::string id = r.json.value("orchestrationID", "");
        EXPECT_TRUE(eventually(
            [&] {
                auto g = a.get("/orchestrations/" + id);
                std::string s = g.json.value("state", "");
                return s == "succeeded" || s == "failed" || s == "canceled";
            },
            timeoutMs));
        return id;
    }
    static TempDir* dir_;
    static ServerProcess* server_;
    static std::string* rw_;
    static Json* doc_;
};
TempDir* ServerTest::dir_ = nullptr;
ServerProcess* ServerTest::server_ = nullptr;
std::string* ServerTest::rw_ = nullptr;
Json* ServerTest::doc_ = nullptr;

TEST_F(ServerTest, HealthzMetricsOpenApi) {
    Api a = api();
    auto h = a.get("/healthz");
    EXPECT_EQ(h.status, 200);
    EXPECT_EQ(h.json["status"], "ok");
    EXPECT_EQ(h.json["role"], "leader");  // SPEC 11: a single SQLite replica always leads
    EXPECT_EQ(h.json["epoch"], 0);
    EXPECT_FALSE(h.json.value("replica", "").empty());
    a.get("/orchestrations");  // at least one counted request
    auto m = a.get("/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.contentType.find("text/plain"), std::string::npos);
    for (const char* needle : {"keb_orchestrations{state=\"in progress\"}", "keb_operations{state=\"succeeded\"}",
                               "keb_http_requests_total{code=\"200\"}", "keb_step_duration_seconds_bucket{step=\"start\"",
                               "keb_step_duration_seconds_count{step=\"poll\"}", "keb_leader 1", "keb_lease_epoch 0"})
        EXPECT_NE(m.body.find(needle), std::string::npos) << needle;
    EXPECT_EQ(a.get("/openapi.json").json["openapi"], "3.0.3");
    EXPECT_EQ(a.call("POST", "/healthz", "{}").status, 405);
}

TEST_F(ServerTest, UpgradeKymaRunsToSuccessWithDetailAndStats) {
    Api a = api();
    std::string id = runToEnd(a, kymaBody(5));
    auto o = a.get("/orchestrations/" + id);
    ASSERT_EQ(o.status, 200);
    EXPECT_EQ(o.json["state"], "succeeded");
    EXPECT_EQ(o.json["type"], "upgradeKyma");
    EXPECT_EQ(o.json["parameters"]["kyma"]["version"], "2.20.0");
    const int n = o.json["operationStats"]["succeeded"];
    EXPECT_GT(n, 20);  // 30 runtimes minus the few the demo fleet has in deletion
    auto ops = a.get("/orchestrations/" + id + "/operations");
    ASSERT_EQ(ops.status, 200);
    EXPECT_EQ(ops.json["totalCount"], n);
    EXPECT_EQ(ops.json["count"], n);
    std::string opID = ops.json["data"][0]["operationID"];
    auto d = a.get("/orchestrations/" + id + "/operations/" + opID);
    ASSERT_EQ(d.status, 200);
    EXPECT_EQ(d.json["kymaConfig"]["version"], "2.20.0");
    EXPECT_EQ(d.json["state"], "succeeded");
    EXPECT_EQ(a.get("/orchestrations/" + id + "/operations/nope").status, 404);
    // The operation appears in the list.
    auto list = a.get("/orchestrations?state=succeeded");
    bool found = false;
    for (const auto& x : list.json["data"]) found = found || x["orchestrationID"] == id;
    EXPECT_TRUE(found);
}

TEST_F(ServerTest, UpgradeClusterRecordsClusterConfig) {
    Api a = api();
    std::string id = runToEnd(a,
                              R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":10}},
                                  "kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.3"}})",
                              "cluster");
    auto ops = a.get("/orchestrations/" + id + "/operations?page_size=1");
    ASSERT_EQ(ops.status, 200);
    auto d = a.get("/orchestrations/" + id + "/operations/" + ops.json["data"][0]["operationID"].get<std::string>());
    EXPECT_EQ(d.json["clusterConfig"]["kubernetesVersion"], "1.30.2");
    EXPECT_EQ(d.json["clusterConfig"]["machineImage"], "gardenlinux");
    EXPECT_EQ(a.get("/orchestrations/" + id).json["type"], "upgradeCluster");
}

TEST_F(ServerTest, PagingAndFilters) {
    Api a = api();
    std::string id = runToEnd(a, kymaBody(10, R"(,"dryRun":true)"));
    auto all = a.get("/orchestrations/" + id + "/operations");
    const int total = all.json["totalCount"];
    ASSERT_GT(total, 14);
    std::vector<std::string> seen;
    for (int page = 1;; ++page) {
        auto p = a.get("/orchestrations/" + id + "/operations?page_size=7&page=" + std::to_string(page));
        ASSERT_EQ(p.status, 200);
        EXPECT_EQ(p.json["totalCount"], total);
        EXPECT_EQ(p.json["count"], p.json["data"].size());
        if (p.json["data"].empty()) break;
        for (const auto& op : p.json["data"]) seen.push_back(op["operationID"]);
        ASSERT_LT(page, 100);
    }
    ASSERT_EQ(static_cast<int>(seen.size()), total);
    for (int i = 0; i < total; ++i) EXPECT_EQ(seen[i], all.json["data"][i]["operationID"]) << "same order as one page";
    auto past = a.get("/orchestrations/" + id + "/operations?page=999");
    EXPECT_EQ(past.status, 200);
    EXPECT_EQ(past.json["count"], 0);
    EXPECT_EQ(past.json["totalCount"], total);
    auto f = a.get("/orchestrations/" + id + "/operations?state=failed&state=in%20progress");
    EXPECT_EQ(f.json["totalCount"], 0);
    auto s = a.get("/orchestrations/" + id + "/operations?state=succeeded&page_size=100");
    EXPECT_EQ(s.json["totalCount"], total);
    // Bad paging / filters: 400.
    for (const char* q : {"page=0", "page=-1", "page=abc", "page_size=0", "page_size=101", "page_size=1.5", "page=1&page=2",
                          "state=bogus", "state=", "page=99999999999999999999"}) {
        EXPECT_EQ(a.get(std::string("/orchestrations?") + q).status, 400) << q;
        EXPECT_EQ(a.get("/orchestrations/" + id + "/operations?" + q).status, 400) << q;
    }
    EXPECT_EQ(a.get("/orchestrations?state=in+progress&state=pending").status, 200);
    EXPECT_EQ(a.get("/orchestrations/unknown/operations").status, 404);
    EXPECT_EQ(a.get("/orchestrations/unknown").status, 404);
}

// GET .../operations with plain page/page_size is answered by the handler's fast path
// (App::servePageFast), anything else by the router: the same query spelt with %-escapes (which
// the fast path leaves to the router) gives the same status, headers and bytes, with and without
// compression, for pages inside and past the end and for a missing orchestration.
TEST_F(ServerTest, PlainPagingFastPathAnswersAsTheRouter) {
    Api a = api();
    const std::string id = runToEnd(a, kymaBody(10, R"(,"dryRun":true)"));
    const std::vector<std::pair<std::string, std::string>> queries = {
        {"", "?page_size=%31%30%30"},
        {"?page_size=7&page=2", "?page_size=%37&page=%32"},
        {"?page=2&page_size=7", "?page=%32&page_size=7"},
        {"?page_size=1", "?page_size=%31"},
        {"?page=999", "?page=%39%39%39"},
    };
    for (const bool gzip : {false, true}) {
        httplib::Client c("127.0.0.1", server_->port());
        c.set_decompress(false);  // no Accept-Encoding unless given: the raw bytes
        httplib::Headers h = {{"Authorization", "Bearer " + *rw_}};
        if (gzip) h.emplace("Accept-Encoding", "gzip, deflate");
        for (const auto& [plain, escaped] : queries) {
            for (const std::string& path : {"/orchestrations/" + id + "/operations", std::string("/orchestrations/nope/operations")}) {
                auto fast = c.Get((path + plain).c_str(), h);
                auto routed = c.Get((path + escaped).c_str(), h);
                ASSERT_TRUE(fast && routed) << path << plain;
                EXPECT_EQ(fast->status, routed->status) << path << plain << " gzip " << gzip;
                EXPECT_EQ(fast->body, routed->body) << path << plain << " gzip " << gzip;
                for (const char* name : {"Content-Type", "Content-Length", "Content-Encoding"})
                    EXPECT_EQ(fast->get_header_value(name), routed->get_header_value(name)) << name << " " << path << plain;
                EXPECT_EQ(fast->status, path.find("nope") == std::string::npos ? 200 : 404);
            }
        }
    }
}

TEST_F(ServerTest, CancelPendingAndRunningAndFinished) {
    Api a = api();
    // Scheduled in the future: stays pending; cancel makes it canceled.
    auto r = a.post("/upgrade/kyma", R"({"targets":{"include":[{"target":"all"}]},
        "strategy":{"schedule":"2099-01-01T00:00:00Z"},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(r.status, 202);
    std::string id = r.json["orchestrationID"];
    EXPECT_EQ(a.get("/orchestrations/" + id).json["state"], "pending");
    auto c = a.put("/orchestrations/" + id + "/cancel");
    EXPECT_EQ(c.status, 200);
    EXPECT_EQ(c.json["orchestrationID"], id);
    EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "canceled"; }, 5000));

    // Running with one worker: cancel mid-way; the running operation ends, the pending ones are canceled.
    r = a.post("/upgrade/kyma", kymaBody(1));
    ASSERT_EQ(r.status, 202);
    id = r.json["orchestrationID"];
    EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["operationStats"]["succeeded"] >= 1; }, 5000));
    // A PUT without any body (no Content-Length), as `curl -X PUT` sends it.
    std::string code = run("curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Authorization: Bearer " + *rw_ +
                           "' http://127.0.0.1:" + std::to_string(server_->port()) + "/orchestrations/" + id + "/cancel");
    EXPECT_EQ(code, "200");
    EXPECT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "canceled"; }, 5000));
    auto stats = a.get("/orchestrations/" + id).json["operationStats"];
    EXPECT_GT(stats["canceled"].get<int>(), 0);
    EXPECT_EQ(stats["pending"], 0);
    EXPECT_EQ(stats["in progress"], 0);
    auto canceledOps = a.get("/orchestrations/" + id + "/operations?state=canceled&page_size=1");
    EXPECT_EQ(canceledOps.json["data"][0]["description"], "Operation was canceled");

    // Finished: a no-op.
    EXPECT_EQ(a.put("/orchestrations/" + id + "/cancel").status, 200);
    EXPECT_EQ(a.get("/orchestrations/" + id).json["state"], "canceled");
    EXPECT_EQ(a.put("/orchestrations/unknown/cancel").status, 404);
}

TEST_F(ServerTest, RetryOfNotRetryableAndUnknown) {
    Api a = api();
    std::string id = runToEnd(a, kymaBody(10));
    auto r = a.post("/orchestrations/" + id + "/retry", "", "application/x-www-form-urlencoded");
    EXPECT_TRUE(r.status == 400 || r.status == 409) << r.status << " " << r.body;
    EXPECT_EQ(a.post("/orchestrations/unknown/retry", "", "application/x-www-form-urlencoded").status, 404);
}

TEST_F(ServerTest, AuthFailures) {
    Api a = api();
    const std::string path = "/orchestrations";
    auto noToken = Api(server_->port());
    noToken.setOpenApi(doc_);
    auto r = noToken.get(path);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.headers.count("WWW-Authenticate"), 1u);
    EXPECT_EQ(noToken.post("/upgrade/kyma", kymaBody()).status, 401);
    // Bad signature: signed with another secret.
    EXPECT_EQ(api(token("another-secret-xyz", kRW)).get(path).status, 401);
    // Tampered payload (scope widened) with the original signature.
    std::string ro = token(kSecret, "broker-upgrade:read");
    std::string other = token(kSecret, kRW);
    auto dot1 = ro.find('.'), dot2 = ro.rfind('.');
    std::string forged = other.substr(0, other.rfind('.')) + ro.substr(dot2);
    (void)dot1;
    EXPECT_EQ(api(forged).get(path).status, 401);
    // Expired, not yet valid, garbage, alg none.
    EXPECT_EQ(api(token(kSecret, kRW, "--ttl -1h")).get(path).status, 401);
    EXPECT_EQ(api(token(kSecret, kRW, "--nbf-in 1h")).get(path).status, 401);
    EXPECT_EQ(api("not-a-jwt").get(path).status, 401);
    EXPECT_EQ(api("a.b.c").get(path).status, 401);
    std::string none = run("printf '%s' '{\"alg\":\"none\"}' | base64 -w0 | tr '+/' '-_' | tr -d '='") + "." +
                       run("printf '%s' '{\"exp\":9999999999,\"scope\":\"broker-upgrade:read\"}' | base64 -w0 | tr '+/' '-_' | tr -d '='") + ".";
    EXPECT_EQ(api(none).get(path).status, 401);
    // A JWT header nested 1,500 levels deep (fits the 8 KB header limit) never reaches the parser.
    std::string deep = run("python3 -c \"print('[' * 1500 + ']' * 1500, end='')\" | base64 -w0 | tr '+/' '-_' | tr -d '='");
    auto deepResp = api(deep + ".e30.c2ln").get(path);
    EXPECT_EQ(deepResp.status, 401);
    EXPECT_NE(deepResp.body.find("nested too deeply"), std::string::npos) << deepResp.body;
    EXPECT_EQ(api(ro).get(path).status, 200);  // and the server still serves
    // Scopes: read only cannot write; write only cannot read (write does not imply read).
    EXPECT_EQ(api(ro).get(path).status, 200);
    EXPECT_EQ(api(ro).post("/upgrade/kyma", kymaBody()).status, 403);
    EXPECT_EQ(api(ro).put("/orchestrations/x/cancel").status, 403);
    std::string wo = token(kSecret, "broker-upgrade:write");
    EXPECT_EQ(api(wo).get(path).status, 403);
    EXPECT_EQ(api(wo).get("/orchestrations/x/operations").status, 403);
    EXPECT_EQ(api(token(kSecret, "something:else")).get(path).status, 403);
    // Unauthenticated non-API endpoints stay reachable.
    EXPECT_EQ(noToken.get("/healthz").status, 200);
}

TEST_F(ServerTest, ScpArrayClaimIsAccepted) {
    // A token with "scp": [...] instead of "scope", signed with the test's own HMAC (openssl CLI).
    auto b64 = [](const std::string& s) {
        return run("printf '%s' '" + s + "' | base64 -w0 | tr '+/' '-_' | tr -d '='");
    };
    std::string input = b64(R"({"alg":"HS256","typ":"JWT"})") + "." +
                        b64(R"({"exp":9999999999,"scp":["broker-upgrade:read"],"sub":"scp-user"})");
    std::string sig = run("printf '%s' '" + input + "' | openssl dgst -sha256 -hmac '" + kSecret +
                          "' -binary | base64 -w0 | tr '+/' '-_' | tr -d '='");
    auto a = api(input + "." + sig);
    EXPECT_EQ(a.get("/orchestrations").status, 200);
    EXPECT_EQ(a.post("/upgrade/kyma", kymaBody()).status, 403);
}

TEST_F(ServerTest, MalformedBodiesAre4xxAndServerKeepsServing) {
    Api a = api();
    std::vector<std::pair<std::string, std::string>> bad = {
        {"truncated", R"({"targets":{"include":[{"target":"all"})"},
        {"empty", ""},
        {"not json", "hello"},
        {"array", "[1,2,3]"},
        {"null", "null"},
        {"wrong type include", R"({"targets":{"include":"all"},"kyma":{"version":"1"}})"},
        {"empty include", R"({"targets":{"include":[]},"kyma":{"version":"1"}})"},
        {"wrong type workers", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":"many"}}})"},
        {"zero workers", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":0}}})"},
        {"huge workers", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":1e400}}})"},
        {"huge int", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":123456789012345678901234567890}}})"},
        {"bad type", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"serial"}})"},
        {"bad time", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"schedule":"tomorrow"}})"},
        {"bad regex", R"({"targets":{"include":[{"globalAccount":"(unclosed"}]}})"},
        {"invalid utf8", "{\"targets\":{\"include\":[{\"target\":\"\xff\xfe\"}]}}"},
        {"unknown field (typo)", R"({"targets":{"include":[{"runtimeId":"rt-1"}]},"kyma":{"version":"1"}})"},
        {"empty target", R"({"targets":{"include":[{}]},"kyma":{"version":"1"}})"},
    };
    bad.push_back({"deep nesting", std::string(100000, '[') + std::string(100000, ']')});
    bad.push_back({"deep object nesting", [] {
                       std::string s;
                       for (int i = 0; i < 50000; ++i) s += "{\"a\":";
                       s += "1";
                       s += std::string(50000, '}');
                       return s;
                   }()});
    for (const auto& [name, body] : bad) {
        auto r = a.post("/upgrade/kyma", body);
        EXPECT_GE(r.status, 400) << name;
        EXPECT_LT(r.status, 500) << name << ": " << r.body;
        EXPECT_EQ(a.get("/healthz").status, 200) << "server down after " << name;
    }
    // 10 MB body: 413, and the server keeps serving.
    auto big = a.post("/upgrade/kyma", std::string(10 * 1024 * 1024, ' '));
    EXPECT_TRUE(big.status == 413 || big.status == 0) << big.status;  // the server may close the connection early
    Api fresh = api();
    EXPECT_EQ(fresh.get("/healthz").status, 200);
    // Content-Type checks.
    EXPECT_EQ(a.post("/upgrade/kyma", kymaBody(), "text/plain").status, 415);
    EXPECT_EQ(a.post("/upgrade/cluster", kymaBody(), "application/x-www-form-urlencoded").status, 415);
    EXPECT_EQ(a.post("/upgrade/kyma", kymaBody(), "application/json; charset=utf-8").status, 202);
    EXPECT_EQ(fresh.get("/healthz").status, 200);
}

// SPEC 3: an unknown query parameter is 400 on every endpoint of the document (the API, the GET
// fast paths and cached answers behind it, and the server's own /healthz, /metrics,
// /openapi.json), naming it; a misspelt `?preview=true` starts nothing.
TEST_F(ServerTest, UnknownQueryParametersAre400OnEveryEndpoint) {
    Api a = api();
    const std::string done = runToEnd(a, kymaBody(10));
    auto ops = a.get("/orchestrations/" + done + "/operations");
    ASSERT_EQ(ops.status, 200);
    const int doneOps = ops.json["totalCount"];
    const std::string opID = ops.json["data"][0]["operationID"];
    auto r = a.post("/upgrade/kyma", R"({"targets":{"include":[{"target":"all"}]},
        "strategy":{"schedule":"2099-01-01T00:00:00Z"},"kyma":{"version":"2.20.0"}})");
    ASSERT_EQ(r.status, 202);
    const std::string pending = r.json["orchestrationID"];
    const int orchestrations = a.get("/orchestrations").json["totalCount"];

    // The cached and page-rendered answers exist (twice: a cache miss, then a hit) before the
    // same targets with an unknown parameter are asked for.
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(a.get("/orchestrations/" + done).status, 200);
        ASSERT_EQ(a.get("/orchestrations/" + done + "/operations?page_size=5").status, 200);
    }
    int endpoints = 0;
    for (const auto& [templ, item] : (*doc_)["paths"].items()) {
        for (const std::string method : {"get", "post", "put"}) {
            if (!item.contains(method)) continue;
            ++endpoints;
            std::string path = templ;
            const bool ofOperations = path.find("/operations") != std::string::npos;
            if (auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, ofOperations ? done : pending);
            if (auto at = path.find("{opID}"); at != std::string::npos) path.replace(at, 6, opID);
            std::string body, ct = "application/json";
            if (templ.rfind("/upgrade/", 0) == 0) body = kymaBody();
            if (templ.find("/retry") != std::string::npos) body = "immediate=true", ct = "application/x-www-form-urlencoded";
            std::string upper = method;
            for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            for (const std::string q : {"?bogus=true", "?%62ogus=1", "?bogus"}) {
                auto resp = a.call(upper, path + q, body, ct);
                EXPECT_EQ(resp.status, 400) << upper << " " << path << q << " -> " << resp.body;
                EXPECT_NE(resp.json.value("error", "").find("\"bogus\""), std::string::npos)
                    << upper << " " << path << q << " -> " << resp.body;
            }
        }
    }
    EXPECT_EQ(endpoints, 14);  // SPEC 2's eight routes, pause and resume (SPEC 10), /runtimes (SPEC 12), healthz, metrics, openapi.json
    // After parameters the route takes (the cached page's own target plus one).
    for (const std::string& t : {std::string("/orchestrations?page_size=5&bogus=true"),
                                 "/orchestrations/" + done + "/operations?page_size=5&bogus=1"}) {
        auto resp = a.get(t);
        EXPECT_EQ(resp.status, 400) << t;
        EXPECT_NE(resp.json.value("error", "").find("\"bogus\""), std::string::npos) << t << " -> " << resp.body;
    }
    // Nothing was created, canceled or retried.
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], orchestrations);
    EXPECT_EQ(a.get("/orchestrations/" + pending).json["state"], "pending");
    EXPECT_EQ(a.get("/orchestrations/" + done + "/operations").json["totalCount"], doneOps);
    // A misspelt preview is unknown; the real one (SPEC 12) starts nothing either.
    EXPECT_EQ(a.post("/upgrade/kyma?previwe=true", kymaBody()).status, 400);
    EXPECT_EQ(a.post("/upgrade/kyma?preview=true", kymaBody()).status, 200);
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], orchestrations) << "?preview=true started a rollout";
    // The token is checked first; the parameters the document lists are accepted.
    Api noToken(server_->port());
    noToken.setOpenApi(doc_);
    EXPECT_EQ(noToken.post("/upgrade/kyma?bogus=true", kymaBody()).status, 401);
    EXPECT_EQ(a.get("/orchestrations?page=1&page_size=3&state=succeeded&state=pending").status, 200);
    EXPECT_EQ(a.put("/orchestrations/" + pending + "/cancel").status, 200);
}

TEST_F(ServerTest, UnknownRoutesAndMethodsAreJson) {
    Api a = api();
    EXPECT_EQ(a.get("/nothing/here").status, 404);  // with a web root: a missing file
    EXPECT_EQ(a.get("/orchestrations/a/b/c/d/e").status, 404);
    EXPECT_EQ(a.get("/upgrade/kyma").status, 405);
    EXPECT_EQ(a.call("DELETE", "/orchestrations").status, 405);
    EXPECT_EQ(a.call("PATCH", "/orchestrations/x", "{}").status, 405);
    EXPECT_EQ(a.post("/orchestrations/x/cancel", "{}").status, 405);
    EXPECT_EQ(a.get("/upgrade/unknown").status, 404);
}

TEST_F(ServerTest, StaticFilesFromWebRoot) {
    httplib::Client c("127.0.0.1", server_->port());
    auto idx = c.Get("/");
    ASSERT_TRUE(idx);
    EXPECT_EQ(idx->status, 200);
    EXPECT_EQ(idx->body, "<html>sim</html>");
    EXPECT_NE(idx->get_header_value("Content-Type").find("text/html"), std::string::npos);
    // The page looks for this header to offer Live mode (SPEC 12); API answers do not carry it.
    EXPECT_EQ(idx->get_header_value("X-Keb-Server"), "1");
    auto health = c.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_FALSE(health->has_header("X-Keb-Server"));
    auto w = c.Get("/app.wasm");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->get_header_value("Content-Type"), "application/wasm");
    EXPECT_EQ(w->body.size(), 8u);
    auto js = c.Get("/app.js");
    EXPECT_NE(js->get_header_value("Content-Type").find("javascript"), std::string::npos);
    auto trav = c.Get("/../../../etc/passwd");
    ASSERT_TRUE(trav);
    EXPECT_NE(trav->status, 200);
    auto trav2 = c.Get("/%2e%2e/%2e%2e/etc/passwd");
    ASSERT_TRUE(trav2);
    EXPECT_NE(trav2->status, 200);
    EXPECT_EQ(trav2->body.find("root:"), std::string::npos);
}

TEST_F(ServerTest, LogsAreJsonLines) {
    Api a = api();
    a.get("/healthz");
    // The request's log line is written after the answer: wait for it (a fixed 50 ms was flaky
    // on a loaded machine).
    eventually([&] { return server_->stderrText().find("\"http.request\"") != std::string::npos; }, 5000);
    std::stringstream ss(server_->stderrText());
    std::string line;
    int n = 0;
    bool sawStartup = false, sawRequest = false;
    while (std::getline(ss, line)) {
        if (line.empty()) continue;
        Json j = Json::parse(line, nullptr, false);
        ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
        EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("event")) << line;
        sawStartup = sawStartup || j["event"] == "startup.listening";
        sawRequest = sawRequest || j["event"] == "http.request";
        ++n;
    }
    EXPECT_GT(n, 2);
    EXPECT_TRUE(sawStartup);
    EXPECT_TRUE(sawRequest);
}

TEST_F(ServerTest, StartupPrintsACurlExampleWithAWorkingToken) {
    // The default-auth path is covered in DefaultAuth; here: the example names the real port.
    EXPECT_NE(server_->stdoutText().find(":" + std::to_string(server_->port()) + "/upgrade/kyma"), std::string::npos);
}

// ---------------------------------------------------------------- other server setups

TEST(ServerSetup, RetryFailedOperationsWithMemoryStoreAndNoAuth) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "none", "--demo-fleet", "12", "--demo-upgrade-duration", "50ms",
                         "--demo-failure-rate", "1"},
                        dir.path.string()))
        << s.stderrText();
    EXPECT_NE(s.stderrText().find("WARNING"), std::string::npos) << "--auth none must warn loudly";
    Api a(s.port());
    auto r = a.post("/upgrade/kyma", kymaBody(12));
    ASSERT_EQ(r.status, 202);
    std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "failed"; }, 10000));
    auto failed = a.get("/orchestrations/" + id + "/operations?state=failed");
    const int nFailed = failed.json["totalCount"];
    ASSERT_GT(nFailed, 1);
    std::string first = failed.json["data"][0]["operationID"];
    // Retry one named operation plus an unknown one (form body, KEB's format).
    auto rr = a.post("/orchestrations/" + id + "/retry", "operation-id=" + first + "&operation-id=does-not-exist&immediate=true",
                     "application/x-www-form-urlencoded");
    ASSERT_EQ(rr.status, 202) << rr.body;
    EXPECT_EQ(rr.json["orchestrationID"], id);
    EXPECT_EQ(rr.json["oldOperations"], Json::array()) << "no newer orchestration holds the runtime (SPEC 4)";
    EXPECT_EQ(rr.json["invalidOperations"], Json::array({"does-not-exist"}));
    EXPECT_EQ(rr.json["retryShoots"].size(), 1u);
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "failed"; }, 10000));
    auto all = a.get("/orchestrations/" + id + "/operations");
    EXPECT_EQ(all.json["totalCount"], nFailed + 1) << "the retry added one operation; the old one stays";
    // Retry all failed operations (JSON body).
    auto ra = a.post("/orchestrations/" + id + "/retry", R"({"immediate":true})");
    ASSERT_EQ(ra.status, 202) << ra.body;
    EXPECT_EQ(ra.json["oldOperations"], Json::array());
    EXPECT_GE(ra.json["retryShoots"].size(), static_cast<std::size_t>(nFailed - 1));
    EXPECT_EQ(a.post("/orchestrations/" + id + "/retry", "{\"operationIDs\":5}").status, 400);
    // The same rules on the memory store, where reads run on the engine thread: unknown query
    // parameters and a misspelt form field are 400; KEB's form in the query works.
    EXPECT_EQ(a.get("/orchestrations/" + id + "?preview=true").status, 400);
    EXPECT_EQ(a.post("/upgrade/kyma?previews=true", kymaBody(12)).status, 400);
    EXPECT_EQ(a.post("/upgrade/kyma?preview=true", kymaBody(12)).status, 200);  // SPEC 12: stores nothing
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "failed"; }, 10000));
    const int before = a.get("/orchestrations/" + id + "/operations").json["totalCount"];
    EXPECT_EQ(a.post("/orchestrations/" + id + "/retry", "operation_id=" + first + "&immediate=true",
                     "application/x-www-form-urlencoded")
                  .status,
              400);
    EXPECT_EQ(a.get("/orchestrations/" + id + "/operations").json["totalCount"], before);
    auto rq = a.post("/orchestrations/" + id + "/retry?operation-id=" + first + "&immediate=true", "",
                     "application/x-www-form-urlencoded");
    ASSERT_EQ(rq.status, 202) << rq.body;
    EXPECT_EQ(rq.json["orchestrationID"], id);
    EXPECT_EQ(a.get("/orchestrations").json["totalCount"], 1) << "a preview started a rollout";
    s.kill(SIGTERM);
    EXPECT_TRUE(WIFEXITED(s.exitStatus()) && WEXITSTATUS(s.exitStatus()) == 0) << "graceful shutdown on SIGTERM";
}

// The GET fast paths (pages rendered from SQLite rows, cached answers written from a shared
// buffer) must answer the same bytes and headers as a server computing every answer: the same
// store served with the response cache off, then on (a miss, then hits), over one keep-alive
// connection for more requests than httplib's default per-connection limit.
TEST(ServerSetup, CachedAndComputedAnswersAreTheSameBytes) {
    TempDir dir;
    const std::string store = "sqlite:" + (dir / "keb.db");
    const std::vector<std::string> common = {"--store", store, "--auth", std::string("hs256:") + kSecret,
                                             "--demo-fleet", "25", "--demo-upgrade-duration", "50ms"};
    const std::string tok = token(kSecret, kRW);
    std::vector<std::string> targets;
    std::map<std::string, std::pair<std::string, std::string>> computed;  // target -> (body, content type)
    {
        ServerProcess s;
        auto args = common;
        args.insert(args.end(), {"--response-cache", "off"});
        ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
        Api a(s.port(), tok);
        auto r = a.post("/upgrade/kyma", kymaBody(5));
        ASSERT_EQ(r.status, 202);
        const std::string id = r.json["orchestrationID"];
        ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "succeeded"; }, 15000));
        targets = {"/orchestrations/" + id, "/orchestrations/" + id + "/operations",
                   "/orchestrations/" + id + "/operations?page_size=7&page=2",
                   "/orchestrations/" + id + "/operations?state=succeeded&page_size=3",
                   "/orchestrations/" + id + "/operations?page=99", "/orchestrations",
                   "/orchestrations/nope/operations", "/orchestrations/" + id + "/operations?page=0"};
        {
            httplib::Client c("127.0.0.1", s.port());
            c.set_keep_alive(true);
            for (const auto& t : targets) {
                auto g = c.Get(t.c_str(), {{"Authorization", "Bearer " + tok}});
                ASSERT_TRUE(g) << t;
                computed[t] = {g->body, g->get_header_value("Content-Type")};
            }
        }  // closes the keep-alive connection (a graceful stop waits for open ones)
        s.kill(SIGTERM);
    }
    ServerProcess s;
    auto args = common;
    args.insert(args.end(), {"--response-cache", "on", "--keep-alive-requests", "1000"});
    ASSERT_TRUE(s.start(args, dir.path.string())) << s.stderrText();
    auto c = std::make_unique<httplib::Client>("127.0.0.1", s.port());
    c->set_keep_alive(true);
    for (int round = 0; round < 4; ++round) {  // round 0 fills the cache, then hits
        for (const auto& t : targets) {
            auto g = c->Get(t.c_str(), {{"Authorization", "Bearer " + tok}});
            ASSERT_TRUE(g) << t;
            EXPECT_EQ(g->body, computed[t].first) << t << " (round " << round << ")";
            EXPECT_EQ(g->get_header_value("Content-Type"), computed[t].second) << t;
            EXPECT_EQ(g->get_header_value("Content-Length"), std::to_string(g->body.size())) << t;
        }
    }
    // A token without the read scope never gets a cached answer.
    auto w = c->Get(targets[1].c_str(), {{"Authorization", "Bearer " + token(kSecret, "broker-upgrade:write")}});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->status, 403);
    c.reset();
    // The access log reports the size of cached answers too.
    s.kill(SIGTERM);
    const std::string log = s.stderrText();
    EXPECT_NE(log.find("\"bytes\":" + std::to_string(computed[targets[1]].first.size())), std::string::npos);
}

// Access lines are buffered per HTTP thread and written by a background thread: every request
// from many concurrent connections gets exactly one whole line, none is lost at a graceful stop.
TEST(ServerSetup, AccessLogHasOneWholeLinePerRequestFromManyConnections) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", std::string("hs256:") + kSecret},
                        dir.path.string()))
        << s.stderrText();
    const std::string tok = token(kSecret, kRW);
    constexpr int kThreads = 8, kPerThread = 150;
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int t = 0; t < kThreads; ++t) {
        clients.emplace_back([&, t] {
            httplib::Client c("127.0.0.1", s.port());
            c.set_keep_alive(true);
            for (int i = 0; i < kPerThread; ++i) {
                const std::string path = "/orchestrations/t" + std::to_string(t) + "-" + std::to_string(i);
                auto r = c.Get(path.c_str(), {{"Authorization", "Bearer " + tok}});
                if (r && r->status == 404) ++ok;
            }
        });
    }
    for (auto& c : clients) c.join();
    ASSERT_EQ(ok.load(), kThreads * kPerThread);
    s.kill(SIGTERM);
    std::stringstream ss(s.stderrText());
    std::string line;
    std::set<std::string> paths;
    int requests = 0;
    while (std::getline(ss, line)) {
        if (line.empty()) continue;
        Json j = Json::parse(line, nullptr, false);
        ASSERT_TRUE(j.is_object()) << "not a whole JSON line: " << line;
        if (j["event"] != "http.request") continue;
        ++requests;
        EXPECT_EQ(j["status"], 404) << line;
        paths.insert(j["path"].get<std::string>());
    }
    EXPECT_EQ(requests, kThreads * kPerThread);
    EXPECT_EQ(paths.size(), static_cast<std::size_t>(kThreads * kPerThread)) << "each request logged once";
}

TEST(ServerSetup, Rs256TokensFromAJwksFile) {
    TempDir dir;
    int st = 0;
    run("openssl genrsa -out " + (dir / "key.pem") + " 2048 2>/dev/null", &st);
    ASSERT_EQ(st, 0);
    run("openssl genrsa -out " + (dir / "other.pem") + " 2048 2>/dev/null");
    // JWKS made with openssl: n from the modulus (hex), e = 65537 (AQAB).
    std::string hex = run("openssl rsa -in " + (dir / "key.pem") + " -noout -modulus 2>/dev/null | cut -d= -f2");
    ASSERT_FALSE(hex.empty());
    std::string n = run("printf '%s' '" + hex + "' | xxd -r -p | base64 -w0 | tr '+/' '-_' | tr -d '='");
    Json jwks = {{"keys", Json::array({{{"kty", "RSA"}, {"kid", "k1"}, {"use", "sig"}, {"alg", "RS256"}, {"n", n}, {"e", "AQAB"}}})}};
    std::ofstream(dir / "jwks.json") << jwks.dump();
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "jwks:" + (dir / "jwks.json")}, dir.path.string())) << s.stderrText();
    auto tok = [&](const std::string& key, const std::string& kid, const std::string& scope) {
        return run(std::string(KEB_SERVER_BIN) + " token --rsa-key " + (dir / key) + " --kid '" + kid + "' --scope '" + scope + "'");
    };
    EXPECT_EQ(Api(s.port(), tok("key.pem", "k1", kRW)).get("/orchestrations").status, 200);
    EXPECT_EQ(Api(s.port(), tok("key.pem", "", kRW)).get("/orchestrations").status, 200) << "no kid: try every key";
    EXPECT_EQ(Api(s.port(), tok("key.pem", "k2", kRW)).get("/orchestrations").status, 401) << "unknown kid";
    EXPECT_EQ(Api(s.port(), tok("other.pem", "k1", kRW)).get("/orchestrations").status, 401) << "wrong key";
    EXPECT_EQ(Api(s.port(), tok("key.pem", "k1", "broker-upgrade:write")).get("/orchestrations").status, 403);
    EXPECT_EQ(Api(s.port(), token("any-hs256-secret", kRW)).get("/orchestrations").status, 401) << "HS256 refused";
    // A bad JWKS file is a clear startup error.
    std::ofstream(dir / "bad.json") << "{\"keys\": 3}";
    ServerProcess bad;
    EXPECT_FALSE(bad.start({"--store", "memory", "--auth", "jwks:" + (dir / "bad.json")}, dir.path.string()));
    EXPECT_NE(bad.stderrText().find("keys"), std::string::npos) << bad.stderrText();
}

TEST(ServerSetup, DefaultAuthPrintsAWorkingTokenAndKeepsTheSecret) {
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--demo-fleet", "5"}, dir.path.string())) << s.stderrText();
    std::string out = s.stdoutText();
    auto pos = out.find("export TOKEN=");
    ASSERT_NE(pos, std::string::npos) << out;
    std::string tok = out.substr(pos + 13, out.find('\n', pos) - pos - 13);
    EXPECT_EQ(Api(s.port(), tok).get("/orchestrations").status, 200);
    EXPECT_EQ(Api(s.port()).get("/orchestrations").status, 401);
    EXPECT_NE(out.find("curl"), std::string::npos);
    s.kill(SIGTERM);
    ServerProcess again;
    ASSERT_TRUE(again.start({"--store", "sqlite:" + (dir / "keb.db")}, dir.path.string()));
    EXPECT_EQ(Api(again.port(), tok).get("/orchestrations").status, 200) << "the secret survives a restart";
}

TEST(ServerSetup, TlsWithASelfSignedCertificate) {
    TempDir dir;
    int st = 0;
    run("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + (dir / "tls.key") + " -out " + (dir / "tls.crt") +
            " -days 1 -subj /CN=127.0.0.1 2>/dev/null",
        &st);
    ASSERT_EQ(st, 0);
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "none", "--tls-cert", dir / "tls.crt", "--tls-key", dir / "tls.key"},
                        dir.path.string()))
        << s.stderrText();
    httplib::SSLClient c("127.0.0.1", s.port());
    c.enable_server_certificate_verification(false);
    auto r = c.Get("/healthz");
    ASSERT_TRUE(r) << "TLS handshake failed";
    EXPECT_EQ(r->status, 200);
    httplib::Client plain("127.0.0.1", s.port());
    plain.set_read_timeout(2, 0);
    auto p = plain.Get("/healthz");
    EXPECT_TRUE(!p || p->status != 200) << "plain HTTP must not work on the TLS port";
}

TEST(ServerSetup, BadFlagsFailClearly) {
    TempDir dir;
    struct Case {
        std::vector<std::string> args;
        std::string says;
    } cases[] = {{{"--store", "postgres:x"}, "--store"},
                 {{"--auth", "magic"}, "--auth"},
                 {{"--auth", "hs256:short"}, "secret"},
                 {{"--demo-upgrade-duration", "soon"}, "duration"},
                 {{"--bogus"}, "unknown flag"},
                 {{"--tls-cert", "x"}, "--tls-key"},
                 {{"--store", "sqlite:/nonexistent-dir/x/keb.db"}, "keb.db"},
                 {{"--store", "memory", "--web-root", "/nonexistent-web-root"}, "--web-root"},
                 {{"--store", "memory", "--demo-fleet", "-3"}, "--demo-fleet"},
                 {{"--store", "memory", "--listen", "nonsense"}, "--listen"}};
    for (const auto& c : cases) {
        ServerProcess s;
        EXPECT_FALSE(s.start(c.args, dir.path.string())) << c.args[0];
        EXPECT_TRUE(WIFEXITED(s.exitStatus()) && WEXITSTATUS(s.exitStatus()) == 2) << c.args[0];
        EXPECT_NE(s.stderrText().find(c.says), std::string::npos) << s.stderrText();
    }
    int st = 0;
    std::string help = run(std::string(KEB_SERVER_BIN) + " --help", &st);
    EXPECT_EQ(st, 0);
    EXPECT_NE(help.find("--demo-fleet"), std::string::npos);
}

TEST(ServerSetup, SlowUpgradeStepsDoNotBlockRequests) {
    // Every backend call blocks 3 s (a slow network); GETs and new POSTs must still answer at once.
    TempDir dir;
    ServerProcess s;
    // (Sanitizer builds: latency and bound both x kTimeScale, the bound stays half the latency.)
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none", "--demo-fleet", "10",
                         "--demo-step-latency", std::to_string(3 * keb::test::kTimeScale) + "s", "--workers", "4",
                         "--access-log", "off"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    auto r = a.post("/upgrade/kyma", kymaBody(4));
    ASSERT_EQ(r.status, 202);
    std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return a.get("/metrics").body.find("keb_engine_actions_out 4") != std::string::npos; }, 3000))
        << "4 steps should be blocked in the backend now";
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(a.get("/orchestrations/" + id).status, 200);
        EXPECT_EQ(a.get("/orchestrations/" + id + "/operations?page_size=5").status, 200);
    }
    EXPECT_EQ(a.post("/upgrade/kyma", kymaBody(1)).status, 202);
    EXPECT_EQ(a.put("/orchestrations/" + id + "/cancel").status, 200);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_LT(ms, 1500 * keb::test::kTimeScale) << "42 requests took " << ms << " ms while upgrade steps were blocked";
    s.kill(SIGKILL);
}

TEST(ServerSetup, CachedTokenStillExpires) {
    // Verified tokens are cached; their exp must still be enforced on every request.
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "hs256:expiry-secret-1", "--auth-leeway", "0s"}, dir.path.string()))
        << s.stderrText();
    const int ttl = keb::test::kTimeScale;  // seconds (1 s; longer in sanitizer builds)
    Api a(s.port(), token("expiry-secret-1", "broker-upgrade:read", "--ttl " + std::to_string(ttl) + "s"));
    EXPECT_EQ(a.get("/orchestrations").status, 200);
    EXPECT_EQ(a.get("/orchestrations").status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(ttl * 1000 + 1200));
    auto r = a.get("/orchestrations");
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
}

#ifdef KEB_FAKE_GARDENER_BIN
TEST(ServerSetup, GardenerModeAgainstTheFakeGardener) {
    // keb-server --kubeconfig against keb-fake-gardener (the Kubernetes wire API over HTTP):
    // an upgradeCluster rollout patches every Shoot.
    TempDir dir;
    ServerProcess garden;
    ASSERT_TRUE(garden.start({"--shoots", "20", "--seed", "3", "--token", "garden-token", "--speed", "600",
                              "--upgrade-duration", "10m", "--kubernetes-versions", "1.29.5:1", "--deleting-share", "0",
                              "--write-kubeconfig", dir / "kubeconfig"},
                             dir.path.string(), 15000 * keb::test::kTimeScale, KEB_FAKE_GARDENER_BIN))
        << garden.stderrText();
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none", "--kubeconfig", dir / "kubeconfig",
                         "--gardener-project", "keb", "--poll-interval", "300ms"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    auto r = a.post("/upgrade/cluster", R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":10}},
        "kubernetes":{"kubernetesVersion":"1.30.2","machineImage":"gardenlinux","machineImageVersion":"1443.3"}})");
    ASSERT_EQ(r.status, 202) << r.body;
    std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "succeeded"; }, 30000, 100))
        << a.get("/orchestrations/" + id).body;
    EXPECT_EQ(a.get("/orchestrations/" + id).json["operationStats"]["succeeded"], 20);
    // Every Shoot on the (fake) Gardener now runs 1.30.2.
    httplib::Client g("127.0.0.1", garden.port());
    auto shoots = g.Get("/apis/core.gardener.cloud/v1beta1/namespaces/garden-keb/shoots",
                        {{"Authorization", "Bearer garden-token"}});
    ASSERT_TRUE(shoots);
    ASSERT_EQ(shoots->status, 200) << shoots->body.substr(0, 300);
    Json list = Json::parse(shoots->body);
    ASSERT_EQ(list["items"].size(), 20u);
    for (const auto& shoot : list["items"]) EXPECT_EQ(shoot["spec"]["kubernetes"]["version"], "1.30.2");
    // A kubeconfig that does not work is a clear startup error.
    std::ofstream(dir / "bad-kubeconfig") << "apiVersion: v1\nkind: Config\nclusters: []\n";
    ServerProcess bad;
    EXPECT_FALSE(bad.start({"--store", "memory", "--kubeconfig", dir / "bad-kubeconfig", "--gardener-project", "keb"},
                           dir.path.string()));
    EXPECT_NE(bad.stderrText().find("Gardener"), std::string::npos) << bad.stderrText();
}
#endif

TEST(ServerSetup, DemoPollIntervalFollowsTheUpgradeDuration) {
    // The issue's example: 40 demo runtimes, 5 workers, 1 s upgrades finish in about 10 s
    // (8 rounds of 5). With KEB's 1 m poll interval it would take minutes.
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none", "--demo-fleet", "40",
                         "--demo-upgrade-duration", "1s", "--access-log", "off", "--engine-log", "off"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    auto t0 = std::chrono::steady_clock::now();
    auto r = a.post("/upgrade/kyma", kymaBody(5));
    ASSERT_EQ(r.status, 202);
    std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "succeeded"; }, 30000, 100));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int n = a.get("/orchestrations/" + id).json["operationStats"]["succeeded"];
    const int rounds = (n + 4) / 5;
    EXPECT_GE(secs, rounds * 1.0 - 0.5) << "upgrades cannot be faster than 1 s each";
    EXPECT_LE(secs, rounds * 1.0 + 5.0 * keb::test::kTimeScale) << n << " runtimes took " << secs << " s";
}

TEST(ServerSetup, DemoFailureRateIsHonoured) {
    // Each demo upgrade's fate comes from keb_world's fault model: at 0.5 some upgrades of the
    // fleet fail and some succeed (a build without the simulator once ignored the flag).
    TempDir dir;
    ServerProcess s;
    ASSERT_TRUE(s.start({"--store", "memory", "--auth", "none", "--demo-fleet", "60", "--demo-seed", "3",
                         "--demo-upgrade-duration", "20ms", "--demo-failure-rate", "0.5", "--access-log", "off",
                         "--engine-log", "off"},
                        dir.path.string()))
        << s.stderrText();
    Api a(s.port());
    auto r = a.post("/upgrade/kyma", kymaBody(30));
    ASSERT_EQ(r.status, 202) << r.body;
    std::string id = r.json["orchestrationID"];
    ASSERT_TRUE(eventually([&] { return a.get("/orchestrations/" + id).json["state"] == "failed"; }, 20000));
    const Json stats = a.get("/orchestrations/" + id).json["operationStats"];
    const int failed = stats.value("failed", 0), succeeded = stats.value("succeeded", 0);
    EXPECT_GE(failed, 10) << stats.dump();  // ~30 of 60 expected; 10 is 5 standard deviations off
    EXPECT_GE(succeeded, 10) << stats.dump();
    EXPECT_EQ(a.get("/orchestrations/" + id + "/operations?state=failed").json["totalCount"], failed);
}

TEST(ServerSetup, SecondServerOnTheSameStoreIsRefused) {
    TempDir dir;
    ServerProcess first, second;
    ASSERT_TRUE(first.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none"}, dir.path.string()));
    EXPECT_FALSE(second.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none"}, dir.path.string()));
    EXPECT_NE(second.stderrText().find("another keb-server"), std::string::npos) << second.stderrText();
    first.kill(SIGKILL);  // the lock dies with the process
    ServerProcess third;
    EXPECT_TRUE(third.start({"--store", "sqlite:" + (dir / "keb.db"), "--auth", "none"}, dir.path.string()))
        << third.stderrText();
}

TEST(OpenApiChecker, CatchesWrongBodies) {
    // The checker used on every answer above must itself detect mismatches.
    Json doc = Json::parse(readText(KEB_OPENAPI_FILE));
    EXPECT_TRUE(checkAgainstOpenApi(doc, "GET", "/orchestrations/x", 200, "application/json",
                                    R"({"orchestrationID":"x","type":"upgradeKyma","state":"pending","description":"",
                                        "createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00.5Z",
                                        "parameters":{"targets":{"include":[],"exclude":[]},"dryRun":false,
                                          "strategy":{"type":"parallel","schedule":"immediate","maintenanceWindow":false,
                                                      "parallel":{"workers":1}}},
                                        "operationStats":{"pending":0,"in progress":0,"succeeded":0,"failed":0,"canceled":0}})")
                    .empty());
    EXPECT_FALSE(checkAgainstOpenApi(doc, "GET", "/orchestrations/x", 200, "application/json",
                                     R"({"orchestrationID":"x","type":"upgradeKyma","state":"pending"})")
                     .empty()) << "missing required properties";
    EXPECT_FALSE(checkAgainstOpenApi(doc, "GET", "/orchestrations", 200, "application/json",
                                     R"({"data":[{"orchestrationID":5}],"count":1,"totalCount":1})")
                     .empty()) << "wrong type inside an array item";
    EXPECT_TRUE(checkAgainstOpenApi(doc, "GET", "/orchestrations/x/operations", 200, "application/json",
                                    R"({"data":[],"count":0,"totalCount":0,"x":1})")
                    .empty()) << "extra properties are allowed";
    EXPECT_FALSE(checkAgainstOpenApi(doc, "PUT", "/orchestrations/x/cancel", 418, "application/json", "{}").empty())
        << "undocumented status";
    EXPECT_FALSE(checkAgainstOpenApi(doc, "POST", "/upgrade/kyma", 400, "application/json", R"({"message":"x"})").empty())
        << "error body without error";
}

TEST(OpenApiChecker, KnowsTheProgressiveRolloutShapes) {
    // SPEC 10: paused, stages (nullable numbers and times), budgets, stage on operations, the
    // pause/resume answers. Each wrong variant must be caught.
    Json doc = Json::parse(readText(KEB_OPENAPI_FILE));
    const Json stats = {{"pending", 0}, {"in progress", 1}, {"succeeded", 2}, {"failed", 1}, {"canceled", 0}};
    const Json good = {
        {"orchestrationID", "x"}, {"type", "upgradeKyma"}, {"state", "paused"}, {"description", "paused by operator"},
        {"createdAt", "2026-01-01T00:00:00Z"}, {"updatedAt", "2026-01-01T00:00:01Z"},
        {"parameters",
         {{"targets", {{"include", Json::array({{{"target", "all"}}})}, {"exclude", Json::array()}}},
          {"strategy",
           {{"type", "parallel"}, {"schedule", "immediate"}, {"maintenanceWindow", false}, {"parallel", {{"workers", 2}}},
            {"stages", Json::array({{{"name", "canary"}, {"workers", 1}, {"soak", "1h"}, {"maxFailures", "5%"}},
                                    {{"name", "rest"}, {"workers", 2}, {"soak", "0s"}}})},
            {"maxFailures", 3},
            {"blackouts", Json::array({{{"from", "2030-01-01T00:00:00Z"}, {"to", "2030-01-02T00:00:00Z"}, {"reason", ""}}})}}},
          {"dryRun", false}}},
        {"operationStats", stats},
        {"stages", Json::array({{{"name", "canary"}, {"state", "soaking"}, {"operationStats", stats}, {"failures", 1},
                                 {"maxFailures", 0}, {"startedAt", "2026-01-01T00:00:00.250Z"},
                                 {"finishedAt", "2026-01-01T00:10:00Z"}, {"soakUntil", "2026-01-01T01:10:00Z"}},
                                {{"name", "rest"}, {"state", "pending"}, {"operationStats", stats}, {"failures", 0},
                                 {"maxFailures", nullptr}, {"startedAt", nullptr}, {"finishedAt", nullptr},
                                 {"soakUntil", nullptr}}})}};
    auto check = [&](const Json& body) {
        return checkAgainstOpenApi(doc, "GET", "/orchestrations/x", 200, "application/json", body.dump());
    };
    EXPECT_TRUE(check(good).empty()) << ::testing::PrintToString(check(good));
    auto bad = [&](const char* pointer, const Json& value, const char* why) {
        Json b = good;
        b[Json::json_pointer(pointer)] = value;
        EXPECT_FALSE(check(b).empty()) << why;
    };
    bad("/state", "halted", "unknown orchestration state");
    bad("/stages/0/state", "paused", "paused is not a stage state");
    bad("/stages/0/maxFailures", "0", "a stage budget is a number on the wire");
    bad("/stages/0/startedAt", "yesterday", "not RFC 3339");
    bad("/stages/1/soakUntil", 5, "a time or null");
    bad("/stages/0/failures", nullptr, "failures is never null");
    bad("/parameters/strategy/maxFailures", "150%", "percent above 100");
    bad("/parameters/strategy/stages/0/maxFailures", -1, "negative budget");
    Json missing = good;
    missing["stages"][1].erase("soakUntil");
    EXPECT_FALSE(check(missing).empty()) << "every stage field is required (null when unset)";
    // Operations: stage is an optional string.
    const Json op = {{"operationID", "o"}, {"runtimeID", "r"}, {"globalAccountID", "g"}, {"subAccountID", "s"},
                     {"orchestrationID", "x"}, {"servicePlanID", "p"}, {"servicePlanName", "azure"}, {"dryRun", false},
                     {"shootName", "c"}, {"maintenanceWindowBegin", ""}, {"maintenanceWindowEnd", ""},
                     {"state", "failed"}, {"description", ""}};
    Json staged = op;
    staged["stage"] = "canary";
    for (const Json& item : {op, staged})
        EXPECT_TRUE(checkAgainstOpenApi(doc, "GET", "/orchestrations/x/operations", 200, "application/json",
                                        Json{{"data", Json::array({item})}, {"count", 1}, {"totalCount", 1}}.dump())
                        .empty());
    staged["stage"] = 1;
    EXPECT_FALSE(checkAgainstOpenApi(doc, "GET", "/orchestrations/x/operations/o", 200, "application/json", staged.dump())
                     .empty());
    // Pause and resume: 200 {orchestrationID}, 409 {error}; other codes are undocumented.
    for (const char* verb : {"pause", "resume"}) {
        const std::string path = std::string("/orchestrations/x/") + verb;
        EXPECT_TRUE(checkAgainstOpenApi(doc, "PUT", path, 200, "application/json", R"({"orchestrationID":"x"})").empty());
        EXPECT_TRUE(checkAgainstOpenApi(doc, "PUT", path, 409, "application/json", R"({"error":"not paused"})").empty());
        EXPECT_FALSE(checkAgainstOpenApi(doc, "PUT", path, 202, "application/json", R"({"orchestrationID":"x"})").empty());
    }
}

}  // namespace
