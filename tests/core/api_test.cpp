#include <gtest/gtest.h>

#include "harness.h"

using namespace keb;
using namespace keb::testing;

namespace {
const char* kAll = R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":5}}})";
}

TEST(Api, CreateReturns202AndOrchestrationIsReadable) {
    Harness h;
    h.addRuntimes(3);
    auto r = h.call("POST", "/upgrade/cluster",
                    R"({"targets":{"include":[{"target":"all"}]},"kubernetes":{"kubernetesVersion":"1.30.1"}})");
    ASSERT_EQ(r.status, 202) << r.body.dump();
    std::string id = r.body["orchestrationID"];
    auto one = h.call("GET", "/orchestrations/" + id);
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(one.body["type"], "upgradeCluster");
    EXPECT_EQ(one.body["state"], "pending");
    EXPECT_EQ(one.body["description"], "queued for processing");
    EXPECT_EQ(one.body["createdAt"], "2026-11-23T10:00:00Z");
    EXPECT_EQ(one.body["parameters"]["kubernetes"]["kubernetesVersion"], "1.30.1");
    for (const char* s : {"pending", "in progress", "succeeded", "failed", "canceled"})
        EXPECT_EQ(one.body["operationStats"][s], 0) << s;
    h.runToEnd();
    one = h.call("GET", "/orchestrations/" + id);
    EXPECT_EQ(one.body["state"], "succeeded");
    EXPECT_EQ(one.body["operationStats"]["succeeded"], 3);
    auto ops = h.call("GET", "/orchestrations/" + id + "/operations");
    ASSERT_EQ(ops.status, 200);
    EXPECT_EQ(ops.body["count"], 3);
    EXPECT_EQ(ops.body["totalCount"], 3);
    const Json& first = ops.body["data"][0];
    for (const char* f : {"operationID", "runtimeID", "globalAccountID", "subAccountID", "orchestrationID",
                          "servicePlanID", "servicePlanName", "dryRun", "shootName", "maintenanceWindowBegin",
                          "maintenanceWindowEnd", "state", "description"})
        EXPECT_TRUE(first.contains(f)) << f;
    EXPECT_FALSE(first.contains("clusterConfig"));
    auto detail = h.call("GET", "/orchestrations/" + id + "/operations/" + first["operationID"].get<std::string>());
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(detail.body["clusterConfig"]["kubernetesVersion"], "1.30.1");
    EXPECT_EQ(detail.body["runtimeID"], first["runtimeID"]);
}

