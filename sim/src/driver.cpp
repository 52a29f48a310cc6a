// The simulator's driver (see simulation.h): the virtual clock and event queue, the timeline,
// injections, and the bookkeeping the report and the checkers read.
#include "keb/sim/simulation.h"

#include <algorithm>
#include <cstdio>

#include "keb/world/random.h"
#include "keb/timefmt.h"
#include "keb/windows.h"

namespace keb::sim {
namespace {

std::string hex64(std::uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

constexpr int kMaxHours = 24 * 400;
constexpr int kStallLimit = 10000;

}  // namespace

Simulation::Simulation(Scenario scenario, std::optional<std::uint64_t> seedOverride)
    : scenario_(std::move(scenario)),
      seed_(seedOverride.value_or(scenario_.seed)),
      ids_(mix64(seed_ ^ 0x6f7263686964ull)) {
    now_ = scenario_.start;
    fleet_ = std::make_unique<world::SimFleet>(scenario_.fleet, seed_);
    initialFleet_ = fleet_->size();
    runtimes_.reserve(initialFleet_);  // one entry per runtime that gets an operation
    statusNotesMax_ = std::max<std::size_t>(statusNotesMax_, initialFleet_);
    statusNotes_.reserve(statusNotesMax_);
    for (const auto& o : scenario_.outages) fleet_->addOutage(o.from, o.to, o.error);
    backend_ = std::make_unique<world::SimBackend>(scenario_.faults, seed_);
    backend_->reserve(initialFleet_, initialFleet_);  // about one upgrade per runtime: no regrowth
    submitToOrch_.assign(static_cast<std::size_t>(scenario_.submitCount), -1);
    for (std::size_t i = 0; i < scenario_.timeline.size(); ++i)
        queue_.push(scenario_.timeline[i].at, SimEvent::Kind::Timeline, static_cast<std::uint32_t>(i));
    for (std::size_t i = 0; i < scenario_.disappearances.size(); ++i)
        queue_.push(scenario_.disappearances[i].at, SimEvent::Kind::Disappear, static_cast<std::uint32_t>(i));
    // SPEC 14: when the notification service is up again the rows kept meanwhile go out, even if
    // nothing else happens then (the server's sender retries every 5 s).
    if (scenario_.engine.notifications)
        for (const auto& o : scenario_.notificationOutages) queue_.push(o.to, SimEvent::Kind::NotificationsUp);
    simEvent("sim.start", {{"scenario", scenario_.name},
                           {"seed", std::to_string(seed_)},
                           {"runtimes", std::to_string(initialFleet_)}});
    for (const CheckerSpec* spec : checkerRegistry())
        if (auto c = spec->make(scenario_)) {
            if (spec->watchesEvents) watchers_.push_back(c.get());
            if (spec->scansOperations) scanners_.push_back(c.get());
            checkers_.push_back(std::move(c));
        }
    recoverEngine();
    scheduleWakeup();
}

Simulation::~Simulation() {
    router_.reset();
    engine_.reset();
}

void Simulation::buildEngine() {
    engine_ = std::make_unique<Engine>(faulty_, *fleet_, ids_, scenario_.engine);
    engine_->setListener(this);
    router_ = std::make_unique<ApiRouter>(*engine_, faulty_);
}

void Simulation::recoverEngine() {
    for (;;) {
        buildEngine();
        try {
            engine_->recover(now_);
            return;
        } catch (const std::exception& ex) {
            // The store failed during recovery: this process dies too and the next one tries
            // again. Each attempt that fails used up an armed failure, so this ends.
            router_.reset();
            engine_.reset();
            ++generation_;
            ++restarts_;
            ++fatalRestarts_;
            simEvent("sim.fatal", {{"error", ex.what()}, {"during", "recover"}});
        }
    }
}

// A store write threw under Engine::tick or complete. keb-server logs engine.fatal and exits (its
// in-memory state may no longer match the store) and the supervisor starts it again; here the
// process restart is a simulated one.
void Simulation::fatal(const std::exception& ex) {
    simEvent("sim.fatal", {{"error", ex.what()}});
    ++fatalRestarts_;
    restart();
}

// ------------------------------------------------------------------ running

bool Simulation::finished() const { return queue_.empty() || queue_.top().at > scenario_.end; }

std::optional<Millis> Simulation::nextEventTime() const {
    if (finished()) return std::nullopt;
    return queue_.top().at;
}

bool Simulation::step() {
    if (finished()) return false;
    SimEvent ev = queue_.pop();
    now_ = std::max(now_, ev.at);
    ++eventsProcessed_;
    process(ev);
    if (scenario_.engine.notifications) deliverNotifications();
    return true;
}

// SPEC 14: what keb-server's sender thread does, once per step: the outbox rows the engine wrote
// (WriteBatch::notifications) are read from the store in sequence order, delivered, and marked.
// It reads and marks through the store itself, not the FaultyStore the engine writes through: a
// storeFailure is the broker's, the sender is not what it aims at.
void Simulation::deliverNotifications() {
    for (const auto& o : scenario_.notificationOutages)
        if (o.from <= now_ && now_ < o.to) return;  // down: the rows wait in the outbox
    notifications_.drain(store_, [&](const Notification& n, std::size_t tenants) {
        simEvent("sim.notify", {{"notification", toString(n.kind)},
                                {"orchestrationID", n.orchestrationID},
                                {"sequence", std::to_string(n.sequence)},
                                {"tenants", std::to_string(tenants)}});
    });
}

std::size_t Simulation::run(std::size_t maxEvents) {
    std::size_t n = 0;
    while (n < maxEvents && step()) ++n;
    return n;
}

void Simulation::advanceTo(Millis t) {
    t = std::min(t, scenario_.end);
    while (!queue_.empty() && queue_.top().at <= t) step();
    now_ = std::max(now_, t);
}

void Simulation::runToEnd() {
    while (step()) {
    }
}

void Simulation::process(const SimEvent& ev) {
    switch (ev.kind) {
        case SimEvent::Kind::Timeline:
            runTimeline(scenario_.timeline[ev.index]);
            break;
        case SimEvent::Kind::Wakeup:
            if (!wakeupAt_ || *wakeupAt_ != ev.at) return;  // superseded by an earlier wakeup
            wakeupAt_.reset();
            tickEngine();
            break;
        case SimEvent::Kind::Completion: {
            // Used in place (complete() never hands out actions, so the slot stays put); the
            // snapshot it shares is released at once.
            Pending& p = pending_[ev.index];
            freeSlots_.push_back(ev.index);
            if (ev.generation != generation_) {  // handed out before a restart: lost with the process
                ++droppedCompletions_;
                simEvent("sim.dropped", {{"operationID", p.action.operation().operationID},
                                         {"action", p.action.kind == Action::Kind::Start ? "start" : "poll"}});
                p.action.op.reset();
                return;
            }
            try {
                engine_->complete(p.action, p.result, now_);
            } catch (const std::exception& ex) {
                p.action.op.reset();
                fatal(ex);
                break;
            }
            p.action.op.reset();
            break;
        }
        case SimEvent::Kind::Disappear: {
            const auto& d = scenario_.disappearances[ev.index];
            if (!d.runtimeIDs.empty()) disappear(d.runtimeIDs);
            if (d.count > 0) disappear(d.count);
            break;
        }
        case SimEvent::Kind::End:
        case SimEvent::Kind::NotificationsUp:  // delivered by step() after this
            break;
    }
    scheduleWakeup();
}

void Simulation::tickEngine() {
    std::vector<Action>& actions = actions_;
    actions.clear();
    try {
        engine_->tick(now_, actions);
    } catch (const std::exception& ex) {
        actions.clear();  // never handed to a worker: the process died in the tick
        fatal(ex);
        return;
    }
    // The backend's records (and, for starts, the fleet's record the window check reads) are
    // random over 100,000 operations and runtimes: start loading them for every action of the
    // tick before the first one is served, so that the misses overlap.
    for (const Action& a : actions) {
        const bool starting = a.kind == Action::Kind::Start;
        backend_->prefetch(a.operation());
        if (starting) fleet_->prefetch(a.operation().runtimeID);
    }
    for (Action& a : actions) {
        // The result goes straight into a free slot (no Pending moved around per action).
        std::uint32_t slot;
        if (!freeSlots_.empty()) {
            slot = freeSlots_.back();
            freeSlots_.pop_back();
        } else {
            slot = static_cast<std::uint32_t>(pending_.size());
            pending_.emplace_back();
        }
        Pending& p = pending_[slot];
        StepResult& r = p.result;
        if (a.kind == Action::Kind::Start) {
            if (a.operation().startedAt == now_) checkStartWindow(a);
            const std::uint64_t before = backend_->upgrades();
            r = backend_->start(a.type, a.operation(), now_);
            if (backend_->upgrades() > before) {
                const world::UpgradeFate& f = backend_->lastFate();
                simEvent("sim.upgrade", {{"operationID", a.operation().operationID},
                                         {"runtimeID", a.operation().runtimeID},
                                         {"fate", f.hangs ? "hangs" : f.fails ? "fails" : "succeeds"},
                                         {"duration", formatDuration(f.duration)}});
            }
        } else {
            r = backend_->poll(a.type, a.operation(), now_);
        }
        p.action = std::move(a);
        queue_.push(now_ + backend_->plan().backendLatency, SimEvent::Kind::Completion, slot, generation_);
    }
}

void Simulation::scheduleWakeup() {
    std::optional<Millis> w = engine_->nextWakeup();
    if (!w) return;
    Millis t = std::max(*w, now_);
    if (t == now_ && wakeupAt_ == std::nullopt) {
        // Guard against an engine that keeps asking for "now" without progress.
        if (stallAt_ == now_) {
            if (++stallCount_ > kStallLimit) {
                if (!stalled_) {
                    stalled_ = true;
                    simEvent("sim.stall", {{"detail", "engine asked for a wakeup at the same instant " +
                                                          std::to_string(kStallLimit) + " times"}});
                }
                t = now_ + kSecond;
            }
        } else {
            stallAt_ = now_;
            stallCount_ = 0;
        }
    }
    if (!wakeupAt_ || t < *wakeupAt_) {
        wakeupAt_ = t;
        queue_.push(t, SimEvent::Kind::Wakeup);
    }
}

// ------------------------------------------------------------------ timeline

void Simulation::runTimeline(const TimelineEvent& t) {
    auto expectStatus = [&](int got, int def, const Json& body) {
        const bool expected = t.expectStatus.empty()
                                  ? got == def
                                  : std::find(t.expectStatus.begin(), t.expectStatus.end(), got) != t.expectStatus.end();
        if (!expected) {
            std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                                  ? ": " + body["error"].get<std::string>()
                                  : "";
            std::string want = std::to_string(t.expectStatus.empty() ? def : t.expectStatus[0]);
            for (std::size_t i = 1; i < t.expectStatus.size(); ++i) want += " or " + std::to_string(t.expectStatus[i]);
            addCheck(t.path + ".status", false, "expected HTTP " + want + ", got " + std::to_string(got) + why);
        } else if (!t.expectStatus.empty()) {
            addCheck(t.path + ".status", true, "HTTP " + std::to_string(got));
        }
    };
    auto orchestrationID = [&]() -> std::string {
        if (!t.orchestrationID.empty()) return t.orchestrationID;
        std::string id = submitted(t.orchestration);
        if (id.empty())
            addCheck(t.path, false, "submit #" + std::to_string(t.orchestration) + " was not accepted");
        return id;
    };
    using K = TimelineEvent::Kind;
    switch (t.kind) {
        case K::Submit: {
            ApiResponse r = api("POST", t.type == OrchestrationType::UpgradeKyma ? "/upgrade/kyma" : "/upgrade/cluster",
                                t.body);
            if (r.status == 202 && r.body.contains("orchestrationID")) {
                const std::string id = r.body["orchestrationID"].get<std::string>();
                if (OrchestrationInfo* info = infoFor(id)) {
                    info->submitIndex = t.submitIndex;
                    submitToOrch_[t.submitIndex] = static_cast<int>(info - orchs_.data());
                }
                simEvent("sim.submitted", {{"index", std::to_string(t.submitIndex)}, {"orchestrationID", id}});
            } else {
                simEvent("sim.rejected", {{"index", std::to_string(t.submitIndex)},
                                          {"status", std::to_string(r.status)},
                                          {"error", r.body.value("error", std::string())}});
            }
            expectStatus(r.status, 202, r.body);
            break;
        }
        case K::Api: {
            ApiResponse r = api(t.method, t.apiPath, t.body);
            if (!t.expectStatus.empty()) expectStatus(r.status, t.expectStatus[0], r.body);
            break;
        }
        case K::Cancel: {
            const std::string id = orchestrationID();
            if (id.empty()) break;
            ApiResponse r = api("PUT", "/orchestrations/" + id + "/cancel");
            expectStatus(r.status, 200, r.body);
            break;
        }
        case K::Pause:
        case K::Resume: {  // SPEC 10
            const std::string id = orchestrationID();
            if (id.empty()) break;
            ApiResponse r = api("PUT", "/orchestrations/" + id + (t.kind == K::Pause ? "/pause" : "/resume"));
            expectStatus(r.status, 200, r.body);
            break;
        }
        case K::Retry: {
            const std::string id = orchestrationID();
            if (id.empty()) break;
            std::string form;
            for (const auto& op : t.operationIDs) form += (form.empty() ? "" : "&") + std::string("operation-id=") + op;
            form += std::string(form.empty() ? "" : "&") + "immediate=" + (t.immediate ? "true" : "false");
            ApiResponse r = api("POST", "/orchestrations/" + id + "/retry", form, "application/x-www-form-urlencoded");
            expectStatus(r.status, 202, r.body);
            break;
        }
        case K::Restart:
            restart();
            break;
        case K::SetWindow: {
            std::string id = t.runtimeIDs.empty() ? "" : t.runtimeIDs[0];
            if (id.empty())
                if (const Runtime* rt = fleet_->byShoot(t.shoots[0])) id = rt->runtimeID;
            if (!setWindow(id, t.windowBegin, t.windowEnd))
                addCheck(t.path, false,
                         "setWindow: no runtime " + (t.runtimeIDs.empty() ? "with shoot " + t.shoots[0] : id));
            break;
        }
        case K::Advance:
            simEvent("sim.advance", {});
            break;
        case K::Outage:
            gardenerOutage(t.span, t.error);
            break;
        case K::FailureBurst:
            failureBurst(t.span, t.probability, t.region);
            break;
        case K::Disappear:
            if (!t.runtimeIDs.empty()) disappear(t.runtimeIDs);
            if (t.count > 0) disappear(t.count);
            break;
        case K::StoreFailure:
            storeFailure(t.count);
            break;
        case K::Check: {
            std::vector<CheckResult> out;
            checkOrchestration(*this, t.check, t.path, out);
            for (auto& c : out) {
                simEvent("sim.check", {{"name", c.name}, {"ok", c.ok ? "true" : "false"}, {"detail", c.detail}});
                timelineChecks_.push_back(std::move(c));
            }
            break;
        }
    }
}

// ------------------------------------------------------------------ injections

void Simulation::restart() {
    for (const auto& c : checkers_) c->onRestart(*this);
    const std::size_t lost = engine_->actionsOut();
    ++generation_;
    ++restarts_;
    router_.reset();
    engine_.reset();
    wakeupAt_.reset();
    simEvent("sim.restart", {{"actionsLost", std::to_string(lost)}, {"restarts", std::to_string(restarts_)}});
    recoverEngine();
    scheduleWakeup();
}

void Simulation::storeFailure(int writes) {
    faulty_.failNextWrites(writes);
    simEvent("sim.storeFailure", {{"writes", std::to_string(writes)}});
}

void Simulation::gardenerOutage(Millis span, const std::string& error) {
    fleet_->addOutage(now_, now_ + span, error);
    simEvent("sim.outage", {{"until", formatRfc3339(now_ + span)}, {"error", error}});
}

void Simulation::failureBurst(Millis span, double probability, const std::string& region) {
    backend_->plan().bursts.push_back(world::FailureBurst{now_, now_ + span, probability, region});
    char p[32];
    std::snprintf(p, sizeof p, "%g", probability);
    if (region.empty())  // the line of a burst over every region is as before
        simEvent("sim.failureBurst", {{"until", formatRfc3339(now_ + span)}, {"probability", p}});
    else
        simEvent("sim.failureBurst", {{"until", formatRfc3339(now_ + span)}, {"probability", p}, {"region", region}});
}

std::size_t Simulation::disappear(int count) {
    std::vector<std::uint32_t> idx(fleet_->size());
    for (std::uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
    world::Rng rng(mix64(seed_ ^ static_cast<std::uint64_t>(now_) ^ 0x646973ull));
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(std::max(0, count)), idx.size());
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i) {
        std::swap(idx[i], idx[i + rng.below(idx.size() - i)]);
        ids.push_back(fleet_->runtimeID(idx[i]));
    }
    return disappear(ids);
}

std::size_t Simulation::disappear(const std::vector<std::string>& runtimeIDs) {
    std::string list;
    for (const auto& id : runtimeIDs) list += (list.empty() ? "" : ",") + id;
    const std::size_t n = fleet_->remove(runtimeIDs);
    simEvent("sim.disappear", {{"removed", std::to_string(n)}, {"runtimeIDs", list}});
    return n;
}

bool Simulation::setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end) {
    const bool ok = fleet_->setWindow(runtimeID, begin, end);
    simEvent("sim.setWindow", {{"runtimeID", runtimeID}, {"begin", begin}, {"end", end}, {"ok", ok ? "true" : "false"}});
    scheduleWakeup();
    return ok;
}

