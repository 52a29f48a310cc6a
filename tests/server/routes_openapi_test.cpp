// The routes table (core/include/keb/routes.h) and native-server/server/openapi.json describe the
// same endpoints: every route is documented with its method, scope, path and query parameters,
// body and a 400 answer, and every documented path+method is a route of the table.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "keb/routes.h"
#include "keb/wire.h"

using namespace keb;

namespace {

const Json& doc() {
    static const Json d = [] {
        std::ifstream in(KEB_OPENAPI_FILE);
        std::stringstream ss;
        ss << in.rdbuf();
        return Json::parse(ss.str());
    }();
    return d;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "/orchestrations/{id}/operations/{opID}" -> "/orchestrations/x0/operations/x1"
std::string fill(std::string_view pattern) {
    std::string out;
    int n = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            out += "x" + std::to_string(n++);
            i = pattern.find('}', i);
        } else {
            out += pattern[i];
        }
    }
    return out;
}

std::set<std::string> parameterNames(const Json& pathItem, const Json& op, const std::string& in) {
    std::set<std::string> names;
    for (const Json* list : {&pathItem, &op})
        if (list->contains("parameters"))
            for (const auto& p : (*list)["parameters"])
                if (p.value("in", "") == in) names.insert(p.value("name", ""));
    return names;
}

std::set<std::string> patternParams(std::string_view pattern) {
    std::set<std::string> names;
    for (std::size_t i = pattern.find('{'); i != std::string_view::npos; i = pattern.find('{', i + 1))
        names.insert(std::string(pattern.substr(i + 1, pattern.find('}', i) - i - 1)));
    return names;
}

constexpr const char* kMethods[] = {"get", "put", "post", "delete", "patch", "head", "options"};

}  // namespace

TEST(RoutesOpenApi, EveryRouteIsDocumentedAsDeclared) {
    ASSERT_TRUE(doc().contains("paths"));
    for (const Route& r : routes()) {
        const std::string what = describe(r);
        const std::string pattern(r.pattern);
        ASSERT_TRUE(doc()["paths"].contains(pattern)) << what << ": path missing from openapi.json";
        const Json& item = doc()["paths"][pattern];
        ASSERT_TRUE(item.contains(lower(r.method))) << what << ": method missing from openapi.json";
        const Json& op = item[lower(r.method)];

        // Scope: the bearer scope of the route, or no security at all for the shell's routes.
        const Json expectedSecurity =
            r.access == Access::Public ? Json::array() : Json::array({Json{{"bearer", Json::array({r.scope})}}});
        EXPECT_EQ(op.value("security", Json()), expectedSecurity) << what;

        // Path and query parameters.
        EXPECT_EQ(parameterNames(item, op, "path"), patternParams(r.pattern)) << what;
        std::set<std::string> query;
        for (std::string_view q : r.query) query.insert(std::string(q));
        EXPECT_EQ(parameterNames(item, op, "query"), query) << what << ": documented query parameters";

        // Body.
        std::set<std::string> bodyTypes;
        if (op.contains("requestBody"))
            for (const auto& [ct, v] : op["requestBody"]["content"].items()) bodyTypes.insert(ct);
        switch (r.body) {
            case RouteBody::None: EXPECT_TRUE(bodyTypes.empty()) << what; break;
            case RouteBody::Json: EXPECT_EQ(bodyTypes, std::set<std::string>{"application/json"}) << what; break;
            case RouteBody::FormOrJson:
                EXPECT_EQ(bodyTypes, (std::set<std::string>{"application/json", "application/x-www-form-urlencoded"}))
                    << what;
                break;
        }
        // Every route can answer 400 (an unknown query parameter at least); API routes 401/403 too.
        EXPECT_TRUE(op["responses"].contains("400")) << what;
        if (r.access != Access::Public) {
            EXPECT_TRUE(op["responses"].contains("401")) << what;
            EXPECT_TRUE(op["responses"].contains("403")) << what;
        }
    }
}

TEST(RoutesOpenApi, EveryDocumentedOperationIsARoute) {
    int operations = 0;
    for (const auto& [path, item] : doc()["paths"].items()) {
        for (const char* m : kMethods) {
            if (!item.contains(m)) continue;
            ++operations;
            std::string method = m;
            for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            const RouteMatch match = matchRoute(method, fill(path));
            ASSERT_NE(match.route, nullptr) << method << " " << path << " is documented but not a route";
            EXPECT_EQ(match.route->pattern, path) << method << " " << path;
        }
    }
    EXPECT_EQ(operations, static_cast<int>(routes().size()));
}