TEST(Api, InvalidBodiesAre400WithFieldNames) {
    Harness h;
    struct Case {
        const char* body;
        const char* field;
    } cases[] = {
        {"", "body"},
        {"[1,2]", "body"},
        {R"({"targets":{"include":[]}})", "targets.include"},
        {R"({"targets":{}})", "targets.include"},
        {R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":0}}})", "workers"},
        {R"({"targets":{"include":[{"target":"all"}]},"strategy":{"parallel":{"workers":-2}}})", "workers"},
        {R"({"targets":{"include":[{"target":"all"}]},"strategy":{"type":"rolling"}})", "strategy.type"},
        {R"({"targets":{"include":[{"target":"all"}]},"strategy":{"schedule":"someday"}})", "strategy.schedule"},
        {R"({"targets":{"include":[{"region":"(eu"}]}})", "region"},
        {R"({"targets":{"include":[{"target":"all"}]},"dryRun":"yes"})", "dryRun"},
        {R"({"targets":{"include":[{"target":"all"}]},"kyma":{"version":3}})", "kyma.version"},
        {R"({"targets":{"include":[{"target":"all"})", "JSON"},
    };
    for (const auto& c : cases) {
        auto r = h.call("POST", "/upgrade/kyma", c.body);
        EXPECT_EQ(r.status, 400) << c.body;
        ASSERT_TRUE(r.body.contains("error")) << c.body;
        EXPECT_NE(r.body["error"].get<std::string>().find(c.field), std::string::npos)
            << c.body << " -> " << r.body["error"];
    }
    // KEB crashed on a missing kyma object: here it is accepted (default version).
    EXPECT_EQ(h.call("POST", "/upgrade/kyma", R"({"targets":{"include":[{"target":"all"}]}})").status, 202);
}

// Issue 17 part 2 through the router: a typo at any level of either upgrade request is a 400
// naming its path and starts nothing (with unknown fields ignored, the runtimeId typo dropped
// the only filter and upgraded the whole fleet); bodies as kcp marshals them are 202 and
// select what they say.
TEST(Api, TypoInABodyIsRejectedAndStartsNothing) {
    Harness h;
    h.addRuntimes(6);
    const std::string all = R"("targets":{"include":[{"target":"all"}]})";
    struct Case {
        std::string body;
        std::string path;  // the error starts with it
    } cases[] = {
        {"{" + all + R"(,"dryrun":true})", "dryrun: unknown field"},
        {R"({"targets":{"include":[{"target":"all"}],"exlude":[{"runtimeID":"rt-1"}]}})", "targets.exlude: unknown field"},
        {R"({"targets":{"include":[{"runtimeId":"rt-1"}]}})", "targets.include[0].runtimeId: unknown field"},
        {R"({"targets":{"include":[{"target":"all"}],"exclude":[{"runtimeid":"rt-1"}]}})",
         "targets.exclude[0].runtimeid: unknown field"},
        {"{" + all + R"(,"strategy":{"Schedule":"2030-01-01T00:00:00Z"}})", "strategy.Schedule: unknown field"},
        {"{" + all + R"(,"strategy":{"parallel":{"Workers":2}}})", "strategy.parallel.Workers: unknown field"},
        {"{" + all + R"(,"kyma":{"verison":"2.21.0"}})", "kyma.verison: unknown field"},
        {"{" + all + R"(,"kubernetes":{"machineimage":"gardenlinux"}})", "kubernetes.machineimage: unknown field"},
        {R"({"targets":{"include":[{}]}})", "targets.include[0]: empty target"},
        {"{" + all + R"(,"strategy":{"ScheduleTime":"2030-01-01T00:00:00Z"}})", "strategy.ScheduleTime"},
    };
    for (const char* kind : {"kyma", "cluster"}) {
        for (const Case& c : cases) {
            auto r = h.call("POST", std::string("/upgrade/") + kind, c.body);
            EXPECT_EQ(r.status, 400) << kind << " " << c.body;
            ASSERT_TRUE(r.body.contains("error")) << c.body;
            EXPECT_EQ(r.body["error"].get<std::string>().rfind(c.path, 0), 0u) << c.body << " -> " << r.body["error"];
        }
    }
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 0);
    h.runToEnd();
    EXPECT_TRUE(h.backend.upgrades.empty());

    // kcp upgrade kyma --target runtime-id=rt-1 --parallel-workers 1 --version 2.21.0
    auto k = h.call("POST", "/upgrade/kyma",
                    R"({"targets":{"include":[{"runtimeID":"rt-1"}]},"strategy":{"type":"parallel",)"
                    R"("ScheduleTime":"0001-01-01T00:00:00Z","parallel":{"workers":1}},"kyma":{"version":"2.21.0"},)"
                    R"("retryoperation":{}})");
    ASSERT_EQ(k.status, 202) << k.body.dump();
    // kcp upgrade cluster --target region=westeurope --target-exclude runtime-id=rt-3 --parallel-workers 2
    auto c = h.call("POST", "/upgrade/cluster",
                    R"({"targets":{"include":[{"region":"westeurope"}],"exclude":[{"runtimeID":"rt-3"}]},)"
                    R"("strategy":{"type":"parallel","ScheduleTime":"0001-01-01T00:00:00Z","parallel":{"workers":2}},)"
                    R"("retryoperation":{"retryoperations":["op-1"],"immediate":"true"},"notification":true})");
    ASSERT_EQ(c.status, 202) << c.body.dump();
    h.runToEnd();
    EXPECT_EQ(h.backend.upgrades, (std::map<std::string, int>{{"rt-1", 2}, {"rt-5", 1}}));
    auto one = h.call("GET", "/orchestrations/" + k.body["orchestrationID"].get<std::string>());
    EXPECT_EQ(one.body["state"], "succeeded");
    // The ignored KEB fields are not echoed back as if they had an effect.
    EXPECT_FALSE(one.body["parameters"].contains("retryoperation"));
    EXPECT_FALSE(one.body["parameters"]["strategy"].contains("ScheduleTime"));
}

