// The HTTP-shaped API (SPEC 2): (method, path, query, headers, body) -> (status, JSON).
// The server and the browser simulator both call it; authentication (token
// verification) is the shell's job, scope checks on verified claims are done here.
#pragma once
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "keb/engine.h"
#include "keb/store.h"
#include "keb/wire.h"

namespace keb {

constexpr const char* kScopeWrite = "broker-upgrade:write";
constexpr const char* kScopeRead = "broker-upgrade:read";

struct Principal {
    bool authenticated = false;     // false: 401
    std::string subject;
    std::set<std::string> scopes;   // checked per route: 403 when missing
    static Principal all() { return {true, "anonymous", {kScopeWrite, kScopeRead}}; }
};

struct ApiRequest {
    std::string method;  // "GET", "POST", "PUT", ...
    std::string path;    // decoded path without query, e.g. "/orchestrations/abc/operations"
    std::vector<std::pair<std::string, std::string>> query;  // decoded, in order, repeats kept
    std::string contentType;
    std::string body;
    Principal principal;
};

struct ApiResponse {
    ApiResponse() = default;
    ApiResponse(int s, Json b) : status(s), body(std::move(b)) {}
    int status = 200;
    Json body;
    // When non-empty: the body already serialised (exactly dumpWire(<the Json body>)); `body`
    // is then null. Only set on routes served by an OperationPageSource (see below).
    std::string text;
};

// Optional fast path for GET /orchestrations/{id}/operations (and GET /orchestrations/{id}): a
// store that renders wire JSON straight from its rows (no Operation copies, no JSON DOM).
class OperationPageSource {
public:
    virtual ~OperationPageSource() = default;
    // Appends dumpWire(pageJson(store.listOperations(id, q))) to out and returns true, or
    // returns false (out untouched) when the orchestration does not exist.
    virtual bool appendOperationPage(const std::string& orchestrationID, const OperationQuery& q, std::string& out) = 0;
    // GET /orchestrations/{id}: appends dumpWire(toJson(o, &stats)) and returns Found, or
    // NotFound, or Unavailable (out untouched) when this source cannot render it (the router
    // then takes the JSON path).
    enum class Render { Found, NotFound, Unavailable };
    virtual Render appendOrchestration(const std::string& /*orchestrationID*/, std::string& /*out*/) {
        return Render::Unavailable;
    }
};

// "a=1&state=in%20progress&b" -> decoded pairs ('+' is a space).
std::vector<std::pair<std::string, std::string>> parseQueryString(std::string_view raw);
std::string urlDecode(std::string_view s);

class ApiRouter {
public:
    ApiRouter(Engine& engine, Store& store) : engine_(engine), store_(store) {}
    // Never throws; unknown routes 404, wrong methods 405, all errors {"error": ...}.
    ApiResponse handle(const ApiRequest& req, Millis now);
    // With a page source, the operations list route (and the one-orchestration route when the
    // source can render it) answers with ApiResponse::text (the page source must read the same
    // data as the store). Not owned; nullptr turns it off.
    void setOperationPageSource(OperationPageSource* source) { pages_ = source; }

private:
    Engine& engine_;
    Store& store_;
    OperationPageSource* pages_ = nullptr;
};

}  // namespace keb