ApiResponse Simulation::api(const std::string& method, const std::string& pathAndQuery, const std::string& body,
                            const std::string& contentType) {
    ApiRequest req;
    req.method = method;
    const auto q = pathAndQuery.find('?');
    req.path = urlDecode(pathAndQuery.substr(0, q));
    if (q != std::string::npos) req.query = parseQueryString(pathAndQuery.substr(q + 1));
    req.contentType = contentType;
    req.body = body;
    req.principal = Principal::all();
    ApiResponse r = router_->handle(req, now_);
    if (method != "GET") {  // reads do not change anything; keep the log independent of UI polling
        simEvent("sim.api", {{"method", method}, {"path", pathAndQuery}, {"status", std::to_string(r.status)}});
        scheduleWakeup();
    }
    return r;
}

// ------------------------------------------------------------------ observation

HourStats& Simulation::hour(Millis t) {
    const std::int64_t h = std::clamp<std::int64_t>((t - scenario_.start) / kHour, 0, kMaxHours);
    if (static_cast<std::size_t>(h) >= hourly_.size()) hourly_.resize(static_cast<std::size_t>(h) + 1);
    return hourly_[static_cast<std::size_t>(h)];
}

OrchestrationInfo* Simulation::infoFor(std::string_view orchestrationID) {
    if (lastInfo_ < orchs_.size() && orchs_[lastInfo_].orchestrationID == orchestrationID) return &orchs_[lastInfo_];
    auto it = orchIndex_.find(world::hashWords(orchestrationID));
    if (it == orchIndex_.end() || orchs_[it->second].orchestrationID != orchestrationID) return nullptr;
    lastInfo_ = it->second;
    return &orchs_[it->second];
}