TEST(Api, PagingEdges) {
    Harness h;
    h.addRuntimes(250);
    std::string id = h.submit(kAll);
    h.runFor(kSecond);
    auto page = [&](const std::string& q) { return h.call("GET", "/orchestrations/" + id + "/operations" + q); };
    auto r = page("");
    EXPECT_EQ(r.body["count"], 100);
    EXPECT_EQ(r.body["totalCount"], 250);
    r = page("?page=3");
    EXPECT_EQ(r.body["count"], 50);
    r = page("?page=4");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["count"], 0);
    EXPECT_EQ(r.body["totalCount"], 250);
    EXPECT_TRUE(r.body["data"].empty());
    EXPECT_EQ(page("?page_size=100").body["count"], 100);
    EXPECT_EQ(page("?page_size=1&page=250").body["count"], 1);
    for (const char* bad : {"?page_size=101", "?page_size=0", "?page=0", "?page=-1", "?page=x", "?page=1.5",
                            "?page=1&page=2", "?page_size=5&page_size=5", "?state=bogus", "?page=99999999999"}) {
        auto b = page(bad);
        EXPECT_EQ(b.status, 400) << bad;
        EXPECT_TRUE(b.body.contains("error")) << bad;
    }
    // Pages are disjoint and in creation order.
    std::set<std::string> seen;
    std::int64_t lastSeq = -1;
    for (int p = 1; p <= 3; ++p) {
        ApiResponse resp = page("?page=" + std::to_string(p));
        for (const auto& op : resp.body["data"]) {
            EXPECT_TRUE(seen.insert(op["operationID"].get<std::string>()).second);
            auto full = h.store.getOperation(id, op["operationID"]);
            EXPECT_GT(full->seq, lastSeq);
            lastSeq = full->seq;
        }
    }
    EXPECT_EQ(seen.size(), 250u);
}

TEST(Api, StateFiltersPageToo) {
    Harness h;
    h.addRuntimes(30);
    h.backend.failing = {};
    for (int i = 0; i < 30; i += 2) h.backend.failing.insert("rt-" + std::to_string(i));
    std::string id = h.submit(kAll);
    h.runToEnd();
    auto r = h.call("GET", "/orchestrations/" + id + "/operations?state=failed&page_size=10&page=2");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["count"], 5);  // KEB's failed filter ignored paging: not here
    EXPECT_EQ(r.body["totalCount"], 15);
    for (const auto& op : r.body["data"]) EXPECT_EQ(op["state"], "failed");
    r = h.call("GET", "/orchestrations/" + id + "/operations?state=failed&state=succeeded&page_size=100");
    EXPECT_EQ(r.body["totalCount"], 30);
    r = h.call("GET", "/orchestrations/" + id + "/operations?state=in%20progress");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body["totalCount"], 0);
}