TEST(Routes, EachRouteMatchesItselfAndNoOtherShadowsIt) {
    std::set<std::string> seen;
    for (const Route& r : routes()) {
        EXPECT_TRUE(seen.insert(describe(r)).second) << describe(r) << " twice";
        const std::string path = fill(r.pattern);
        const RouteMatch m = matchRoute(r.method, path);
        ASSERT_EQ(m.route, &r) << describe(r);
        EXPECT_TRUE(m.pathKnown);
        EXPECT_EQ(isApiPath(path), r.access != Access::Public) << describe(r);
        // The {...} segments come back in order.
        const auto params = patternParams(r.pattern);
        for (std::size_t i = 0; i < params.size(); ++i) EXPECT_EQ(m.params[i], "x" + std::to_string(i)) << describe(r);
        // Another method on the same path: known path, no route (405), and the allowed list names this method.
        const RouteMatch other = matchRoute("DELETE", path);
        EXPECT_EQ(other.route, nullptr);
        EXPECT_TRUE(other.pathKnown);
        EXPECT_NE(allowedMethods(path).find(std::string(r.method)), std::string::npos) << describe(r);
    }
}

TEST(Routes, MatchingEdges) {
    // Repeated and trailing slashes do not matter (as before the table).
    EXPECT_EQ(matchRoute("POST", "/upgrade/kyma/").route->id, RouteId::UpgradeKyma);
    EXPECT_EQ(matchRoute("GET", "//orchestrations//abc/operations").route->id, RouteId::ListOperations);
    EXPECT_EQ(matchRoute("GET", "//orchestrations//abc/operations").params[0], "abc");
    const RouteMatch op = matchRoute("GET", "/orchestrations/o-1/operations/op-2");
    ASSERT_NE(op.route, nullptr);
    EXPECT_EQ(op.params[0], "o-1");
    EXPECT_EQ(op.params[1], "op-2");
    // Unknown: more segments than any pattern, unknown literal, empty path.
    for (const char* p : {"/orchestrations/a/operations/b/c", "/orchestrations/a/b/c/d/e", "/upgrade/unknown",
                          "/upgrade", "/", "", "/nothing"}) {
        const RouteMatch m = matchRoute("GET", p);
        EXPECT_EQ(m.route, nullptr) << p;
        EXPECT_FALSE(m.pathKnown) << p;
        EXPECT_EQ(allowedMethods(p), "") << p;
    }
    EXPECT_TRUE(isApiPath("/orchestrations/a/b/c/d/e"));  // a JSON 404 from the router, not a static file
    EXPECT_TRUE(isApiPath("/upgrade/unknown"));
    EXPECT_FALSE(isApiPath("/index.html"));
    EXPECT_FALSE(isApiPath("/"));
    // Methods are case-sensitive (RFC 9110).
    EXPECT_EQ(matchRoute("get", "/orchestrations").route, nullptr);
    EXPECT_EQ(allowedMethods("/orchestrations/x/cancel"), "PUT");
}

TEST(Routes, UnknownQueryParameterNamesItAndWhatIsAccepted) {
    const Route& list = *matchRoute("GET", "/orchestrations").route;
    EXPECT_EQ(unknownQueryParameter(list, {{"page", "1"}, {"state", "failed"}, {"state", "pending"}, {"page_size", "5"}}), "");
    EXPECT_EQ(unknownQueryParameter(list, {{"page", "1"}, {"pagesize", "5"}}),
              "unknown query parameter \"pagesize\" (GET /orchestrations accepts page, page_size, state)");
    const Route& kyma = *matchRoute("POST", "/upgrade/kyma").route;
    EXPECT_EQ(unknownQueryParameter(kyma, {}), "");
    EXPECT_EQ(unknownQueryParameter(kyma, {{"preview", "true"}}), "");  // SPEC 12
    EXPECT_EQ(unknownQueryParameter(kyma, {{"dryrun", "true"}}),
              "unknown query parameter \"dryrun\" (POST /upgrade/kyma accepts preview)");
    const Route& health = *matchRoute("GET", "/healthz").route;
    EXPECT_EQ(unknownQueryParameter(health, {{"x", "1"}}), "unknown query parameter \"x\" (GET /healthz accepts none)");
    EXPECT_NE(unknownQueryParameter(kyma, {{"", "x"}}), "");  // "?=x": a nameless parameter is unknown too
    const Route& retry = *matchRoute("POST", "/orchestrations/o/retry").route;
    EXPECT_EQ(unknownQueryParameter(retry, {{"operation-id", "a"}, {"operation-id", "b"}, {"immediate", "true"}}), "");
    EXPECT_NE(unknownQueryParameter(retry, {{"operation_id", "a"}}).find("\"operation_id\""), std::string::npos);
}