void Simulation::onEvent(const EngineEvent& e) {
    log_.engineEvent(e);
    observe(e);
    for (Checker* c : watchers_) c->onEvent(*this, e);
}

void Simulation::observe(const EngineEvent& e) {

    const std::string_view k = e.kind;
    if (k == "orchestration.created") {
        if (!orchIndex_.count(world::hashWords(e.orchestrationID))) {
            OrchestrationInfo info;
            info.orchestrationID = std::string(e.orchestrationID);
            if (auto o = store_.getOrchestration(info.orchestrationID)) {
                const Strategy& st = o->parameters.strategy;
                info.workers = std::max(1, st.workers);
                info.usesWindows = st.maintenanceWindow;
                info.stages = st.stages;
                info.blackouts = st.blackouts;
                info.limit = info.stages.empty() ? info.workers : std::max(1, st.stages[0].workers.value_or(st.workers));
            }
            orchIndex_[world::hashWords(e.orchestrationID)] = static_cast<std::uint32_t>(orchs_.size());
            orchs_.push_back(std::move(info));
        }
        return;
    }
    if (k == "resolve.error") {
        ++resolveErrors_;
        return;
    }
    // Only these three kinds update the bookkeeping (operation.rescheduled, the most frequent
    // kind in window rollouts, and the others are logged only).
    const bool created = k == "operation.created", start = !created && k == "operation.start",
               state = !created && !start && k == "operation.state";
    if (!created && !start && !state) {
        if (k.starts_with("stage.")) observeStage(e);
        else if (k == "orchestration.state" && e.state == std::string_view("paused")) ++pauses_;
        return;
    }
    OrchestrationInfo* info = infoFor(e.orchestrationID);
    const int orchIdx = info ? static_cast<int>(info - orchs_.data()) : -1;
    const std::uint64_t runtimeKey = world::idKey(e.runtimeID);
    if (created) {
        noteStatus(runtimeKey, orchIdx, OperationState::Pending);
        return;
    }
    if (start) {
        // The Start action comes out of this tick and checkStartWindow looks the runtime up in
        // the fleet: start loading its index slot now, while the engine finishes the tick.
        if (info && info->usesWindows) fleet_->prefetchIndex(e.runtimeID);
        noteStatus(runtimeKey, orchIdx, OperationState::InProgress);
        {
            const auto [orch, inserted] = inProgress_.insert(world::idKey(e.operationID));
            if (!inserted) return;
            *orch = static_cast<std::uint32_t>(orchIdx);
        }
        HourStats& h = hour(e.at);
        ++h.started;
        ++inProgressTotal_;
        peakWorkers_ = std::max(peakWorkers_, inProgressTotal_);
        h.peakWorkers = std::max(h.peakWorkers, inProgressTotal_);
        if (info) {
            ++info->running;
            info->peakRunning = std::max(info->peakRunning, info->running);
            if (info->running > info->limit) {
                ++workerViolations_;
                if (violationSamples_.size() < kMaxSamples)
                    violationSamples_.push_back(
                        "workers exceeded: orchestration " + std::string(e.orchestrationID) + " runs " +
                        std::to_string(info->running) + " > " + std::to_string(info->limit) +
                        (info->stages.empty() || info->stageAt >= static_cast<int>(info->stages.size())
                             ? std::string()
                             : " (stage \"" + info->stages[static_cast<std::size_t>(info->stageAt)].name + "\")") +
                        " at " + formatRfc3339(e.at));
            }
        }
        if (++busy_[runtimeKey] > 1) {
            ++concurrentUpgrades_;
            if (violationSamples_.size() < kMaxSamples)
                violationSamples_.push_back("two upgrades of runtime " + std::string(e.runtimeID) + " at once at " +
                                            formatRfc3339(e.at));
        }
    } else {  // operation.state
        auto st = parseOperationState(e.state);
        if (!st) return;
        noteStatus(runtimeKey, orchIdx, *st);
        if (!isFinished(*st)) return;
        ++hour(e.at).finished;
        const std::uint64_t opKey = world::idKey(e.operationID);
        const std::uint32_t* orch = inProgress_.find(opKey);
        if (!orch) return;
        if (*orch < orchs_.size()) --orchs_[*orch].running;
        inProgress_.erase(opKey);
        --inProgressTotal_;
        if (int* b = busy_.find(runtimeKey); b && --*b == 0) busy_.erase(runtimeKey);
    }
}

