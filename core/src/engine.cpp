// The orchestration engine: state machines of SPEC 4, the parallel strategy of
// SPEC 5, the step protocol of SPEC 6 and restart recovery of SPEC 7.
//
// Memory layout: the store owns the operations; the engine keeps, per unfinished
// operation of an orchestration it drives, a small Slot (ids, start time, state)
// and reads the full record from the store only when it changes it.
#include "keb/engine.h"

#include <algorithm>
#include <cassert>
#include <string_view>
#include <tuple>
#include <utility>

#include "keb/targets.h"
#include "keb/timefmt.h"

namespace keb {
namespace {

enum class TimerKind { Resolve = 0, Start = 1, Poll = 2 };

struct Timer {
    Millis at;
    std::string orchestrationID;
    std::int64_t seq;  // operation seq; -1 for orchestration timers
    TimerKind kind;
    bool operator<(const Timer& o) const {
        return std::tie(at, orchestrationID, seq, kind) < std::tie(o.at, o.orchestrationID, o.seq, o.kind);
    }
};

struct Slot {
    std::string operationID;
    std::string runtimeID;
    Millis startAt = 0;
    OperationState state = OperationState::Pending;
    bool actionOut = false;
    bool blocked = false;         // waiting for another upgrade of the same runtime
    bool upgradeStarted = false;  // cached from the store: polls need no store read
    Millis startedAt = 0;
    std::uint64_t noteHash = 0;   // hash of the stored description (progress note)
};

std::uint64_t hashNote(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

struct Active {
    Orchestration orch;
    std::unordered_map<std::int64_t, Slot> slots;      // unfinished operations by seq
    std::set<std::pair<Millis, std::int64_t>> ready;  // pending, not blocked: (startAt, seq)
    int running = 0;                                   // operations in progress
    std::int64_t nextSeq = 0;
    bool resolved = false;  // operations exist (state left pending)
};

Millis scheduleStart(const Orchestration& o) {
    const Strategy& s = o.parameters.strategy;
    if (s.schedule == ScheduleKind::Time && s.scheduleTime) return std::max(o.createdAt, *s.scheduleTime);
    return o.createdAt;
}

}  // namespace

struct Engine::Impl {
    Engine& e;
    std::vector<std::unique_ptr<Active>> order;  // active orchestrations by (createdAt, id)
    std::unordered_map<std::string, Active*> byId;
    std::set<Timer> timers;
    // runtimeID -> operation in progress (global over orchestrations): one upgrade per runtime at a time.
    std::unordered_map<std::string, std::string> busy;
    // runtimeID -> operations waiting for it (orchestrationID, seq).
    std::unordered_map<std::string, std::vector<std::pair<std::string, std::int64_t>>> waiting;
    std::size_t actionsOut = 0;

    explicit Impl(Engine& engine) : e(engine) {}

    void emit(Millis at, std::string_view kind, std::string_view orchID, std::string_view opID = {},
              std::string_view runtimeID = {}, std::string_view state = {}, std::string_view detail = {}) {
        if (!e.listener_) return;
        EngineEvent ev;
        ev.at = at;
        ev.kind = kind;
        ev.orchestrationID = orchID;
        ev.operationID = opID;
        ev.runtimeID = runtimeID;
        ev.state = state;
        ev.detail = detail;
        e.listener_->onEvent(ev);
    }

    Active* find(const std::string& id) {
        auto it = byId.find(id);
        return it == byId.end() ? nullptr : it->second;
    }

    Active& activate(const Orchestration& o) {
        auto a = std::make_unique<Active>();
        a->orch = o;
        Active* raw = a.get();
        auto pos = std::upper_bound(order.begin(), order.end(), o, [](const Orchestration& v, const auto& p) {
            return std::tie(v.createdAt, v.orchestrationID) < std::tie(p->orch.createdAt, p->orch.orchestrationID);
        });
        order.insert(pos, std::move(a));
        byId[o.orchestrationID] = raw;
        return *raw;
    }

    void deactivate(const std::string& id) {
        byId.erase(id);
        order.erase(std::remove_if(order.begin(), order.end(),
                                   [&](const auto& p) { return p->orch.orchestrationID == id; }),
                    order.end());
        for (auto it = timers.begin(); it != timers.end();) {
            if (it->orchestrationID == id) it = timers.erase(it);
            else ++it;
        }
    }

