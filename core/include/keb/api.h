// The HTTP-shaped API (SPEC 2): (method, path, query, headers, body) -> (status, JSON).
// The server and the browser simulator both call it; authentication (token
// verification) is the shell's job, scope checks on verified claims are done here.
// Routes come from the table in routes.h; GET routes are answered by a QueryApi (a store
// reader), POST/PUT routes by a CommandApi (the engine).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keb/api_types.h"
#include "keb/command_api.h"
#include "keb/engine.h"
#include "keb/query_api.h"
#include "keb/routes.h"
#include "keb/store.h"
#include "keb/wire.h"

namespace keb {

// "a=1&state=in%20progress&b" -> decoded pairs ('+' is a space).
std::vector<std::pair<std::string, std::string>> parseQueryString(std::string_view raw);
std::string urlDecode(std::string_view s);
// "application/json" with any parameters (e.g. "; charset=utf-8"), case-insensitive.
bool isJsonContentType(std::string_view contentType);

class ApiRouter {
public:
    // Reads through `queries`, writes through `commands`; neither is owned. Without a command API
    // (nullptr: a read-only router, e.g. a follower replica) write routes answer 503.
    ApiRouter(QueryApi& queries, CommandApi* commands) : queries_(queries), commands_(commands) {}
    // One process that both reads its store and runs the engine (simulator, browser, tests).
    ApiRouter(Engine& engine, Store& store);

    // Never throws; unknown routes 404, wrong methods 405, then 401/403, unknown query
    // parameters 400, then the route's own checks; all errors {"error": ...}.
    ApiResponse handle(const ApiRequest& req, Millis now);
    // With a page source, the operations list route (and the one-orchestration route when the
    // source can render it) answers with ApiResponse::text (the page source must read the same
    // data as the store). Not owned; nullptr turns it off. Sets it on the query API.
    void setOperationPageSource(OperationPageSource* source) { queries_.setPageSource(source); }
    // On: a route whose body is JSON (RouteBody::Json) answers 415 unless the Content-Type is
    // application/json (keb-server; the simulator and the browser pass bodies without one).
    void setRequireJsonContentType(bool on) { requireJson_ = on; }

private:
    std::unique_ptr<QueryApi> ownedQueries_;
    std::unique_ptr<CommandApi> ownedCommands_;
    QueryApi& queries_;
    CommandApi* commands_;
    bool requireJson_ = false;
};

}  // namespace keb