// SPEC 10: the worker limit follows the engine's stage cursor: a stage's workers from its start,
// the next stage's once it finished (the engine's cursor moves on even while the next one waits),
// the strategy's after the last one.
void Simulation::observeStage(const EngineEvent& e) {
    const bool started = e.kind == std::string_view("stage.started");
    if (!started && e.kind != std::string_view("stage.finished")) return;
    OrchestrationInfo* info = infoFor(e.orchestrationID);
    if (!info) return;
    std::size_t k = 0;
    while (k < info->stages.size() && info->stages[k].name != e.stage) ++k;
    if (k == info->stages.size()) return;
    if (!started) ++k;
    info->stageAt = static_cast<int>(k);
    info->limit = k < info->stages.size() ? std::max(1, info->stages[k].workers.value_or(info->workers)) : info->workers;
}

std::size_t Simulation::WindowKeyHash::operator()(const world::SimFleet::WindowKey& k) const {
    std::uint64_t h = mix64(k.account ^ (std::uint64_t{k.planName} << 32));
    h = mix64(h ^ k.region ^ (std::uint64_t{k.windowBegin} << 32));
    return static_cast<std::size_t>(mix64(h ^ k.windowEnd));
}

void Simulation::checkStartWindow(const Action& a) {
    const Operation& op = a.operation();
    const OrchestrationInfo* info = infoFor(op.orchestrationID);
    if (!info || !info->usesWindows || op.immediate) return;
    bool ok = op.maintenanceWindowBegin <= now_ && now_ < op.maintenanceWindowEnd;
    bool outsideRuntimeWindow = false;
    world::SimFleet::WindowKey key;
    if (fleet_->windowKeyOf(op.runtimeID, &key)) {  // the runtime's window now, from the fleet
        const MaintenancePolicy& policy = scenario_.engine.policy;
        if (policy.rules.empty()) key.account = key.planName = key.region = 0;  // only the window decides
        auto it = windowCache_.find(key);
        if (it == windowCache_.end()) {
            if (windowCache_.size() >= 4096) windowCache_.clear();
            fleet_->windowFieldsInto(op.runtimeID, windowCheck_);
            it = windowCache_.emplace(key, effectiveWindow(windowCheck_, policy)).first;
        }
        outsideRuntimeWindow = it->second && !insideWindow(*it->second, now_);
    }
    if (ok && !outsideRuntimeWindow) return;
    ++windowViolations_;
    if (violationSamples_.size() >= kMaxSamples) return;
    std::string why = "outside its recorded window";
    if (outsideRuntimeWindow && fleet_->windowFieldsInto(op.runtimeID, windowCheck_))
        why = "outside the runtime's window " + windowCheck_.windowBegin + "-" + windowCheck_.windowEnd;
    violationSamples_.push_back("operation " + op.operationID + " started at " + formatRfc3339(now_) + " " + why);
}