    void setOrchState(Active& a, OrchestrationState s, std::string description, Millis now) {
        a.orch.state = s;
        a.orch.description = std::move(description);
        a.orch.updatedAt = now;
        emit(now, "orchestration.state", a.orch.orchestrationID, {}, {}, toString(s), a.orch.description);
    }

    // --- windows -------------------------------------------------------------

    bool usesWindows(const Active& a, const Operation& op) const {
        return a.orch.parameters.strategy.maintenanceWindow && !op.immediate;
    }

    // Sets op's start time and window from the runtime's current window at or after n.
    // false (with *why) when the runtime's window cannot be used.
    bool placeInWindow(Operation& op, const Runtime& rt, Millis n, std::string* why) {
        auto spec = effectiveWindow(rt, e.config_.policy, why);
        if (!spec) return false;
        WindowInstance w = nextWindow(*spec, n);
        op.maintenanceWindowBegin = w.begin;
        op.maintenanceWindowEnd = w.end;
        op.startAt = std::max(n, w.begin);
        return true;
    }

    // --- resolution ------------------------------------------------------------

    void resolve(Active& a, Millis now) {
        const std::string& id = a.orch.orchestrationID;
        FleetSnapshot snap = e.fleet_.snapshot(now);
        if (!snap.ok || (!snap.runtimes && !snap.list)) {
            const std::string err = snap.error.empty() ? "fleet unavailable" : snap.error;
            emit(now, "resolve.error", id, {}, {}, {}, err);
            if (now - scheduleStart(a.orch) >= e.config_.resolveTimeout) {
                setOrchState(a, OrchestrationState::Failed, "failed to resolve targets: " + err, now);
                e.store_.updateOrchestration(a.orch);
                deactivate(id);
                return;
            }
            a.orch.description = "resolving targets failed, retrying: " + err;
            a.orch.updatedAt = now;
            e.store_.updateOrchestration(a.orch);
            timers.insert({now + e.config_.resolveRetryInterval, id, -1, TimerKind::Resolve});
            return;
        }
        std::optional<VectorRuntimeList> wrapped;
        const RuntimeList& fleet = snap.list ? *snap.list : wrapped.emplace(*snap.runtimes);
        std::vector<std::uint32_t> skipped, targets;
        if (snap.list) {
            targets = resolveTargetIndices(a.orch.parameters.targets, fleet, &skipped);
        } else {
            std::vector<const Runtime*> sk;
            for (const Runtime* rt : resolveTargets(a.orch.parameters.targets, *snap.runtimes, &sk))
                targets.push_back(static_cast<std::uint32_t>(rt - snap.runtimes->data()));
            for (const Runtime* rt : sk) skipped.push_back(static_cast<std::uint32_t>(rt - snap.runtimes->data()));
        }
        for (std::uint32_t i : skipped) {
            const Runtime& rt = fleet.at(i);
            emit(now, "operation.skipped", id, {}, rt.runtimeID, {},
                 rt.deprovisioning ? "runtime is being deprovisioned" : "runtime is suspended");
        }

        const Parameters& p = a.orch.parameters;
        std::vector<Operation> ops;
        ops.reserve(targets.size());
        for (std::uint32_t idx : targets) {
            const Runtime* rt = &fleet.at(idx);
            Operation op;
            op.orchestrationID = id;
            op.runtimeID = rt->runtimeID;
            op.instanceID = rt->instanceID;
            op.globalAccountID = rt->globalAccountID;
            op.subAccountID = rt->subAccountID;
            op.servicePlanID = rt->planID;
            op.servicePlanName = rt->planName;
            op.region = rt->region;
            op.shootName = rt->shootName;
            op.dryRun = p.dryRun;
            op.createdAt = now;
            op.updatedAt = now;
            op.startAt = now;
            if (a.orch.type == OrchestrationType::UpgradeKyma) op.kymaConfig = p.kyma.value_or(KymaParams{});
            else op.clusterConfig = p.kubernetes.value_or(KubernetesParams{});
            if (p.strategy.maintenanceWindow) {
                std::string why;
                if (!placeInWindow(op, *rt, now, &why)) {
                    emit(now, "operation.skipped", id, {}, rt->runtimeID, {}, "invalid maintenance window: " + why);
                    continue;
                }
            }
            op.operationID = e.ids_.newId();
            op.seq = a.nextSeq++;
            op.description = op.startAt > now ? "scheduled for the maintenance window" : "queued for processing";
            ops.push_back(std::move(op));
        }
        a.resolved = true;
        if (ops.empty()) {
            setOrchState(a, OrchestrationState::Succeeded, "Scheduled 0 operations: no runtime matched the targets",
                         now);
            e.store_.updateOrchestration(a.orch);
            deactivate(id);
            return;
        }
        setOrchState(a, OrchestrationState::InProgress, "Scheduled " + std::to_string(ops.size()) + " operations",
                     now);
        e.store_.updateOrchestrationWithOperations(a.orch, ops, {});
        for (const auto& op : ops) {
            addPendingSlot(a, op);
            emit(now, "operation.created", id, op.operationID, op.runtimeID, "pending",
                 op.maintenanceWindowBegin ? formatRfc3339(op.startAt) : "");
        }
    }