TEST(Api, OrchestrationListOrderAndFilter) {
    Harness h;
    h.addRuntimes(2);
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(h.submit(kAll));
        h.now += kSecond;
    }
    h.call("PUT", "/orchestrations/" + ids[1] + "/cancel");
    auto r = h.call("GET", "/orchestrations?page_size=2&page=1");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body["totalCount"], 5);
    EXPECT_EQ(r.body["data"][0]["orchestrationID"], ids[0]);
    EXPECT_EQ(r.body["data"][1]["orchestrationID"], ids[1]);
    r = h.call("GET", "/orchestrations?state=canceled");
    EXPECT_EQ(r.body["totalCount"], 1);
    EXPECT_EQ(r.body["data"][0]["orchestrationID"], ids[1]);
    EXPECT_EQ(h.call("GET", "/orchestrations?state=in%20progress&state=pending").body["totalCount"], 4);
    EXPECT_EQ(h.call("GET", "/orchestrations?state=retrying").body["totalCount"], 0);
    // An operation state that is not an orchestration state.
    EXPECT_EQ(h.call("GET", "/orchestrations?state=running").status, 400);
}

TEST(Api, NotFoundAndMethodNotAllowed) {
    Harness h;
    EXPECT_EQ(h.call("GET", "/orchestrations/nope").status, 404);
    EXPECT_EQ(h.call("GET", "/orchestrations/nope/operations").status, 404);
    EXPECT_EQ(h.call("GET", "/orchestrations/nope/operations/x").status, 404);
    EXPECT_EQ(h.call("PUT", "/orchestrations/nope/cancel").status, 404);
    EXPECT_EQ(h.call("POST", "/orchestrations/nope/retry").status, 404);
    EXPECT_EQ(h.call("GET", "/nothing/here").status, 404);
    EXPECT_EQ(h.call("GET", "/upgrade/kyma").status, 405);
    EXPECT_EQ(h.call("DELETE", "/orchestrations").status, 405);
    EXPECT_EQ(h.call("POST", "/orchestrations/x/cancel").status, 405);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma/extra").status, 404);
    // The server's own routes (/healthz, /metrics, /openapi.json) are not the router's.
    EXPECT_EQ(h.call("GET", "/healthz").status, 404);
    EXPECT_EQ(h.call("POST", "/metrics").status, 404);
    EXPECT_EQ(h.call("GET", "/openapi.json?x=1").status, 404);
    auto allowed = h.call("GET", "/orchestrations/x/retry");
    EXPECT_EQ(allowed.status, 405);
    EXPECT_EQ(allowed.body["error"], "method GET not allowed on /orchestrations/x/retry (allowed: POST)");
    h.addRuntimes(1);
    std::string id = h.submit(kAll);
    EXPECT_EQ(h.call("GET", "/orchestrations/" + id + "/operations/missing").status, 404);
    auto r = h.call("GET", "/nothing");
    EXPECT_TRUE(r.body["error"].is_string());
}

TEST(Api, ScopesAreCheckedAndWriteDoesNotImplyRead) {
    Harness h;
    h.addRuntimes(1);
    Principal none;
    Principal reader{true, "r", {kScopeRead}};
    Principal writer{true, "w", {kScopeWrite}};
    EXPECT_EQ(h.call("GET", "/orchestrations", "", none).status, 401);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma", kAll, none).status, 401);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma", kAll, reader).status, 403);
    auto created = h.call("POST", "/upgrade/kyma", kAll, writer);
    EXPECT_EQ(created.status, 202);
    EXPECT_EQ(h.call("GET", "/orchestrations", "", writer).status, 403);
    EXPECT_EQ(h.call("GET", "/orchestrations", "", reader).status, 200);
    std::string id = created.body["orchestrationID"];
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel", "", reader).status, 403);
    EXPECT_EQ(h.call("PUT", "/orchestrations/" + id + "/cancel", "", writer).status, 200);
}