void Simulation::forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) {
    store_.forEachOperation(orchestrationID, fn);  // streams: never a copy of 100,000 operations at once
}

std::string Simulation::submitted(int i) const {
    if (i < 0 || static_cast<std::size_t>(i) >= submitToOrch_.size() || submitToOrch_[i] < 0) return "";
    return orchs_[static_cast<std::size_t>(submitToOrch_[i])].orchestrationID;
}

void Simulation::noteStatus(std::uint64_t key, int orchestration, OperationState state) {
    statusNotes_.push_back(StatusNote{key, orchestration, state});
    if (statusNotes_.size() >= statusNotesMax_) flushStatus();
}

void Simulation::flushStatus() const {
    constexpr std::size_t kAhead = 16;
    const std::size_t n = statusNotes_.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (i + kAhead < n) runtimes_.prefetch(statusNotes_[i + kAhead].key);
        const StatusNote& note = statusNotes_[i];
        runtimes_[note.key] = RuntimeStatus{note.orchestration, note.state};
    }
    statusNotes_.clear();
}

std::optional<RuntimeStatus> Simulation::runtimeStatus(const std::string& runtimeID) const {
    flushStatus();
    const RuntimeStatus* rt = runtimes_.find(world::idKey(runtimeID));
    if (!rt) return std::nullopt;
    return *rt;
}