    void addPendingSlot(Active& a, const Operation& op) {
        Slot s;
        s.operationID = op.operationID;
        s.runtimeID = op.runtimeID;
        s.startAt = op.startAt;
        s.state = OperationState::Pending;
        a.slots.emplace(op.seq, std::move(s));
        a.ready.insert({op.startAt, op.seq});
    }

    // --- operations ------------------------------------------------------------

    Operation load(const Active& a, const Slot& s) {
        auto op = e.store_.getOperation(a.orch.orchestrationID, s.operationID);
        assert(op);
        return *op;
    }

    // Ends an unfinished operation (pending or in progress) with a final state.
    void finishOperation(Active& a, std::int64_t seq, OperationState state, std::string description, Millis now) {
        auto it = a.slots.find(seq);
        if (it == a.slots.end()) return;
        Slot& s = it->second;
        Operation op = load(a, s);
        op.state = state;
        op.description = std::move(description);
        op.updatedAt = now;
        e.store_.updateOperation(op);
        emit(now, "operation.state", a.orch.orchestrationID, op.operationID, op.runtimeID, toString(state),
             op.description);
        if (s.state == OperationState::InProgress) {
            --a.running;
            releaseRuntime(s.runtimeID, s.operationID);
        } else {
            a.ready.erase({s.startAt, seq});
        }
        a.slots.erase(it);
    }

    void releaseRuntime(const std::string& runtimeID, const std::string& operationID) {
        auto b = busy.find(runtimeID);
        if (b == busy.end() || b->second != operationID) return;
        busy.erase(b);
        auto w = waiting.find(runtimeID);
        if (w == waiting.end()) return;
        auto list = std::move(w->second);
        waiting.erase(w);
        for (auto& [orchID, seq] : list) {
            Active* a = find(orchID);
            if (!a) continue;
            auto it = a->slots.find(seq);
            if (it == a->slots.end() || !it->second.blocked) continue;
            it->second.blocked = false;
            a->ready.insert({it->second.startAt, seq});
        }
    }

