// The endpoints, declared once (SPEC 2): method, path pattern, who serves it (read, write or the
// server shell's own), the token scope it needs, the query parameters and the body it takes.
// The core's ApiRouter, keb-server's dispatch (which requests go to the router, to a read-only
// store connection, to the engine thread, or to /healthz and friends) and the test against
// native-server/server/openapi.json all read this table: adding an endpoint is one row here,
// its handler, and its entry in openapi.json.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keb {

// Token scopes (SPEC 2): write does not imply read.
constexpr const char* kScopeWrite = "broker-upgrade:write";
constexpr const char* kScopeRead = "broker-upgrade:read";

enum class RouteId : std::uint8_t {
    UpgradeKyma,
    UpgradeCluster,
    ListOrchestrations,
    GetOrchestration,
    ListOperations,
    GetOperation,
    CancelOrchestration,
    RetryOrchestration,
    PauseOrchestration,   // SPEC 10
    ResumeOrchestration,  // SPEC 10
    ListRuntimes,         // SPEC 12
    Healthz,
    Metrics,
    OpenApi,
};

enum class Access : std::uint8_t {
    Read,    // query API over a store reader: any replica can answer
    Write,   // command API over the engine: only the replica that runs the engine
    Public,  // the server shell's own (no token, not routed by ApiRouter)
    Fleet,   // reads the fleet (and the store): answered where the fleet source lives (the engine's
             // thread in keb-server); a router without a fleet answers 503
};

enum class RouteBody : std::uint8_t {
    None,        // any body is ignored
    Json,        // application/json (415 otherwise, where the shell asks for it)
    FormOrJson,  // application/x-www-form-urlencoded (KEB's kcp) or a JSON object
};

struct Route {
    RouteId id;
    std::string_view method;   // "GET", "POST", "PUT"
    std::string_view pattern;  // "/orchestrations/{id}/operations/{opID}": {name} is one path segment
    Access access;
    const char* scope;                        // token scope the route needs; nullptr for Public
    std::span<const std::string_view> query;  // accepted query parameter names; any other is 400
    RouteBody body;
};

// Every route, API and shell, in a fixed order.
std::span<const Route> routes();

// The result of matching a request line against the table. Path segments are split on '/'
// (empty segments ignored, so "/upgrade/kyma/" is "/upgrade/kyma").
struct RouteMatch {
    static constexpr std::size_t kMaxParams = 2;
    const Route* route = nullptr;  // the route of this method and path, or nullptr
    bool pathKnown = false;        // some route has this path (with another method when route is null: 405)
    std::string_view params[kMaxParams];  // the {...} segments in pattern order (views into the path)
};
RouteMatch matchRoute(std::string_view method, std::string_view path);

// The methods the routes of this path accept, e.g. "PUT" (for 405 answers); "" when none.
std::string allowedMethods(std::string_view path);

// True when the path's first segment is one of an API route's (e.g. "/orchestrations/a/b/c/d"):
// such a path is answered by the router (a JSON 404 at worst), never by static files.
bool isApiPath(std::string_view path);

// "" when the route accepts every parameter name in the query, else the message of the 400
// answer, naming the first unknown parameter and what the route accepts.
std::string unknownQueryParameter(const Route& route, const std::vector<std::pair<std::string, std::string>>& query);

// "GET /orchestrations/{id}" (logs and messages).
std::string describe(const Route& route);

}  // namespace keb
