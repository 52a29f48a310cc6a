// HTTP-shaped API router (SPEC 2). Shared by keb-server and the browser simulator.
#include "keb/api.h"

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

std::vector<std::string_view> splitPath(std::string_view path) {
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t j = i;
        while (j < path.size() && path[j] != '/') ++j;
        if (j > i) parts.push_back(path.substr(i, j - i));
        i = j;
    }
    return parts;
}

// Paging parameters: `page` >= 1, `page_size` 1..100, each at most once.
struct Paging {
    int page = 1;
    int pageSize = 100;
};

std::optional<int> parseBoundedInt(std::string_view v, int lo, int hi) {
    int out = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || ptr != v.data() + v.size() || v.empty() || out < lo || out > hi) return std::nullopt;
    return out;
}

// Fills paging and the state filter from the query; returns an error message or "".
template <class State, class Parse>
std::string parseListQuery(const ApiRequest& req, Paging& paging, std::vector<State>& states, Parse parse) {
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
            auto n = parseBoundedInt(v, 1, 100);
            if (!n) return "page_size: must be an integer from 1 to 100, got \"" + v + "\"";
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

ApiResponse ApiRouter::handle(const ApiRequest& req, Millis now) {
    try {
        const auto parts = splitPath(req.path);
        const std::string& m = req.method;
        // Route table: which methods a path accepts, and the scope each needs.
        enum class Route { None, Upgrade, List, One, Ops, Op, Cancel, Retry };
        Route route = Route::None;
        const char* allowed = "";
        if (parts.size() == 2 && parts[0] == "upgrade" && (parts[1] == "kyma" || parts[1] == "cluster")) {
            route = Route::Upgrade, allowed = "POST";
        } else if (!parts.empty() && parts[0] == "orchestrations") {
            if (parts.size() == 1) route = Route::List, allowed = "GET";
            else if (parts.size() == 2) route = Route::One, allowed = "GET";
            else if (parts.size() == 3 && parts[2] == "operations") route = Route::Ops, allowed = "GET";
            else if (parts.size() == 4 && parts[2] == "operations") route = Route::Op, allowed = "GET";
            else if (parts.size() == 3 && parts[2] == "cancel") route = Route::Cancel, allowed = "PUT";
            else if (parts.size() == 3 && parts[2] == "retry") route = Route::Retry, allowed = "POST";
        }
        if (route == Route::None) return error(404, "no route for " + req.path);
        if (m != allowed)
            return error(405, "method " + m + " not allowed on " + req.path + " (allowed: " + allowed + ")");
        if (!req.principal.authenticated) return error(401, "missing or invalid bearer token");
        const char* scope = m == "GET" ? kScopeRead : kScopeWrite;
        if (!hasScope(req.principal, scope)) return error(403, std::string("token lacks scope ") + scope);

        const std::string id = parts.size() > 1 ? std::string(parts[1]) : std::string();
        switch (route) {
            case Route::Upgrade: {
                const auto type =
                    parts[1] == "kyma" ? OrchestrationType::UpgradeKyma : OrchestrationType::UpgradeCluster;
                std::string err;
                auto params = parseUpgradeRequest(type, std::string_view(req.body), &err);
                if (!params) return error(400, err);
                std::string oid = engine_.create(type, *params, now);
                return {202, Json{{"orchestrationID", oid}}};
            }
            case Route::List: {
                Paging pg;
                OrchestrationQuery q;
                std::string err = parseListQuery(req, pg, q.states, parseOrchestrationState);
                if (!err.empty()) return error(400, err);
                q.page = pg.page;
                q.pageSize = pg.pageSize;
                return {200, pageJson(store_.listOrchestrations(q))};
            }
            case Route::One: {
                if (pages_) {
                    ApiResponse r;
                    switch (pages_->appendOrchestration(id, r.text)) {
                        case OperationPageSource::Render::Found: return r;
                        case OperationPageSource::Render::NotFound:
                            return error(404, "orchestration " + id + " not found");
                        case OperationPageSource::Render::Unavailable: break;
                    }
                }
                auto o = store_.getOrchestration(id);
                if (!o) return error(404, "orchestration " + id + " not found");
                OperationStats stats = store_.operationStats(id);
                return {200, toJson(*o, &stats)};
            }
            case Route::Ops: {
                Paging pg;
                OperationQuery q;
                std::string err = parseListQuery(req, pg, q.states, parseOperationState);
                if (!err.empty()) return error(400, err);
                q.page = pg.page;
                q.pageSize = pg.pageSize;
                if (pages_) {
                    ApiResponse r;
                    if (!pages_->appendOperationPage(id, q, r.text))
                        return error(404, "orchestration " + id + " not found");
                    return r;
                }
                if (!store_.getOrchestration(id)) return error(404, "orchestration " + id + " not found");
                return {200, pageJson(store_.listOperations(id, q))};
            }
            case Route::Op: {
                if (!store_.getOrchestration(id)) return error(404, "orchestration " + id + " not found");
                const std::string opID(parts[3]);
                auto op = store_.getOperation(id, opID);
                if (!op) return error(404, "operation " + opID + " not found in orchestration " + id);
                return {200, toJson(*op, true)};
            }
            case Route::Cancel: {
                if (!engine_.cancel(id, now)) return error(404, "orchestration " + id + " not found");
                return {200, Json{{"orchestrationID", id}}};
            }
            case Route::Retry: {
                // KEB's form: operation-id=<id> (repeated) and immediate=true|false, as a
                // form body or in the query; a JSON body {"operationIDs":[..],"immediate":bool} works too.
                std::vector<std::pair<std::string, std::string>> fields = req.query;
                std::vector<std::string> opIDs;
                bool immediate = false;
                const bool jsonBody = !req.body.empty() && (req.contentType.find("json") != std::string::npos ||
                                                            req.body.front() == '{');
                if (jsonBody) {
                    if (jsonNestedDeeperThan(req.body)) return error(400, "body is nested too deeply");
                    Json j = Json::parse(req.body, nullptr, false);
                    if (j.is_discarded() || !j.is_object()) return error(400, "body is not a JSON object");
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
                } else {
                    auto form = parseQueryString(req.body);
                    fields.insert(fields.end(), form.begin(), form.end());
                }
                for (const auto& [k, v] : fields) {
                    if (k == "operation-id") {
                        if (!v.empty()) opIDs.push_back(v);
                    } else if (k == "immediate") {
                        if (v == "true" || v == "1") immediate = true;
                        else if (v == "false" || v == "0" || v.empty()) immediate = false;
                        else return error(400, "immediate: must be true or false, got \"" + v + "\"");
                    }
                }
                RetryResult r = engine_.retry(id, opIDs, immediate, now);
                if (r.status != 202) return error(r.status, r.error);
                return {202, Json{{"orchestrationID", r.orchestrationID},
                                  {"retryShoots", r.retryShoots},
                                  {"oldOperations", r.oldOperations},
                                  {"invalidOperations", r.invalidOperations},
                                  {"msg", r.msg}}};
            }
            case Route::None:
                break;
        }
        return error(404, "no route for " + req.path);
    } catch (const std::exception& ex) {
        return error(500, std::string("internal error: ") + ex.what());
    } catch (...) {
        return error(500, "internal error");
    }
}

}  // namespace keb
