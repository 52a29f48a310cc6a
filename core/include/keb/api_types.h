// What goes in and out of the HTTP-shaped API (SPEC 2): requests as the shell hands them over,
// answers as wire JSON. Shared by the router (api.h), the query API and the command API.
#pragma once
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "keb/routes.h"
#include "keb/store.h"
#include "keb/wire.h"

namespace keb {

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

}  // namespace keb