TEST(Api, RetryValidation) {
    Harness h;
    h.addRuntimes(2);
    h.backend.failing = {"rt-0"};
    std::string id = h.submit(kAll);
    h.runToEnd();
    EXPECT_EQ(h.call("POST", "/orchestrations/" + id + "/retry", "immediate=maybe").status, 400);
    auto r = h.call("POST", "/orchestrations/" + id + "/retry", R"({"operationIDs":["x"],"immediate":true})");
    EXPECT_EQ(r.status, 202);
    EXPECT_EQ(r.body["invalidOperations"], Json::array({"x"}));
    EXPECT_EQ(r.body["msg"], "no failed operations to retry");
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    r = h.call("POST", "/orchestrations/" + id + "/retry", R"({"operationIDs":"x"})");
    EXPECT_EQ(r.status, 400);
    // A hostile body must not reach the recursive JSON parser.
    r = h.call("POST", "/orchestrations/" + id + "/retry", "{\"a\":" + std::string(200000, '[') + "}");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body["error"], "body is nested too deeply");
}

TEST(Api, QueryStringDecoding) {
    auto q = parseQueryString("a=1&state=in%20progress&state=in+progress&flag&=x&b=%zz");
    ASSERT_EQ(q.size(), 6u);
    EXPECT_EQ(q[1].second, "in progress");
    EXPECT_EQ(q[2].second, "in progress");
    EXPECT_EQ(q[3].first, "flag");
    EXPECT_EQ(q[5].second, "%zz");
}

// ---------------------------------------------------------------- the routes table in the router

namespace {

// The table's pattern with {id} and {opID} filled in.
std::string fillPattern(std::string_view pattern, const std::string& id, const std::string& opID) {
    std::string out(pattern);
    for (auto [name, value] : {std::pair<std::string, std::string>{"{id}", id}, {"{opID}", opID}})
        if (auto at = out.find(name); at != std::string::npos) out.replace(at, name.size(), value);
    return out;
}

// A body each route accepts.
std::string bodyFor(const Route& r) {
    switch (r.body) {
        case RouteBody::Json: return kAll;
        case RouteBody::FormOrJson: return "immediate=true";
        case RouteBody::None: break;
    }
    return "";
}

ApiRequest request(const std::string& method, const std::string& target, const std::string& body,
                   const std::string& contentType, Principal who = Principal::all()) {
    ApiRequest req;
    req.method = method;
    const auto q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = parseQueryString(std::string_view(target).substr(q + 1));
    req.body = body;
    req.contentType = contentType;
    req.principal = std::move(who);
    return req;
}

}  // namespace

// SPEC 3: an unknown query parameter is 400 on every endpoint, naming it, before anything acts
// (`POST /upgrade/kyma?preview=true` on a server without preview must not start a rollout).
TEST(Api, UnknownQueryParametersAre400OnEveryRouteAndChangeNothing) {
    Harness h;
    h.addRuntimes(3);
    h.backend.failing = {"rt-0"};
    const std::string id = h.submit(kAll);
    h.runToEnd();
    ASSERT_EQ(h.orch(id).state, OrchestrationState::Failed);  // retryable: a retry would change it
    const std::string opID = h.ops(id)[0].operationID;
    const auto opsBefore = h.ops(id).size();
    int apiRoutes = 0;
    for (const Route& r : routes()) {
        if (r.access == Access::Public) continue;  // the server's own: tested end to end
        ++apiRoutes;
        const std::string path = fillPattern(r.pattern, id, opID);
        // Alone, after a parameter the route accepts, percent-encoded, and as a bare flag.
        std::vector<std::string> queries = {"?bogus=true", "?%62ogus=1", "?bogus"};
        if (!r.query.empty()) queries.push_back("?" + std::string(r.query[0]) + "=1&bogus=true");
        for (const std::string& q : queries) {
            auto resp = h.call(std::string(r.method), path + q, bodyFor(r));
            EXPECT_EQ(resp.status, 400) << describe(r) << q << " -> " << resp.body.dump();
            ASSERT_TRUE(resp.body["error"].is_string()) << describe(r);
            EXPECT_NE(resp.body["error"].get<std::string>().find("\"bogus\""), std::string::npos)
                << describe(r) << q << " -> " << resp.body["error"];
        }
        // Any other unknown name too.
        EXPECT_EQ(h.call(std::string(r.method), path + "?x=1", bodyFor(r)).status, 400) << describe(r);
    }
    EXPECT_EQ(apiRoutes, 11);  // SPEC 2 (8), SPEC 10 pause, resume, SPEC 12 /runtimes
    // Nothing was created, canceled or retried.
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 1);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);
    EXPECT_EQ(h.ops(id).size(), opsBefore);
}

