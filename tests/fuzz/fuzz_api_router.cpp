// Fuzz target: the HTTP-shaped API (core/include/keb/api.h, routes.h) as keb-server drives it.
// The input is a script of up to 8 requests separated by a line "%%":
//     METHOD TARGET                (TARGET = raw path, '?' and the raw query string)
//     content-type: ...            (optional headers)
//     x-scope: broker-upgrade:read (optional; "none" = unauthenticated; absent = every scope)
//     x-advance: 90                (optional; run the engine this many minutes first, at most 3 days)
//     <empty line>
//     BODY
// Each input gets a fresh engine over a MemoryStore and a 6-runtime fleet; requests can refer to
// the orchestrations earlier ones created with the placeholders {o} and {op} (the latest ids).
// Checks: the router never throws and never answers 500 (an exception in a handler); every error
// answer is {"error": string}; the served text (ApiResponse::text or dumpWire of the body) is JSON.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keb/api.h"
#include "keb/engine.h"
#include "keb/fleet.h"
#include "keb/memory_store.h"
#include "keb/routes.h"
#include "keb/timefmt.h"
#include "keb/wire.h"

using namespace keb;

namespace {

[[noreturn]] void fail(const std::string& what, const ApiRequest& req) {
    std::fprintf(stderr, "fuzz_api_router: %s\n  request: %s %s body=%zu bytes\n", what.c_str(), req.method.c_str(),
                 req.path.c_str(), req.body.size());
    std::abort();
}

class Fleet : public FleetSource {
public:
    std::vector<Runtime> runtimes;
    FleetSnapshot snapshot(Millis) override { return {true, "", &runtimes}; }
    std::optional<Runtime> find(const std::string& id, Millis) override {
        for (const auto& r : runtimes)
            if (r.runtimeID == id) return r;
        return std::nullopt;
    }
};

// Every upgrade takes 10 minutes; runtime 3 fails, runtime 5 never finishes.
class Backend : public UpgradeBackend {
public:
    std::map<std::string, Millis> begun;
    StepResult start(OrchestrationType, const Operation& op, Millis now) override {
        begun.emplace(op.operationID, now);
        return step(op, now);
    }
    StepResult poll(OrchestrationType, const Operation& op, Millis now) override { return step(op, now); }

private:
    StepResult step(const Operation& op, Millis now) {
        if (op.runtimeID == "rt-5") return StepResult::again(5 * kMinute);
        Millis end = begun[op.operationID] + 10 * kMinute;
        if (now < end) return StepResult::again(end - now);
        if (op.runtimeID == "rt-3") return StepResult::failed("upgrade of rt-3 failed");
        return StepResult::done();
    }
};

Runtime runtime(int i) {
    Runtime r;
    r.runtimeID = "rt-" + std::to_string(i);
    r.instanceID = "inst-" + std::to_string(i);
    r.globalAccountID = "ga-" + std::to_string(i % 3);
    r.subAccountID = "sa-" + std::to_string(i);
    r.planID = "plan-" + std::to_string(i % 2);
    r.planName = i % 2 ? "azure" : "aws";
    r.region = i % 2 ? "westeurope" : "eastus";
    r.shootName = "shoot-" + std::to_string(i);
    if (i % 3 == 0) {
        r.windowBegin = "220000+0000";
        r.windowEnd = "230000+0000";
    } else if (i == 4) {
        r.windowBegin = "bogus";
        r.windowEnd = "";
    }
    r.kubernetesVersion = "1.29.0";
    return r;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string replaceAll(std::string s, std::string_view from, const std::string& to) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
        s.replace(p, from.size(), to);
    return s;
}

void checkAnswer(const ApiRequest& req, const ApiResponse& r) {
    static const int kStatuses[] = {200, 201, 202, 400, 401, 403, 404, 405, 409, 415, 503};
    bool known = false;
    for (int s : kStatuses) known |= s == r.status;
    if (!known) fail("unexpected status " + std::to_string(r.status) + ": " + dumpWire(r.body), req);
    std::string text = r.text.empty() ? dumpWire(r.body) : r.text;
    if (!r.text.empty() && !r.body.is_null()) fail("both text and body set", req);
    Json parsed = Json::parse(text, nullptr, false);
    if (parsed.is_discarded()) fail("answer is not JSON: " + text.substr(0, 200), req);
    if (r.status >= 400) {
        if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_string())
            fail("error answer without {\"error\": string}: " + text.substr(0, 200), req);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 64 * 1024) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    MemoryStore store;
    Fleet fleet;
    for (int i = 0; i < 6; ++i) fleet.runtimes.push_back(runtime(i));
    Backend backend;
    SeededIdGenerator ids(7);
    EngineConfig config;
    Engine engine(store, fleet, ids, config);
    ApiRouter router(engine, store);
    Millis now = *parseRfc3339("2026-11-23T10:00:00Z");
    engine.recover(now);

