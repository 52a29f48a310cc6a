// A small deterministic driver for engine tests: virtual time, an in-memory fleet
// and a scripted upgrade backend that records what really happened to runtimes.
#pragma once
#include <algorithm>
#include <optional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "keb/api.h"
#include "keb/engine.h"
#include "keb/memory_store.h"
#include "keb/timefmt.h"
#include "keb/wire.h"

namespace keb::testing {

// 2026-11-23 is a Monday.
inline Millis T(const char* rfc3339) { return *parseRfc3339(rfc3339); }

inline Runtime makeRuntime(int i, std::string begin = "", std::string end = "") {
    Runtime r;
    r.runtimeID = "rt-" + std::to_string(i);
    r.instanceID = "inst-" + std::to_string(i);
    r.globalAccountID = "ga-" + std::to_string(i % 3);
    r.subAccountID = "sa-" + std::to_string(i);
    r.planID = "plan-azure";
    r.planName = "azure";
    r.region = i % 2 ? "westeurope" : "eastus";
    r.shootName = "shoot-" + std::to_string(i);
    r.windowBegin = std::move(begin);
    r.windowEnd = std::move(end);
    r.kubernetesVersion = "1.29.0";
    return r;
}

class TestFleet : public FleetSource {
public:
    std::vector<Runtime> runtimes;
    bool down = false;
    int snapshots = 0;
    int lookups = 0;
    // Set: the fleet reports a generation (FleetSource::generation) and the engine may reuse what
    // it derived from a runtime until changed() bumps it.
    std::optional<std::uint64_t> gen;
    std::optional<std::uint64_t> generation() const override { return gen; }
    void changed() {
        if (gen) ++*gen;
    }
    FleetSnapshot snapshot(Millis) override {
        ++snapshots;
        if (down) return {false, "gardener: 503 Service Unavailable", nullptr};
        return {true, "", &runtimes};
    }
    std::optional<Runtime> find(const std::string& id, Millis) override {
        ++lookups;
        for (const auto& r : runtimes)
            if (r.runtimeID == id) return r;
        return std::nullopt;
    }
    void remove(const std::string& id) {
        runtimes.erase(std::remove_if(runtimes.begin(), runtimes.end(),
                                      [&](const Runtime& r) { return r.runtimeID == id; }),
                       runtimes.end());
    }
};

// Upgrade model: an upgrade takes `duration`; runtimes in `failing` fail at the end;
// runtimes in `hanging` never finish.
class ScriptedBackend : public UpgradeBackend {
public:
    Millis duration = 10 * kMinute;
    std::set<std::string> failing, hanging;
    std::map<std::string, int> startCalls;        // operationID -> start() calls
    std::map<std::string, int> upgrades;          // runtimeID -> real upgrades begun
    std::map<std::string, Millis> begunAt;        // operationID -> time the upgrade really began
    std::map<std::string, std::string> runtimeOf; // operationID -> runtimeID
    std::set<std::string> running;                // operationIDs upgrading now
    std::map<std::string, Operation> seenAtStart; // operationID -> the operation start() was given
    std::map<std::string, std::size_t> maxRunningPerOrch;
    std::map<std::string, std::set<std::string>> runningPerOrch;
    int polls = 0;