TEST(Api, AcceptedQueryParametersAreNotUnknown) {
    Harness h;
    h.addRuntimes(2);
    h.backend.failing = {"rt-0"};
    const std::string id = h.submit(kAll);
    h.runToEnd();
    const std::string opID = h.ops(id)[0].operationID;
    const std::map<std::string_view, std::string> valid = {
        {"page", "1"}, {"page_size", "10"}, {"state", "failed"}, {"operation-id", opID}, {"immediate", "true"},
        {"preview", "true"}, {"region", "r"}, {"globalAccountID", "g"}, {"planName", "p"}};
    for (const Route& r : routes()) {
        if (r.access == Access::Public) continue;
        std::string q;
        for (std::string_view name : r.query) {
            ASSERT_TRUE(valid.count(name)) << describe(r) << " takes " << name << ": add a valid value here";
            q += (q.empty() ? "?" : "&") + std::string(name) + "=" + valid.at(name);
        }
        auto resp = h.call(std::string(r.method), fillPattern(r.pattern, id, opID) + q, bodyFor(r));
        EXPECT_GE(resp.status, 200) << describe(r) << q;
        EXPECT_LT(resp.status, 300) << describe(r) << q << " -> " << resp.body.dump();
    }
}

TEST(Api, RoutingAndAuthAnswersComeBeforeTheQueryCheck) {
    Harness h;
    h.addRuntimes(1);
    const std::string id = h.submit(kAll);
    Principal none;
    Principal reader{true, "r", {kScopeRead}};
    EXPECT_EQ(h.call("GET", "/nothing?bogus=1").status, 404);
    EXPECT_EQ(h.call("GET", "/upgrade/kyma?bogus=1").status, 405);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?bogus=true", kAll, none).status, 401);
    EXPECT_EQ(h.call("POST", "/upgrade/kyma?bogus=true", kAll, reader).status, 403);
    // Before the route's own checks: a bad body with an unknown parameter names the parameter.
    auto r = h.call("POST", "/upgrade/kyma?bogus=true", "{}");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body["error"].get<std::string>().find("bogus"), std::string::npos) << r.body;
    // And before a 404 of the item.
    r = h.call("GET", "/orchestrations/nope?bogus=1");
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(h.call("GET", "/orchestrations/" + id + "?x=1").status, 400);
}