    // Tries to start the next ready operations of `a` while it has free workers.
    void fill(Active& a, Millis now, std::vector<Action>& out) {
        const int workers = std::max(1, a.orch.parameters.strategy.workers);
        while (a.running < workers && !a.ready.empty() && a.ready.begin()->first <= now) {
            const std::int64_t seq = a.ready.begin()->second;
            a.ready.erase(a.ready.begin());
            Slot& s = a.slots.at(seq);
            if (busy.count(s.runtimeID)) {  // SPEC 6: another upgrade of this runtime is running: wait
                s.blocked = true;
                waiting[s.runtimeID].push_back({a.orch.orchestrationID, seq});
                emit(now, "operation.waiting", a.orch.orchestrationID, s.operationID, s.runtimeID, {},
                     "another upgrade of the runtime is running");
                continue;
            }
            std::optional<Runtime> rt = e.fleet_.find(s.runtimeID, now);
            if (!rt) {
                finishOperation(a, seq, OperationState::Succeeded,
                                "preempted: runtime " + s.runtimeID + " no longer exists", now);
                continue;
            }
            if (rt->deprovisioning || rt->suspended) {
                finishOperation(a, seq, OperationState::Succeeded,
                                std::string("skipped: runtime is ") +
                                    (rt->deprovisioning ? "being deprovisioned" : "suspended"),
                                now);
                continue;
            }
            Operation op = load(a, s);
            if (usesWindows(a, op)) {
                std::string why;
                auto spec = effectiveWindow(*rt, e.config_.policy, &why);
                if (!spec) {
                    finishOperation(a, seq, OperationState::Failed, "invalid maintenance window: " + why, now);
                    continue;
                }
                WindowInstance w = nextWindow(*spec, now);
                if (w.begin > now) {  // window missed (or changed): move to the next allowed one
                    op.maintenanceWindowBegin = w.begin;
                    op.maintenanceWindowEnd = w.end;
                    op.startAt = w.begin;
                    op.description = "maintenance window missed, moved to the next window";
                    op.updatedAt = now;
                    e.store_.updateOperation(op);
                    s.startAt = w.begin;
                    a.ready.insert({s.startAt, seq});
                    emit(now, "operation.rescheduled", a.orch.orchestrationID, op.operationID, op.runtimeID,
                         "pending", formatRfc3339(w.begin));
                    continue;
                }
                op.maintenanceWindowBegin = w.begin;
                op.maintenanceWindowEnd = w.end;
            }
            if (op.dryRun) {
                op.state = OperationState::Succeeded;
                op.description = "dry run: nothing was changed";
                op.startedAt = now;
                op.updatedAt = now;
                e.store_.updateOperation(op);
                emit(now, "operation.state", a.orch.orchestrationID, op.operationID, op.runtimeID, "succeeded",
                     op.description);
                a.slots.erase(seq);
                continue;
            }
            op.state = OperationState::InProgress;
            op.description = "upgrade started";
            op.startedAt = now;
            op.updatedAt = now;
            e.store_.updateOperation(op);  // recorded before the backend is called
            s.state = OperationState::InProgress;
            s.startedAt = now;
            s.upgradeStarted = false;
            s.noteHash = hashNote(op.description);
            s.actionOut = true;
            ++a.running;
            ++actionsOut;
            busy[s.runtimeID] = s.operationID;
            emit(now, "operation.start", a.orch.orchestrationID, op.operationID, op.runtimeID, "in progress",
                 op.maintenanceWindowBegin ? formatRfc3339(op.maintenanceWindowBegin) + "/" +
                                                 formatRfc3339(op.maintenanceWindowEnd)
                                           : "");
            out.push_back(Action{Action::Kind::Start, a.orch.type, std::make_shared<const Operation>(std::move(op)), 0, seq});
        }
    }

    // Finished when nothing is pending or in progress (SPEC 4).
    void maybeFinish(Active& a, Millis now) {
        if (!a.resolved || !a.slots.empty()) return;
        const std::string id = a.orch.orchestrationID;
        if (a.orch.state == OrchestrationState::Canceling) {
            setOrchState(a, OrchestrationState::Canceled, "Orchestration was canceled", now);
        } else {
            // Count per runtime: the latest operation of each runtime decides.
            std::unordered_map<std::string, std::pair<std::int64_t, OperationState>> latest;
            std::int64_t total = 0;
            for (const Operation& op : e.store_.operationsOf(id)) {
                ++total;
                auto [l, fresh] = latest.try_emplace(op.runtimeID, op.seq, op.state);
                if (!fresh && op.seq > l->second.first) l->second = {op.seq, op.state};
            }
            std::int64_t failed = 0;
            for (const auto& [rt, l] : latest)
                if (l.second == OperationState::Failed) ++failed;
            if (failed > 0)
                setOrchState(a, OrchestrationState::Failed,
                             std::to_string(failed) + " of " + std::to_string(latest.size()) + " runtimes failed",
                             now);
            else
                setOrchState(a, OrchestrationState::Succeeded,
                             "All " + std::to_string(latest.size()) + " runtimes upgraded (" +
                                 std::to_string(total) + " operations)",
                             now);
        }
        e.store_.updateOrchestration(a.orch);
        deactivate(id);
    }

