// SPEC 12: GET /runtimes and the preview of an upgrade request (see keb/preview.h).
#include "keb/preview.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "keb/bits.h"
#include "keb/memory_store.h"
#include "keb/timefmt.h"

namespace keb {
namespace {

// Every orchestration of the store (the store pages them; the order here does not matter).
std::vector<Orchestration> allOrchestrations(StoreReader& store) {
    std::vector<Orchestration> out;
    OrchestrationQuery q;
    q.pageSize = 100;
    for (q.page = 1;; ++q.page) {
        Page<Orchestration> p = store.listOrchestrations(q);
        for (auto& o : p.data) out.push_back(std::move(o));
        if (p.data.empty() || static_cast<std::int64_t>(out.size()) >= p.totalCount) break;
    }
    return out;
}

struct LastOp {
    Millis orchCreated = -1;
    std::int64_t orchSeq = -1;
    std::int64_t opSeq = -1;
    std::string orchestrationID, operationID;
    OperationState state = OperationState::Pending;
};

}  // namespace

RuntimesAnswer listRuntimes(FleetSource& fleet, StoreReader& store, const RuntimeQuery& q, Millis now) {
    FleetSnapshot snap = fleet.snapshot(now);
    if (!snap.ok) return {503, errorJson("cannot list the fleet: " + snap.error)};
    std::optional<VectorRuntimeList> wrapped;
    const RuntimeList& list = snap.list ? *snap.list : wrapped.emplace(*snap.runtimes);

    // The latest operation of each runtime: the newest orchestration's, its newest attempt.
    std::unordered_map<std::string, LastOp> last;
    for (const Orchestration& o : allOrchestrations(store)) {
        store.forEachOperationBrief(o.orchestrationID, [&](const StoreReader::OperationBrief& b) {
            LastOp& l = last[std::string(b.runtimeID)];
            if (std::tie(o.createdAt, o.seq, b.seq) > std::tie(l.orchCreated, l.orchSeq, l.opSeq)) {
                l.orchCreated = o.createdAt;
                l.orchSeq = o.seq;
                l.opSeq = b.seq;
                l.orchestrationID = o.orchestrationID;
                l.operationID = std::string(b.operationID);
                l.state = b.state;
            }
        });
    }

    Json data = Json::array();
    std::int64_t total = 0;
    const std::int64_t first = static_cast<std::int64_t>(q.page - 1) * q.pageSize;
    const std::int64_t end = first + q.pageSize;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const Runtime& r = list.at(i);
        if (!q.region.empty() && r.region != q.region) continue;
        if (!q.globalAccountID.empty() && r.globalAccountID != q.globalAccountID) continue;
        if (!q.planName.empty() && r.planName != q.planName) continue;
        auto it = last.find(r.runtimeID);
        if (!q.states.empty()) {
            if (it == last.end()) continue;
            if (std::find(q.states.begin(), q.states.end(), it->second.state) == q.states.end()) continue;
        }
        const std::int64_t n = total++;
        if (n < first || n >= end) continue;
        Json item = {{"runtimeID", r.runtimeID},
                     {"instanceID", r.instanceID},
                     {"globalAccountID", r.globalAccountID},
                     {"subAccountID", r.subAccountID},
                     {"planName", r.planName},
                     {"region", r.region},
                     {"shootName", r.shootName},
                     {"maintenanceWindowBegin", r.windowBegin},
                     {"maintenanceWindowEnd", r.windowEnd},
                     {"kubernetesVersion", r.kubernetesVersion}};
        if (it != last.end())
            item["lastOperation"] = {{"orchestrationID", it->second.orchestrationID},
                                     {"operationID", it->second.operationID},
                                     {"state", toString(it->second.state)}};
        data.push_back(std::move(item));
    }
    const auto count = static_cast<std::int64_t>(data.size());
    return {200, Json{{"data", std::move(data)}, {"count", count}, {"totalCount", total}}};
}

