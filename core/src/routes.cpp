// The routes table (SPEC 2) and matching a request line against it.
#include "keb/routes.h"

#include <algorithm>
#include <array>

namespace keb {
namespace {

constexpr const char* kRead = kScopeRead;
constexpr const char* kWrite = kScopeWrite;

constexpr std::string_view kListQuery[] = {"page", "page_size", "state"};
// KEB reads both from r.Form: the query and an application/x-www-form-urlencoded body.
constexpr std::string_view kRetryQuery[] = {"operation-id", "immediate"};
constexpr std::string_view kRuntimesQuery[] = {"page", "page_size", "region", "globalAccountID", "planName", "state"};
// SPEC 12: ?preview=true answers a prediction instead of creating the orchestration.
constexpr std::string_view kUpgradeQuery[] = {"preview"};
constexpr std::span<const std::string_view> kNone{};  // accepts no query parameter

const Route kRoutes[] = {
    {RouteId::UpgradeKyma, "POST", "/upgrade/kyma", Access::Write, kWrite, kUpgradeQuery, RouteBody::Json},
    {RouteId::UpgradeCluster, "POST", "/upgrade/cluster", Access::Write, kWrite, kUpgradeQuery, RouteBody::Json},
    {RouteId::ListOrchestrations, "GET", "/orchestrations", Access::Read, kRead, kListQuery, RouteBody::None},
    {RouteId::GetOrchestration, "GET", "/orchestrations/{id}", Access::Read, kRead, kNone, RouteBody::None},
    {RouteId::ListOperations, "GET", "/orchestrations/{id}/operations", Access::Read, kRead, kListQuery,
     RouteBody::None},
    {RouteId::GetOperation, "GET", "/orchestrations/{id}/operations/{opID}", Access::Read, kRead, kNone,
     RouteBody::None},
    {RouteId::CancelOrchestration, "PUT", "/orchestrations/{id}/cancel", Access::Write, kWrite, kNone,
     RouteBody::None},
    {RouteId::RetryOrchestration, "POST", "/orchestrations/{id}/retry", Access::Write, kWrite, kRetryQuery,
     RouteBody::FormOrJson},
    {RouteId::PauseOrchestration, "PUT", "/orchestrations/{id}/pause", Access::Write, kWrite, kNone,
     RouteBody::None},
    {RouteId::ResumeOrchestration, "PUT", "/orchestrations/{id}/resume", Access::Write, kWrite, kNone,
     RouteBody::None},
    {RouteId::ListRuntimes, "GET", "/runtimes", Access::Fleet, kRead, kRuntimesQuery, RouteBody::None},
    {RouteId::Healthz, "GET", "/healthz", Access::Public, nullptr, kNone, RouteBody::None},
    {RouteId::Metrics, "GET", "/metrics", Access::Public, nullptr, kNone, RouteBody::None},
    {RouteId::OpenApi, "GET", "/openapi.json", Access::Public, nullptr, kNone, RouteBody::None},
};
constexpr std::size_t kRouteCount = sizeof kRoutes / sizeof kRoutes[0];

// Longest pattern; a path with more segments matches nothing.
constexpr std::size_t kMaxSegments = 4;

struct Segments {
    std::array<std::string_view, kMaxSegments> part;
    std::size_t count = 0;  // kMaxSegments + 1: too many
};

Segments split(std::string_view path) {
    Segments s;
    std::size_t i = 0;
    while (i < path.size()) {
        while (i < path.size() && path[i] == '/') ++i;
        std::size_t j = i;
        while (j < path.size() && path[j] != '/') ++j;
        if (j > i) {
            if (s.count == kMaxSegments) {
                s.count = kMaxSegments + 1;
                return s;
            }
            s.part[s.count++] = path.substr(i, j - i);
        }
        i = j;
    }
    return s;
}

bool isParam(std::string_view segment) { return segment.size() > 2 && segment.front() == '{' && segment.back() == '}'; }

// The patterns split once (the table is fixed; matching is on every request).
const std::array<Segments, kRouteCount>& patterns() {
    static const std::array<Segments, kRouteCount> split_ = [] {
        std::array<Segments, kRouteCount> out;
        for (std::size_t i = 0; i < kRouteCount; ++i) out[i] = split(kRoutes[i].pattern);
        return out;
    }();
    return split_;
}

// Fills params (when given) and returns true when the path fits the pattern.
bool fits(const Segments& pattern, const Segments& path, std::string_view* params) {
    if (pattern.count != path.count) return false;
    std::size_t p = 0;
    for (std::size_t i = 0; i < pattern.count; ++i) {
        if (isParam(pattern.part[i])) {
            if (params && p < RouteMatch::kMaxParams) params[p] = path.part[i];
            ++p;
        } else if (pattern.part[i] != path.part[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::span<const Route> routes() { return {kRoutes, kRouteCount}; }

RouteMatch matchRoute(std::string_view method, std::string_view path) {
    RouteMatch m;
    const Segments s = split(path);
    if (s.count > kMaxSegments) return m;
    const auto& pats = patterns();
    for (std::size_t i = 0; i < kRouteCount; ++i) {
        std::string_view params[RouteMatch::kMaxParams];
        if (!fits(pats[i], s, params)) continue;
        m.pathKnown = true;
        if (kRoutes[i].method != method) continue;
        m.route = &kRoutes[i];
        std::copy(std::begin(params), std::end(params), std::begin(m.params));
        return m;
    }
    return m;
}

std::string allowedMethods(std::string_view path) {
    const Segments s = split(path);
    std::string out;
    if (s.count > kMaxSegments) return out;
    const auto& pats = patterns();
    for (std::size_t i = 0; i < kRouteCount; ++i) {
        if (!fits(pats[i], s, nullptr)) continue;
        if (out.find(kRoutes[i].method) != std::string::npos) continue;
        if (!out.empty()) out += ", ";
        out += kRoutes[i].method;
    }
    return out;
}

bool isApiPath(std::string_view path) {
    const Segments s = split(path);
    if (s.count == 0) return false;
    const auto& pats = patterns();
    for (std::size_t i = 0; i < kRouteCount; ++i)
        if (kRoutes[i].access != Access::Public && pats[i].count > 0 && pats[i].part[0] == s.part[0]) return true;
    return false;
}

std::string unknownQueryParameter(const Route& route, const std::vector<std::pair<std::string, std::string>>& query) {
    for (const auto& kv : query) {
        const std::string& name = kv.first;
        if (std::find(route.query.begin(), route.query.end(), name) != route.query.end()) continue;
        std::string accepted;
        for (std::string_view q : route.query) {
            if (!accepted.empty()) accepted += ", ";
            accepted += q;
        }
        return "unknown query parameter \"" + name + "\" (" + describe(route) + " accepts " +
               (accepted.empty() ? std::string("none") : accepted) + ")";
    }
    return {};
}

std::string describe(const Route& route) {
    std::string out(route.method);
    out += ' ';
    out += route.pattern;
    return out;
}

}  // namespace keb