std::optional<Operation> Simulation::latestOperation(const std::string& runtimeID) {
    auto st = runtimeStatus(runtimeID);
    if (!st || st->orchestration < 0) return std::nullopt;
    std::optional<Operation> best;
    forEachOperation(orchs_[static_cast<std::size_t>(st->orchestration)].orchestrationID, [&](const Operation& op) {
        if (op.runtimeID == runtimeID && (!best || op.seq > best->seq)) best = op;
    });
    return best;
}

std::size_t Simulation::approxBytes() const {
    return fleet_->approxBytes() + backend_->approxBytes() +
           runtimes_.bytes() + statusNotes_.capacity() * sizeof(StatusNote) + inProgress_.bytes() + busy_.bytes() +
           queue_.size() * sizeof(SimEvent) + pending_.capacity() * sizeof(Pending);
}

// ------------------------------------------------------------------ checks

void Simulation::addCheck(std::string name, bool ok, std::string detail) {
    simEvent("sim.check", {{"name", name}, {"ok", ok ? "true" : "false"}, {"detail", detail}});
    timelineChecks_.push_back(CheckResult{std::move(name), ok, std::move(detail)});
}

std::vector<CheckResult> Simulation::checks(bool final) {
    std::vector<CheckResult> out = timelineChecks_;
    if (stalled_) out.push_back({"engine", false, "the engine stalled (kept asking for a wakeup without progress)"});
    if (!final) return out;
    if (!scanners_.empty())
        for (const auto& info : orchs_) {
            forEachOperation(info.orchestrationID, [&](const Operation& op) {
                for (Checker* c : scanners_) c->scan(*this, info, op);
            });
            for (Checker* c : scanners_) c->scanDone(*this, info);
        }
    for (const auto& c : checkers_) c->verdict(*this, out);
    return out;
}