    StepResult start(OrchestrationType, const Operation& op, Millis now) override {
        ++startCalls[op.operationID];
        if (!begunAt.count(op.operationID)) {  // idempotent per operationID
            begunAt[op.operationID] = now;
            runtimeOf[op.operationID] = op.runtimeID;
            seenAtStart[op.operationID] = op;
            ++upgrades[op.runtimeID];
            running.insert(op.operationID);
            auto& r = runningPerOrch[op.orchestrationID];
            r.insert(op.operationID);
            maxRunningPerOrch[op.orchestrationID] = std::max(maxRunningPerOrch[op.orchestrationID], r.size());
        }
        return step(op, now);
    }
    StepResult poll(OrchestrationType, const Operation& op, Millis now) override {
        ++polls;
        return step(op, now);
    }

private:
    StepResult step(const Operation& op, Millis now) {
        if (hanging.count(op.runtimeID)) return StepResult::again(0);
        const Millis end = begunAt[op.operationID] + duration;
        if (now < end) return StepResult::again(end - now);
        running.erase(op.operationID);
        runningPerOrch[op.orchestrationID].erase(op.operationID);
        if (failing.count(op.runtimeID)) return StepResult::failed("upgrade of " + op.runtimeID + " failed");
        return StepResult::done();
    }
};

// A Kyma upgrade of every runtime, for tests that call Engine::create themselves.
inline Parameters upgradeAll() {
    Parameters p;
    Target all;
    all.all = true;
    p.targets.include.push_back(all);
    p.kyma = KymaParams{"2.20.0"};
    return p;
}

// Runs an engine until nothing is due, each action carried out by `backend` at once; `now`
// follows the engine's wake-ups (at most `rounds` of them).
inline void runToIdle(Engine& engine, UpgradeBackend& backend, Millis& now, int rounds = 1000) {
    for (int guard = 0; guard < rounds; ++guard) {
        for (const Action& a : engine.tick(now))
            engine.complete(a, a.kind == Action::Kind::Start ? backend.start(a.type, a.operation(), now)
                                                             : backend.poll(a.type, a.operation(), now),
                            now);
        auto next = engine.nextWakeup();
        if (!next) return;
        now = std::max(now, *next);
    }
}

struct Harness {
    MemoryStore store;
    TestFleet fleet;
    ScriptedBackend backend;
    SeededIdGenerator ids{42};
    EngineConfig config;
    std::unique_ptr<Engine> engine;
    std::unique_ptr<ApiRouter> router;
    Millis now = T("2026-11-23T10:00:00Z");

    Harness() { boot(); }

    void boot() {
        router.reset();
        engine = std::make_unique<Engine>(store, fleet, ids, config);
        router = std::make_unique<ApiRouter>(*engine, store);
        engine->recover(now);
    }
    // A process restart: every in-memory thing is thrown away; actions in flight are lost.
    void restart() { boot(); }

    void addRuntimes(int n, const std::string& begin = "", const std::string& end = "") {
        for (int i = 0; i < n; ++i) fleet.runtimes.push_back(makeRuntime(static_cast<int>(fleet.runtimes.size()), begin, end));
    }

    // Runs the engine (actions executed synchronously) until `until` or until idle.
    void runUntil(Millis until) {
        for (int guard = 0; guard < 10'000'000; ++guard) {
            for (const Action& a : engine->tick(now)) {
                StepResult r = a.kind == Action::Kind::Start ? backend.start(a.type, a.operation(), now)
                                                             : backend.poll(a.type, a.operation(), now);
                engine->complete(a, r, now);
            }
            auto next = engine->nextWakeup();
            if (!next || *next > until) {
                now = std::max(now, until);
                return;
            }
            now = std::max(now, *next);
        }
        throw std::runtime_error("engine did not settle");
    }
    void runFor(Millis d) { runUntil(now + d); }
    void runToEnd() { runUntil(now + 60 * kDay); }

    ApiResponse call(const std::string& method, const std::string& target, const std::string& body = "",
                     Principal who = Principal::all()) {
        ApiRequest req;
        req.method = method;
        auto q = target.find('?');
        req.path = target.substr(0, q);
        if (q != std::string::npos) req.query = parseQueryString(std::string_view(target).substr(q + 1));
        req.body = body;
        req.contentType = !body.empty() && body[0] != '{' && body[0] != '[' ? "application/x-www-form-urlencoded" : "application/json";
        req.principal = std::move(who);
        return router->handle(req, now);
    }

    std::string submit(const std::string& body, const std::string& kind = "kyma") {
        ApiResponse r = call("POST", "/upgrade/" + kind, body);
        if (r.status != 202) throw std::runtime_error("submit failed: " + r.body.dump());
        return r.body["orchestrationID"].get<std::string>();
    }

    Orchestration orch(const std::string& id) { return *store.getOrchestration(id); }
    std::vector<Operation> ops(const std::string& id) { return store.operationsOf(id); }
    std::int64_t count(const std::string& id, OperationState s) { return store.operationStats(id)[s]; }
};

}  // namespace keb::testing