UpgradeModel upgradeModelFromHistory(StoreReader& store, OrchestrationType type, std::size_t limit) {
    std::vector<Orchestration> orchs = allOrchestrations(store);
    std::sort(orchs.begin(), orchs.end(), [](const Orchestration& a, const Orchestration& b) {
        return std::tie(a.createdAt, a.seq) > std::tie(b.createdAt, b.seq);  // newest first
    });
    struct Sample {
        Millis end;
        Millis duration;
        bool failed;
    };
    std::vector<Sample> samples;
    for (const Orchestration& o : orchs) {
        if (o.type != type) continue;
        if (samples.size() >= limit) break;
        std::vector<Sample> mine;
        store.forEachOperation(o.orchestrationID, [&](const Operation& op) {
            if (op.dryRun || op.startedAt <= 0 || op.updatedAt < op.startedAt) return;
            if (op.state != OperationState::Succeeded && op.state != OperationState::Failed) return;
            mine.push_back({op.updatedAt, op.updatedAt - op.startedAt, op.state == OperationState::Failed});
        });
        std::sort(mine.begin(), mine.end(), [](const Sample& a, const Sample& b) { return a.end > b.end; });
        for (const Sample& s : mine) {
            if (samples.size() >= limit) break;
            samples.push_back(s);
        }
    }
    UpgradeModel m;
    if (samples.empty()) return m;
    std::vector<Millis> d;
    d.reserve(samples.size());
    std::int64_t failed = 0;
    for (const Sample& s : samples) {
        d.push_back(s.duration);
        failed += s.failed ? 1 : 0;
    }
    std::sort(d.begin(), d.end());
    auto quantile = [&](double p) {
        std::size_t i = static_cast<std::size_t>(std::ceil(p * static_cast<double>(d.size()))) - 1;
        return d[std::min(i, d.size() - 1)];
    };
    m.median = std::max<Millis>(quantile(0.5), 1);
    m.p90 = std::max<Millis>(quantile(0.9), m.median);
    m.failureRate = static_cast<double>(failed) / static_cast<double>(samples.size());
    m.fromHistory = true;
    m.historyOperations = static_cast<std::int64_t>(samples.size());
    return m;
}