// KEB's retry reads r.Form: operation-id/immediate in the query work as in a form body; a
// misspelt form field or JSON key is 400 (it would otherwise retry every failed operation).
TEST(Api, RetryFormInTheQueryAndStrictRetryBodies) {
    Harness h;
    h.addRuntimes(3);
    h.backend.failing = {"rt-0", "rt-1"};
    const std::string id = h.submit(kAll);
    h.runToEnd();
    ASSERT_EQ(h.count(id, OperationState::Failed), 2);
    const auto opsBefore = h.ops(id).size();
    std::string failed;
    for (const auto& op : h.ops(id))
        if (op.state == OperationState::Failed) failed = op.operationID;

    for (const char* form : {"operation_id=x&immediate=true", "operation-id=x&Immediate=true", "immediate=true&preview=1"}) {
        auto r = h.call("POST", "/orchestrations/" + id + "/retry", form);
        EXPECT_EQ(r.status, 400) << form;
        EXPECT_NE(r.body["error"].get<std::string>().find("unknown form field"), std::string::npos) << r.body;
    }
    for (const char* json : {R"({"operationIds":["x"]})", R"({"immediate":true,"preview":true})"}) {
        auto r = h.call("POST", "/orchestrations/" + id + "/retry", json);
        EXPECT_EQ(r.status, 400) << json;
        EXPECT_NE(r.body["error"].get<std::string>().find("unknown field"), std::string::npos) << r.body;
    }
    EXPECT_EQ(h.ops(id).size(), opsBefore) << "a rejected retry retried something";
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Failed);

    // The query form, no body: only the named operation.
    auto r = h.call("POST", "/orchestrations/" + id + "/retry?operation-id=" + failed + "&immediate=true");
    ASSERT_EQ(r.status, 202) << r.body;
    EXPECT_EQ(r.body["retryShoots"].size(), 1u);
    EXPECT_EQ(h.ops(id).size(), opsBefore + 1);
}

// A router without a command API (a follower replica) answers reads and refuses writes.
TEST(Api, RouterWithoutCommandApiServesReadsAndRefusesWrites) {
    Harness h;
    h.addRuntimes(2);
    const std::string id = h.submit(kAll);
    QueryApi queries(h.store);
    ApiRouter readOnly(queries, nullptr);
    const std::string json = "application/json";
    auto list = readOnly.handle(request("GET", "/orchestrations", "", json), h.now);
    EXPECT_EQ(list.status, 200);
    EXPECT_EQ(list.body["totalCount"], 1);
    EXPECT_EQ(readOnly.handle(request("GET", "/orchestrations/" + id, "", json), h.now).status, 200);
    EXPECT_EQ(readOnly.handle(request("POST", "/upgrade/kyma", kAll, json), h.now).status, 503);
    EXPECT_EQ(readOnly.handle(request("PUT", "/orchestrations/" + id + "/cancel", "", json), h.now).status, 503);
    EXPECT_EQ(readOnly.handle(request("POST", "/orchestrations/" + id + "/retry", "immediate=true",
                                      "application/x-www-form-urlencoded"),
                              h.now)
                  .status,
              503);
    // SPEC 12: previews and the fleet are answered where the engine and its fleet are.
    EXPECT_EQ(readOnly.handle(request("POST", "/upgrade/kyma?preview=true", kAll, json), h.now).status, 503);
    EXPECT_EQ(readOnly.handle(request("GET", "/runtimes", "", json), h.now).status, 503);
    EXPECT_EQ(h.call("GET", "/orchestrations").body["totalCount"], 1);
    EXPECT_EQ(h.orch(id).state, OrchestrationState::Pending);
}

TEST(Api, JsonContentTypeIsRequiredOnlyWhenAsked) {
    Harness h;
    h.addRuntimes(1);
    for (const char* ct : {"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx"})
        EXPECT_EQ(h.router->handle(request("POST", "/upgrade/kyma", kAll, ct), h.now).status, 202) << ct;
    h.router->setRequireJsonContentType(true);
    for (const char* ct : {"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx"})
        EXPECT_EQ(h.router->handle(request("POST", "/upgrade/kyma", kAll, ct), h.now).status, 415) << ct;
    for (const char* ct : {"application/json", "Application/JSON; charset=utf-8", "application/json ;x=y"})
        EXPECT_EQ(h.router->handle(request("POST", "/upgrade/cluster", kAll, ct), h.now).status, 202) << ct;
    // Not on the retry route (KEB's form body).
    const std::string id = h.submit(kAll);
    EXPECT_NE(h.router->handle(request("POST", "/orchestrations/" + id + "/retry", "immediate=true",
                                       "application/x-www-form-urlencoded"),
                               h.now)
                  .status,
              415);
    EXPECT_FALSE(isJsonContentType("application/json-patch+json"));
}