Json Simulation::summary() {
    Json j;
    j["scenario"] = scenario_.name;
    j["file"] = scenario_.file;
    j["seed"] = seed_;
    j["start"] = formatRfc3339(scenario_.start);
    j["end"] = formatRfc3339(now_);
    j["simulatedSpan"] = formatDuration(now_ - scenario_.start);
    j["simulatedSpanMs"] = now_ - scenario_.start;
    j["finished"] = finished();
    j["activeOrchestrations"] = engine_->activeOrchestrations();  // > 0: the run was cut at its end
    j["events"] = eventsProcessed_;
    j["eventLogLines"] = log_.lines();
    j["eventLogHash"] = hex64(log_.hash());
    j["fleet"] = {{"runtimes", initialFleet_}, {"live", fleet_->size()},
                  {"snapshots", fleet_->snapshotCalls()}, {"failedSnapshots", fleet_->failedSnapshots()}};
    j["restarts"] = restarts_;
    j["backend"] = {{"upgrades", backend_->upgrades()},           {"duplicateStarts", backend_->duplicateStarts()},
                    {"polls", backend_->polls()},                 {"succeeded", backend_->successesReported()},
                    {"failed", backend_->failuresReported()},     {"unknownPolls", backend_->pollsOfUnknown()},
                    {"droppedCompletions", droppedCompletions_}};
    j["resolveErrors"] = resolveErrors_;
    if (scenario_.engine.notifications) {  // SPEC 14 (only then: older reports stay as they were)
        Json n = notifications_.summary();
        n["queued"] = store_.pendingNotificationCount();
        j["notifications"] = std::move(n);
    }
    Json orchs = Json::array();
    OperationStats totals;
    for (const auto& info : orchs_) {
        Json o;
        o["index"] = info.submitIndex;
        o["orchestrationID"] = info.orchestrationID;
        if (auto stored = store_.getOrchestration(info.orchestrationID)) {
            o["type"] = toString(stored->type);
            o["state"] = toString(stored->state);
            o["description"] = stored->description;
            o["updatedAt"] = formatRfc3339(stored->updatedAt);
        }
        const OperationStats stats = store_.operationStats(info.orchestrationID);
        for (const auto& [s, n] : stats) totals[s] += n;
        o["operationStats"] = toJson(stats);
        o["workers"] = info.workers;
        o["peakWorkers"] = info.peakRunning;
        orchs.push_back(std::move(o));
    }
    j["orchestrations"] = std::move(orchs);
    j["operationStates"] = toJson(totals);
    j["peakWorkersInUse"] = peakWorkers_;
    j["violations"] = {{"window", windowViolations_},
                       {"workers", workerViolations_},
                       {"concurrentUpgrades", concurrentUpgrades_},
                       {"samples", violationSamples_}};
    Json hours = Json::array();
    for (std::size_t h = 0; h < hourly_.size(); ++h)
        hours.push_back({{"hour", h}, {"started", hourly_[h].started}, {"finished", hourly_[h].finished},
                         {"peakWorkers", hourly_[h].peakWorkers}});
    j["hourly"] = std::move(hours);
    Json cs = Json::array();
    bool passed = true;
    for (const auto& c : checks(true)) {
        passed = passed && c.ok;
        cs.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    }
    j["checks"] = std::move(cs);
    j["passed"] = passed;
    return j;
}

}  // namespace keb::sim