    auto runUntil = [&](Millis until) {
        for (int guard = 0; guard < 10000; ++guard) {
            for (const Action& a : engine.tick(now)) {
                StepResult res = a.kind == Action::Kind::Start ? backend.start(a.type, a.operation(), now)
                                                               : backend.poll(a.type, a.operation(), now);
                engine.complete(a, res, now);
            }
            auto next = engine.nextWakeup();
            if (!next || *next > until) break;
            now = std::max(now, *next);
        }
        now = std::max(now, until);
    };

    std::string lastOrch = "none", lastOp = "none";
    std::size_t pos = 0;
    for (int n = 0; n < 8 && pos <= input.size(); ++n) {
        std::size_t end = input.find("\n%%\n", pos);
        std::string_view block = input.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? input.size() + 1 : end + 4;

        ApiRequest req;
        req.principal = Principal::all();
        std::size_t nl = block.find('\n');
        std::string_view line = block.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        std::size_t sp = line.find(' ');
        req.method = std::string(line.substr(0, sp));
        std::string target = sp == std::string_view::npos ? "/" : std::string(line.substr(sp + 1));
        target = replaceAll(replaceAll(std::move(target), "{o}", lastOrch), "{op}", lastOp);
        std::string_view rest = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
        // Headers until an empty line.
        while (!rest.empty()) {
            std::size_t e = rest.find('\n');
            std::string_view h = rest.substr(0, e);
            rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 1);
            if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
            if (h.empty()) break;
            std::size_t colon = h.find(':');
            if (colon == std::string_view::npos) continue;
            std::string name = lower(h.substr(0, colon));
            std::string_view value = h.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (name == "content-type") {
                req.contentType = std::string(value);
            } else if (name == "x-scope") {
                if (value == "none") {
                    req.principal = Principal{};
                } else {
                    req.principal = Principal{true, "fuzz", {}};
                    std::size_t s = 0;
                    while (s < value.size()) {
                        std::size_t t = value.find(' ', s);
                        if (t == std::string_view::npos) t = value.size();
                        if (t > s) req.principal.scopes.insert(std::string(value.substr(s, t - s)));
                        s = t + 1;
                    }
                }
            } else if (name == "x-advance") {
                long minutes = std::strtol(std::string(value).c_str(), nullptr, 10);
                if (minutes > 0) runUntil(now + std::min<long>(minutes, 3 * 24 * 60) * kMinute);
            }
        }
        req.body = std::string(rest);
        // As keb-server (cpp-httplib) hands requests over: the path decoded, the query raw.
        std::size_t q = target.find('?');
        req.path = urlDecode(std::string_view(target).substr(0, q));
        if (q != std::string::npos) req.query = parseQueryString(std::string_view(target).substr(q + 1));

        // The table lookups keb-server's dispatch makes before the router.
        RouteMatch m = matchRoute(req.method, req.path);
        (void)allowedMethods(req.path);
        (void)isApiPath(req.path);
        (void)isJsonContentType(req.contentType);
        if (m.route) {
            (void)describe(*m.route);
            (void)unknownQueryParameter(*m.route, req.query);
        }

        router.setRequireJsonContentType(n % 2 == 1);
        ApiResponse r = router.handle(req, now);
        checkAnswer(req, r);
        if (r.status == 202 && r.body.is_object() && r.body.contains("orchestrationID") &&
            r.body["orchestrationID"].is_string()) {
            lastOrch = r.body["orchestrationID"].get<std::string>();
        }
        if (lastOrch != "none") {
            auto ops = store.operationsOf(lastOrch);
            if (!ops.empty()) lastOp = ops[static_cast<std::size_t>(n) % ops.size()].operationID;
        }
    }
    runUntil(now + 2 * kHour);
    return 0;
}
