// HTTP-shaped API router (SPEC 2). Shared by keb-server and the browser simulator.
#include "keb/api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <exception>
#include <optional>
#include <string_view>

#include "keb/validate.h"

namespace keb {
namespace {

ApiResponse error(int status, std::string message) { return {status, errorJson(message)}; }

int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Paging parameters: `page` >= 1, `page_size` 1..100, each at most once.
struct Paging {
    int page = 1;
    int pageSize = 100;
};

std::optional<int> parseBoundedInt(std::string_view v, int lo, int hi);

// SPEC 12: `preview=true|false` on the upgrade routes, at most once. Returns an error message or "".
std::string parsePreview(const ApiRequest& req, bool& preview) {
    bool seen = false;
    for (const auto& [k, v] : req.query) {
        if (k != "preview") continue;
        if (seen) return "preview: given more than once";
        seen = true;
        if (v == "true") preview = true;
        else if (v == "false") preview = false;
        else return "preview: must be true or false, got \"" + v + "\"";
    }
    return {};
}

std::optional<int> parseBoundedInt(std::string_view v, int lo, int hi) {
    int out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || v.empty() || out < lo || out > hi) return std::nullopt;
    return out;
}

// Fills paging and the state filter from the query; returns an error message or "".
template <class State, class Parse>
std::string parseListQuery(const ApiRequest& req, Paging& paging, std::vector<State>& states, Parse parse,
                           int maxPageSize = 100) {
    bool seenPage = false, seenSize = false;
    for (const auto& [k, v] : req.query) {
        if (k == "page") {
            if (seenPage) return "page: given more than once";
            seenPage = true;
            auto n = parseBoundedInt(v, 1, 1'000'000'000);
            if (!n) return "page: must be an integer >= 1, got \"" + v + "\"";
            paging.page = *n;
        } else if (k == "page_size") {
            if (seenSize) return "page_size: given more than once";
            seenSize = true;
            auto n = parseBoundedInt(v, 1, maxPageSize);
            if (!n)
                return "page_size: must be an integer from 1 to " + std::to_string(maxPageSize) + ", got \"" + v + "\"";
            paging.pageSize = *n;
        } else if (k == "state") {
            auto s = parse(v);
            if (!s) return "state: unknown state \"" + v + "\"";
            states.push_back(*s);
        }
    }
    return {};
}

bool hasScope(const Principal& p, const char* scope) { return p.scopes.count(scope) > 0; }

// Retry's KEB form (operation-id=<id>, repeated; immediate=true|false), from the query or an
// application/x-www-form-urlencoded body. Returns an error message or "".
std::string readRetryForm(const std::vector<std::pair<std::string, std::string>>& fields,
                          std::vector<std::string>& opIDs, bool& immediate) {
    for (const auto& [k, v] : fields) {
        if (k == "operation-id") {
            if (!v.empty()) opIDs.push_back(v);
        } else if (k == "immediate") {
            if (v == "true" || v == "1") immediate = true;
            else if (v == "false" || v == "0" || v.empty()) immediate = false;
            else return "immediate: must be true or false, got \"" + v + "\"";
        }
    }
    return {};
}

}  // namespace

std::string urlDecode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hexValue(s[i + 1]) >= 0 && hexValue(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hexValue(s[i + 1]) * 16 + hexValue(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parseQueryString(std::string_view raw) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    while (i <= raw.size()) {
        std::size_t amp = raw.find('&', i);
        if (amp == std::string_view::npos) amp = raw.size();
        std::string_view part = raw.substr(i, amp - i);
        if (!part.empty()) {
            std::size_t eq = part.find('=');
            if (eq == std::string_view::npos) out.emplace_back(urlDecode(part), "");
            else out.emplace_back(urlDecode(part.substr(0, eq)), urlDecode(part.substr(eq + 1)));
        }
        i = amp + 1;
    }
    return out;
}

bool isJsonContentType(std::string_view ct) {
    std::string_view base = ct.substr(0, ct.find(';'));
    while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
    constexpr std::string_view kJson = "application/json";
    if (base.size() != kJson.size()) return false;
    for (std::size_t i = 0; i < base.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(base[i])) != kJson[i]) return false;
    return true;
}

ApiRouter::ApiRouter(Engine& engine, Store& store)
    : ownedQueries_(std::make_unique<QueryApi>(store)),
      ownedCommands_(std::make_unique<CommandApi>(engine)),
      queries_(*ownedQueries_),
      commands_(ownedCommands_.get()) {}

ApiResponse ApiRouter::handle(const ApiRequest& req, Millis now) {
    try {
        const RouteMatch match = matchRoute(req.method, req.path);
        if (!match.route || match.route->access == Access::Public) {
            // /healthz and the other shell routes are not the router's: 404 here, as any unknown path.
            const std::string allowed = isApiPath(req.path) ? allowedMethods(req.path) : std::string();
            if (allowed.empty()) return error(404, "no route for " + req.path);
            return error(405, "method " + req.method + " not allowed on " + req.path + " (allowed: " + allowed + ")");
        }
        const Route& route = *match.route;
        if (!req.principal.authenticated) return error(401, "missing or invalid bearer token");
        // SPEC 12: a preview writes nothing: the read scope suffices (the write scope too).
        bool preview = false;
        const bool upgrade = route.id == RouteId::UpgradeKyma || route.id == RouteId::UpgradeCluster;
        const std::string previewError = upgrade ? parsePreview(req, preview) : std::string();
        if (preview) {
            if (!hasScope(req.principal, kScopeRead) && !hasScope(req.principal, kScopeWrite))
                return error(403, std::string("token lacks scope ") + kScopeRead);
        } else if (!hasScope(req.principal, route.scope)) {
            return error(403, std::string("token lacks scope ") + route.scope);
        }
        // Before anything acts: `?preview=true` on a server without preview must not start a rollout.
        if (std::string e = unknownQueryParameter(route, req.query); !e.empty()) return error(400, e);
        if (!previewError.empty()) return error(400, previewError);
        if (route.access == Access::Write && !commands_)
            return error(503, "read-only server: " + describe(route) + " is answered by the server that runs the engine");
        if (route.access == Access::Fleet && !commands_)
            return error(503, "read-only server: " + describe(route) + " is answered by the server that sees the fleet");
        if (requireJson_ && route.body == RouteBody::Json && !isJsonContentType(req.contentType))
            return error(415, "Content-Type must be application/json (got '" + req.contentType + "')");

        const std::string id(match.params[0]);
        switch (route.id) {
            case RouteId::UpgradeKyma:
            case RouteId::UpgradeCluster: {
                const auto type = route.id == RouteId::UpgradeKyma ? OrchestrationType::UpgradeKyma
                                                                    : OrchestrationType::UpgradeCluster;
                std::string err;
                auto params = parseUpgradeRequest(type, std::string_view(req.body), &err);
                if (!params) return error(400, err);
                if (preview) return commands_->preview(type, *params, now);
                return commands_->upgrade(type, *params, now);
            }
            case RouteId::ListOrchestrations: {
                Paging pg;
                OrchestrationQuery q;
                std::string err = parseListQuery(req, pg, q.states, parseOrchestrationState);
                if (!err.empty()) return error(400, err);
                q.page = pg.page;
                q.pageSize = pg.pageSize;
                return queries_.orchestrations(q);
            }
            case RouteId::GetOrchestration:
                return queries_.orchestration(id);
            case RouteId::ListOperations: {
                Paging pg;
                OperationQuery q;
                std::string err = parseListQuery(req, pg, q.states, parseOperationState);
                if (!err.empty()) return error(400, err);
                q.page = pg.page;
                q.pageSize = pg.pageSize;
                return queries_.operations(id, q);
            }
            case RouteId::GetOperation:
                return queries_.operation(id, std::string(match.params[1]));
            case RouteId::CancelOrchestration:
                return commands_->cancel(id, now);
            case RouteId::PauseOrchestration:
                return commands_->pause(id, now);
            case RouteId::ResumeOrchestration:
                return commands_->resume(id, now);
            case RouteId::RetryOrchestration: {
                // KEB's form: operation-id=<id> (repeated) and immediate=true|false, as a form
                // body or in the query (KEB reads r.Form, which holds both); a JSON body
                // {"operationIDs":[..],"immediate":bool} works too. A misspelt name is 400, not
                // ignored: "operation_id=x" would otherwise retry every failed operation.
                std::vector<std::string> opIDs;
                bool immediate = false;
                const bool jsonBody = !req.body.empty() && (req.contentType.find("json") != std::string::npos ||
                                                            req.body.front() == '{');
                std::string err;
                if (jsonBody) {
                    if (jsonNestedDeeperThan(req.body)) return error(400, "body is nested too deeply");
                    Json j = Json::parse(req.body, nullptr, false);
                    if (j.is_discarded() || !j.is_object()) return error(400, "body is not a JSON object");
                    for (const auto& [key, value] : j.items())
                        if (key != "operationIDs" && key != "immediate")
                            return error(400, "unknown field \"" + key + "\" (accepted: operationIDs, immediate)");
                    if (j.contains("operationIDs")) {
                        if (!j["operationIDs"].is_array()) return error(400, "operationIDs must be an array of strings");
                        for (const auto& v : j["operationIDs"]) {
                            if (!v.is_string()) return error(400, "operationIDs must be an array of strings");
                            opIDs.push_back(v.get<std::string>());
                        }
                    }
                    if (j.contains("immediate")) {
                        if (!j["immediate"].is_boolean()) return error(400, "immediate must be a boolean");
                        immediate = j["immediate"].get<bool>();
                    }
                    err = readRetryForm(req.query, opIDs, immediate);  // the query after the body
                } else {
                    const auto form = parseQueryString(req.body);
                    for (const auto& [k, v] : form) {
                        if (std::find(route.query.begin(), route.query.end(), k) != route.query.end()) continue;
                        std::string accepted;
                        for (std::string_view name : route.query) accepted += (accepted.empty() ? "" : ", ") + std::string(name);
                        return error(400, "unknown form field \"" + k + "\" (accepted: " + accepted + ")");
                    }
                    err = readRetryForm(req.query, opIDs, immediate);  // the query before the form
                    if (err.empty()) err = readRetryForm(form, opIDs, immediate);
                }
                if (!err.empty()) return error(400, err);
                return commands_->retry(id, opIDs, immediate, now);
            }
            case RouteId::ListRuntimes: {
                Paging pg;
                RuntimeQuery q;
                std::string err = parseListQuery(req, pg, q.states, parseOperationState, 1000);
                if (!err.empty()) return error(400, err);
                for (const auto& [k, v] : req.query) {
                    std::string* field = k == "region" ? &q.region
                                         : k == "globalAccountID" ? &q.globalAccountID
                                         : k == "planName" ? &q.planName
                                                           : nullptr;
                    if (!field) continue;
                    if (!field->empty()) return error(400, k + ": given more than once");
                    if (v.empty()) return error(400, k + ": must not be empty");
                    *field = v;
                }
                q.page = pg.page;
                q.pageSize = pg.pageSize;
                return commands_->runtimes(q, now);
            }
            case RouteId::Healthz:
            case RouteId::Metrics:
            case RouteId::OpenApi:
                break;
        }
        return error(404, "no route for " + req.path);
    } catch (const std::exception& ex) {
        if (dynamic_cast<const StoreUnavailable*>(&ex))  // fenced, or the database is gone: retry (SPEC 11)
            return error(503, std::string("service unavailable: ") + ex.what());
        return error(500, std::string("internal error: ") + ex.what());
    } catch (...) {
        return error(500, "internal error");
    }
}

}  // namespace keb