namespace {

// The fleet as listed once for the preview: resolution sees that listing (both runs), lookups
// before a start go to the source (the caller holds it still: keb-server previews on the engine's
// thread, where the fleet is read). Nothing is copied: 100,000 runtimes cost no extra memory.
class ListedFleet final : public FleetSource {
public:
    ListedFleet(FleetSource& live, const FleetSnapshot& snap) : live_(live), snap_(snap) {}
    FleetSnapshot snapshot(Millis) override { return snap_; }
    std::optional<Runtime> find(const std::string& id, Millis now) override { return live_.find(id, now); }
    bool findInto(const std::string& id, Millis now, Runtime& out) override { return live_.findInto(id, now, out); }
    std::optional<std::uint64_t> generation() const override { return live_.generation(); }

private:
    FleetSource& live_;
    FleetSnapshot snap_;
};

// Upgrades in simulated time: every operation takes the same duration (the model's median, or its
// p90 for the pessimistic run) and fails with the model's rate, drawn from a hash of the seed and
// the runtime, so the same inputs give the same run. (Sampling each duration from the lognormal
// through median and p90 was tried: one slow outlier in history widens it, and the run's mean
// duration, median * exp(sigma^2 / 2), then overshoots the real rollout by up to 2x.)
class ModelBackend final : public UpgradeBackend {
public:
    ModelBackend(const UpgradeModel& m, std::uint64_t seed, bool atP90)
        : m_(m), seed_(seed), duration_(std::max<Millis>(atP90 ? m.p90 : m.median, 1)) {}
    StepResult start(OrchestrationType, const Operation&, Millis) override { return StepResult::again(duration_); }
    StepResult poll(OrchestrationType, const Operation& op, Millis now) override {
        if (op.startedAt > 0 && op.startedAt + duration_ > now) return StepResult::again(op.startedAt + duration_ - now);
        if (fails(op)) return StepResult::failed("predicted failure");
        return StepResult::done();
    }

private:
    bool fails(const Operation& op) const {
        if (m_.failureRate <= 0) return false;
        const std::uint64_t h = mix64(fnv1a(op.runtimeID, seed_ ^ fnv1a(op.retryOf)));
        return static_cast<double>(h >> 11) / 9007199254740992.0 < m_.failureRate;
    }
    UpgradeModel m_;
    std::uint64_t seed_;
    Millis duration_;
};

// Ids of the preview's own orchestration and operations. They start with "ffffffff": SPEC 4's
// "newer" compares (createdAt, orchestrationID), and the previewed request is newer than every
// stored orchestration, even one created in the same millisecond.
class SeqIds final : public IdGenerator {
public:
    explicit SeqIds(std::uint64_t seed) : s_(seed) {}
    std::string newId() override {
        const std::uint64_t hi = splitmix64(s_) | 0xffffffff00000000ull;
        return formatUuid(hi, splitmix64(s_));
    }

private:
    std::uint64_t s_;
};

struct RunResult {
    std::string orchestrationID;
    std::int64_t operations = 0;
    Millis firstStart = 0, end = 0;
    std::int64_t peakWorkers = 0;
    std::map<Millis, std::int64_t> hourly;  // hour start -> starts
    std::vector<std::pair<std::string, std::string>> skipped;  // in order (runtimeID, reason)
    std::int64_t skippedCount = 0;
    std::vector<std::tuple<std::string, std::int64_t, Millis, Millis>> stages;
};

// The preview orchestration's skipped runtimes (resolution skips them before any operation exists).
class Watch final : public EngineListener {
public:
    std::string id;
    std::vector<std::pair<std::string, std::string>> skipped;
    std::int64_t skippedCount = 0;
    bool finished = false;  // the orchestration reached a final state (at `end`)
    Millis end = 0;
    void onEvent(const EngineEvent& e) override {
        if (id.empty() || e.orchestrationID != id) return;
        if (e.kind == "operation.skipped") {
            note(e.runtimeID, e.detail);
        } else if (e.kind == "orchestration.state") {
            const auto s = parseOrchestrationState(e.state);
            if (s && isFinished(*s)) {
                finished = true;
                end = e.at;
            }
        }
    }
    void note(std::string_view runtimeID, std::string_view reason) {
        if (skipped.size() < 100) skipped.emplace_back(std::string(runtimeID), std::string(reason));
        ++skippedCount;
    }
};

RunResult run(OrchestrationType type, const Parameters& params, StoreReader& real, FleetSource& fleet,
              const EngineConfig& config, Millis now, const UpgradeModel& model, std::uint64_t seed, bool atP90) {
    MemoryStore store;
    // The unfinished orchestrations of the real store: their runtimes are busy, their targets count.
    for (const Orchestration& o : real.unfinishedOrchestrations()) {
        store.insertOrchestration(o);
        std::vector<Operation> ops = real.operationsOf(o.orchestrationID);
        if (!ops.empty()) store.insertOperations(ops);
    }
    SeqIds ids(seed);
    ModelBackend backend(model, seed, atP90);
    Watch watch;
    Engine engine(store, fleet, ids, config);
    engine.setListener(&watch);
    engine.recover(now);
    RunResult r;
    r.orchestrationID = engine.create(type, params, now);
    watch.id = r.orchestrationID;
    std::vector<Action> actions;
    Millis t = now;
    // A request scheduled far ahead or waiting for windows ends within a year; stop there.
    const Millis horizon = now + 400 * kDay;
    for (;;) {
        actions.clear();
        engine.tick(t, actions);
        for (const Action& a : actions) {
            const StepResult res = a.kind == Action::Kind::Start ? backend.start(a.type, a.operation(), t)
                                                                 : backend.poll(a.type, a.operation(), t);
            engine.complete(a, res, t);
        }
        if (watch.finished) {
            r.end = watch.end;
            break;
        }
        if (!actions.empty()) continue;  // completions may make more work due now
        const std::optional<Millis> next = engine.nextWakeup();
        if (!next || *next > horizon) {
            r.end = 0;  // does not finish (paused, or beyond the horizon)
            break;
        }
        t = std::max(t, *next);
    }
    watch.id.clear();
    r.skipped = std::move(watch.skipped);
    r.skippedCount = watch.skippedCount;
    // Starts and ends of the upgrades: first start, starts per hour, most running at once.
    std::vector<std::pair<Millis, int>> edges;
    store.forEachOperation(r.orchestrationID, [&](const Operation& op) {
        ++r.operations;
        if (op.startedAt > 0) {
            if (!r.firstStart || op.startedAt < r.firstStart) r.firstStart = op.startedAt;
            ++r.hourly[op.startedAt - ((op.startedAt % kHour) + kHour) % kHour];
            edges.emplace_back(op.startedAt, 1);
            if (isFinished(op.state)) edges.emplace_back(op.updatedAt, -1);
        }
        if (op.description.rfind("skipped:", 0) == 0 || op.description.rfind("preempted:", 0) == 0) {
            if (r.skipped.size() < 100) r.skipped.emplace_back(op.runtimeID, op.description);
            ++r.skippedCount;
        }
    });
    std::sort(edges.begin(), edges.end());  // an end before a start at the same time
    std::int64_t running = 0;
    for (const auto& [t, d] : edges) r.peakWorkers = std::max(r.peakWorkers, running += d);
    if (auto o = store.getOrchestration(r.orchestrationID)) {
        const auto& st = o->parameters.strategy.stages;
        for (std::size_t i = 0; i < st.size(); ++i) {
            const StageProgress* sp = i < o->rollout.stages.size() ? &o->rollout.stages[i] : nullptr;
            r.stages.emplace_back(st[i].name, sp ? sp->operations : 0, sp ? sp->startedAt : 0,
                                  sp ? std::max(sp->finishedAt, sp->soakUntil) : 0);
        }
    }
    return r;
}

Json timeOrNull(Millis t) { return t > 0 ? Json(formatRfc3339(t)) : Json(nullptr); }

}  // namespace