    void cancelPending(Active& a, Millis now) {
        std::vector<std::int64_t> pending;
        for (const auto& [seq, s] : a.slots)
            if (s.state == OperationState::Pending) pending.push_back(seq);
        std::sort(pending.begin(), pending.end());
        std::vector<Operation> changed;
        changed.reserve(pending.size());
        for (std::int64_t seq : pending) {
            Slot& s = a.slots.at(seq);
            Operation op = load(a, s);
            op.state = OperationState::Canceled;
            op.description = "Operation was canceled";
            op.updatedAt = now;
            a.ready.erase({s.startAt, seq});
            emit(now, "operation.state", a.orch.orchestrationID, op.operationID, op.runtimeID, "canceled",
                 op.description);
            changed.push_back(std::move(op));
            a.slots.erase(seq);
        }
        e.store_.updateOrchestrationWithOperations(a.orch, {}, changed);
    }
};

Engine::Engine(Store& store, FleetSource& fleet, IdGenerator& ids, EngineConfig config)
    : store_(store), fleet_(fleet), ids_(ids), config_(std::move(config)), impl_(std::make_unique<Impl>(*this)) {}

Engine::~Engine() = default;

std::string Engine::create(OrchestrationType type, const Parameters& params, Millis now) {
    Orchestration o;
    o.orchestrationID = ids_.newId();
    o.type = type;
    o.state = OrchestrationState::Pending;
    o.description = "queued for processing";
    o.createdAt = now;
    o.updatedAt = now;
    o.parameters = params;
    store_.insertOrchestration(o);
    impl_->emit(now, "orchestration.created", o.orchestrationID, {}, {}, "pending", toString(type));
    Active& a = impl_->activate(o);
    impl_->timers.insert({std::max(now, scheduleStart(a.orch)), o.orchestrationID, -1, TimerKind::Resolve});
    return o.orchestrationID;
}

bool Engine::cancel(const std::string& orchestrationID, Millis now) {
    Active* a = impl_->find(orchestrationID);
    if (!a) return store_.getOrchestration(orchestrationID).has_value();  // finished: no-op
    if (a->orch.state == OrchestrationState::Canceling) return true;
    if (!a->resolved) {  // still pending: nothing was scheduled
        impl_->setOrchState(*a, OrchestrationState::Canceled, "Orchestration was canceled before it started", now);
        store_.updateOrchestration(a->orch);
        impl_->deactivate(orchestrationID);
        return true;
    }
    impl_->setOrchState(*a, OrchestrationState::Canceling, "canceling: waiting for operations in progress", now);
    impl_->cancelPending(*a, now);
    impl_->maybeFinish(*a, now);
    return true;
}

RetryResult Engine::retry(const std::string& orchestrationID, const std::vector<std::string>& operationIDs,
                          bool immediate, Millis now) {
    RetryResult r;
    r.orchestrationID = orchestrationID;
    auto stored = store_.getOrchestration(orchestrationID);
    if (!stored) {
        r.status = 404;
        r.error = "orchestration " + orchestrationID + " not found";
        return r;
    }
    const OrchestrationState st = stored->state;
    if (st != OrchestrationState::Failed && st != OrchestrationState::InProgress &&
        st != OrchestrationState::Retrying) {
        r.status = 409;
        r.error = std::string("orchestration is ") + toString(st) +
                  ": only failed or in progress orchestrations can be retried";
        return r;
    }
    std::vector<Operation> all = store_.operationsOf(orchestrationID);
    // The latest operation of each runtime; only a failed latest one can be retried.
    std::unordered_map<std::string, std::int64_t> latestSeq;
    std::int64_t nextSeq = 0;
    for (const auto& op : all) {
        auto& l = latestSeq.try_emplace(op.runtimeID, op.seq).first->second;
        l = std::max(l, op.seq);
        nextSeq = std::max(nextSeq, op.seq + 1);
    }
    auto retryable = [&](const Operation& op) {
        return op.state == OperationState::Failed && latestSeq[op.runtimeID] == op.seq;
    };
    std::vector<const Operation*> chosen;
    if (operationIDs.empty()) {
        for (const auto& op : all)
            if (retryable(op)) chosen.push_back(&op);
    } else {
        std::unordered_map<std::string, const Operation*> byOpId;
        for (const auto& op : all) byOpId[op.operationID] = &op;
        std::set<std::string> seen;
        for (const auto& id : operationIDs) {
            if (!seen.insert(id).second) continue;
            auto it = byOpId.find(id);
            if (it == byOpId.end() || !retryable(*it->second)) r.invalidOperations.push_back(id);
            else chosen.push_back(it->second);
        }
    }
    if (chosen.empty()) {
        r.msg = "no failed operations to retry";
        return r;
    }
    Active* a = impl_->find(orchestrationID);
    if (!a) {
        a = &impl_->activate(*stored);
        a->resolved = true;
    }
    a->nextSeq = std::max(a->nextSeq, nextSeq);
    std::vector<Operation> created;
    for (const Operation* old : chosen) {
        Operation op = *old;
        op.operationID = ids_.newId();
        op.seq = a->nextSeq++;
        op.state = OperationState::Pending;
        op.description = "retry of operation " + old->operationID;
        op.retryOf = old->operationID;
        op.immediate = immediate;
        op.createdAt = now;
        op.updatedAt = now;
        op.startedAt = 0;
        op.upgradeStarted = false;
        op.startAt = now;
        op.maintenanceWindowBegin = op.maintenanceWindowEnd = 0;
        if (impl_->usesWindows(*a, op)) {
            if (auto rt = fleet_.find(op.runtimeID, now)) {
                std::string why;
                impl_->placeInWindow(op, *rt, now, &why);  // on failure start now; fill() decides
            }
        }
        r.retryShoots.push_back(op.shootName);
        r.oldOperations.push_back(old->operationID);
        created.push_back(std::move(op));
    }
    if (a->orch.state == OrchestrationState::Failed)
        impl_->setOrchState(*a, OrchestrationState::Retrying,
                            "retrying " + std::to_string(created.size()) + " failed operations", now);
    else
        a->orch.updatedAt = now;
    store_.updateOrchestrationWithOperations(a->orch, created, {});
    for (const auto& op : created) {
        impl_->addPendingSlot(*a, op);
        impl_->emit(now, "operation.created", orchestrationID, op.operationID, op.runtimeID, "pending",
                    "retry of " + op.retryOf);
    }
    r.msg = "retry operations are queued for processing";
    return r;
}

void Engine::recover(Millis now) {
    for (const Orchestration& o : store_.unfinishedOrchestrations()) {
        if (impl_->find(o.orchestrationID)) continue;
        Active& a = impl_->activate(o);
        impl_->emit(now, "orchestration.recovered", o.orchestrationID, {}, {}, toString(o.state));
        if (o.state == OrchestrationState::Pending) {
            impl_->timers.insert({std::max(now, scheduleStart(o)), o.orchestrationID, -1, TimerKind::Resolve});
            continue;
        }
        a.resolved = true;
        std::vector<Operation> rescheduled;
        for (const Operation& op : store_.operationsOf(o.orchestrationID)) {
            a.nextSeq = std::max(a.nextSeq, op.seq + 1);
            if (op.state == OperationState::InProgress) {
                Slot s;
                s.operationID = op.operationID;
                s.runtimeID = op.runtimeID;
                s.startAt = op.startAt;
                s.state = OperationState::InProgress;
                s.startedAt = op.startedAt;
                s.upgradeStarted = op.upgradeStarted;
                s.noteHash = hashNote(op.description);
                a.slots.emplace(op.seq, s);
                ++a.running;
                impl_->busy[op.runtimeID] = op.operationID;
                // Started upgrades are polled, never started again; an upgrade whose start was not
                // acknowledged is started again (backends recognise a repeated start by operationID).
                impl_->timers.insert({now, o.orchestrationID, op.seq,
                                      op.upgradeStarted ? TimerKind::Poll : TimerKind::Start});
            } else if (op.state == OperationState::Pending) {
                Operation copy = op;
                if (a.orch.state != OrchestrationState::Canceling && impl_->usesWindows(a, copy)) {
                    if (auto rt = fleet_.find(copy.runtimeID, now)) {
                        std::string why;
                        const Millis before = copy.startAt;
                        if (impl_->placeInWindow(copy, *rt, now, &why) && copy.startAt != before) {
                            copy.updatedAt = now;
                            rescheduled.push_back(copy);
                        }
                    }
                }
                impl_->addPendingSlot(a, copy);
            }
        }
        if (!rescheduled.empty()) store_.updateOperations(rescheduled);
        if (a.orch.state == OrchestrationState::Canceling) impl_->cancelPending(a, now);
    }
}

std::vector<Action> Engine::tick(Millis now) {
    std::vector<Action> out;
    // Due timers first (resolution, restarts of in-progress operations, polls).
    while (!impl_->timers.empty() && impl_->timers.begin()->at <= now) {
        Timer t = *impl_->timers.begin();
        impl_->timers.erase(impl_->timers.begin());
        Active* a = impl_->find(t.orchestrationID);
        if (!a) continue;
        if (t.kind == TimerKind::Resolve) {
            if (!a->resolved && a->orch.state == OrchestrationState::Pending) impl_->resolve(*a, now);
            continue;
        }
        auto it = a->slots.find(t.seq);
        if (it == a->slots.end() || it->second.state != OperationState::InProgress || it->second.actionOut) continue;
        Operation op = impl_->load(*a, it->second);
        it->second.actionOut = true;
        ++impl_->actionsOut;
        // Polls are not state changes and are not reported (thousands a minute on a large
        // rollout); re-starting an unacknowledged upgrade after a restart is.
        if (t.kind == TimerKind::Start)
            impl_->emit(now, "operation.restart", t.orchestrationID, op.operationID, op.runtimeID);
        out.push_back(Action{t.kind == TimerKind::Poll ? Action::Kind::Poll : Action::Kind::Start, a->orch.type,
                             std::make_shared<const Operation>(std::move(op)), 0, t.seq});
    }
    // Then free workers take ready operations, orchestrations in creation order.
    for (std::size_t i = 0; i < impl_->order.size();) {
        Active& a = *impl_->order[i];
        if (a.orch.state == OrchestrationState::Retrying) {
            impl_->setOrchState(a, OrchestrationState::InProgress, a.orch.description, now);
            store_.updateOrchestration(a.orch);
        }
        if (a.orch.state == OrchestrationState::InProgress) impl_->fill(a, now, out);
        const std::size_t before = impl_->order.size();
        impl_->maybeFinish(a, now);
        if (impl_->order.size() == before) ++i;
    }
    return out;
}

void Engine::complete(const Action& action, const StepResult& result, Millis now) {
    Active* a = impl_->find(action.operation().orchestrationID);
    if (!a) return;
    auto it = a->slots.find(action.operation().seq);
    if (it == a->slots.end() || it->second.operationID != action.operation().operationID || !it->second.actionOut)
        return;  // stale (e.g. handed out before a restart)
    Slot& s = it->second;
    s.actionOut = false;
    --impl_->actionsOut;
    const std::int64_t seq = action.operation().seq;
    switch (result.kind) {
        case StepResult::Kind::Done:
            impl_->finishOperation(*a, seq, OperationState::Succeeded,
                                   action.operation().dryRun ? "dry run: nothing was changed" : "upgrade succeeded", now);
            break;
        case StepResult::Kind::Failed:
            impl_->finishOperation(*a, seq, OperationState::Failed,
                                   result.reason.empty() ? "upgrade failed" : result.reason, now);
            break;
        case StepResult::Kind::Again: {
            if (s.startedAt && now - s.startedAt >= config_.operationTimeout) {
                impl_->finishOperation(*a, seq, OperationState::Failed, "operation has reached the time limit", now);
                break;
            }
            // The store is written only when something changed: the first acknowledgement of
            // the start, or a new progress note (polls are otherwise free of store I/O).
            const bool newNote = !result.reason.empty() && hashNote(result.reason) != s.noteHash;
            if (!s.upgradeStarted || newNote) {
                Operation op = impl_->load(*a, s);
                op.upgradeStarted = true;
                if (newNote) op.description = result.reason;
                op.updatedAt = now;
                store_.updateOperation(op);
                s.upgradeStarted = true;
                s.noteHash = hashNote(op.description);
            }
            const Millis after = result.retryAfter > 0 ? result.retryAfter : config_.pollInterval;
            impl_->timers.insert({now + after, a->orch.orchestrationID, seq, TimerKind::Poll});
            break;
        }
    }
    impl_->maybeFinish(*a, now);
}

std::optional<Millis> Engine::nextWakeup() const {
    std::optional<Millis> best;
    auto consider = [&](Millis t) {
        if (!best || t < *best) best = t;
    };
    if (!impl_->timers.empty()) consider(impl_->timers.begin()->at);
    for (const auto& a : impl_->order) {
        // A state change is due at once (retrying -> in progress; finished after a restart).
        if (a->orch.state == OrchestrationState::Retrying || (a->resolved && a->slots.empty()))
            consider(a->orch.updatedAt);
        if (a->orch.state != OrchestrationState::InProgress && a->orch.state != OrchestrationState::Retrying) continue;
        if (a->running < std::max(1, a->orch.parameters.strategy.workers) && !a->ready.empty())
            consider(a->ready.begin()->first);
    }
    return best;
}

std::size_t Engine::activeOrchestrations() const { return impl_->order.size(); }
std::size_t Engine::actionsOut() const { return impl_->actionsOut; }

}  // namespace keb