PreviewAnswer previewUpgrade(OrchestrationType type, const Parameters& params, StoreReader& store, FleetSource& fleet,
                             const EngineConfig& config, Millis now) {
    FleetSnapshot snap = fleet.snapshot(now);
    if (!snap.ok) return {503, errorJson("cannot list the fleet: " + snap.error)};
    ListedFleet listed(fleet, snap);
    const UpgradeModel model = upgradeModelFromHistory(store, type);
    const std::uint64_t seed = mix64(fnv1a(dumpWire(toJson(params)), static_cast<std::uint64_t>(type)));
    RunResult med = run(type, params, store, listed, config, now, model, seed, false);
    // The p90 end: the same run with every upgrade taking the p90 duration (the same run when
    // p90 and median agree).
    const bool fixed = model.p90 == model.median;
    RunResult p90 = fixed ? RunResult{} : run(type, params, store, listed, config, now, model, seed, true);
    if (fixed) p90.end = med.end;

    Json skipped = Json::array();
    for (const auto& [id, why] : med.skipped) skipped.push_back({{"runtimeID", id}, {"reason", why}});
    Json hourly = Json::array();
    for (const auto& [hour, n] : med.hourly) hourly.push_back({{"hour", formatRfc3339(hour)}, {"starts", n}});
    Json stages = Json::array();
    for (const auto& [name, n, from, to] : med.stages)
        stages.push_back({{"name", name}, {"runtimes", n}, {"predictedStart", timeOrNull(from)}, {"predictedEnd", timeOrNull(to)}});
    Json body = {{"runtimes", med.operations},
                 {"skippedCount", med.skippedCount},
                 {"skipped", std::move(skipped)},
                 {"predictedStart", timeOrNull(med.firstStart)},
                 {"predictedEnd", timeOrNull(med.end)},
                 {"predictedEndP90", timeOrNull(p90.end)},
                 {"peakWorkers", med.peakWorkers},
                 {"hourly", std::move(hourly)},
                 {"stages", std::move(stages)},
                 {"assumptions",
                  {{"durationMedian", formatDuration(model.median)},
                   {"durationP90", formatDuration(model.p90)},
                   {"failureRate", model.failureRate},
                   {"source", model.fromHistory ? "history" : "default"},
                   {"historyOperations", model.historyOperations}}}};
    return {200, std::move(body)};
}

}  // namespace keb
