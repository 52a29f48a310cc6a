// The orchestration engine: state machines of SPEC 4, the parallel strategy of
// SPEC 5, the step protocol of SPEC 6 and restart recovery of SPEC 7.
//
// Memory layout: the store owns the operations; the engine keeps, per unfinished
// operation of an orchestration it drives, a small Slot (ids, start time, state)
// and reads the full record from the store only when it changes it.
#include "keb/engine.h"

#include "keb/bits.h"
#include "keb/big_alloc.h"
#include "keb/notify.h"

#include "detail/packed_id.h"
#include "detail/ready_calendar.h"
#include "detail/timer_queue.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <map>
#include <queue>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "keb/rollout.h"
#include "keb/targets.h"
#include "keb/uuid.h"
#include "keb/timefmt.h"

namespace keb {
namespace {

enum class TimerKind : std::uint8_t { Resolve = 0, Start = 1, Poll = 2 };

// Timers are removed lazily: a timer whose orchestration is no longer active, or whose operation
// moved on, is skipped when it comes up.
struct Timer {
    Millis at;
    std::uint32_t orch;  // Active::handle
    TimerKind kind;
    std::int64_t seq;    // operation seq; -1 for orchestration timers
};
struct TimerLater {
    bool operator()(const Timer& a, const Timer& b) const {
        if (a.at != b.at) return a.at > b.at;  // nearly always decides
        return std::tie(a.orch, a.seq, a.kind) > std::tie(b.orch, b.seq, b.kind);
    }
};

using TimerQueue = detail::TimerQueue<Timer, TimerLater>;  // polls arrive in order: mostly a FIFO

// Operation and runtime ids are kept packed (detail/packed_id.h); odd ones in Active::ids.
using detail::PackedId;

// What the engine derived from a runtime (kept in its operation's slot, see Slot::facts).
struct RuntimeFacts {
    bool deprovisioning = false;
    bool suspended = false;
    bool hasWindow = false;  // window holds the runtime's effective window
    WindowSpec window;
    bool skip() const { return deprovisioning || suspended; }
};

// What an operation in progress has beyond its slot (Active::flights, by Slot::flight): the
// stored record as a shared snapshot, so that polls and their results need no store read.
struct Flight {
    std::shared_ptr<const Operation> snap;
    Millis startedAt = 0;         // snap->startedAt
    std::uint64_t noteHash = 0;   // hash of the stored description (progress note)
};
constexpr std::uint32_t kNoFlight = 0xffffffffu;

// One operation of an orchestration the engine drives, by seq (the per-orchestration creation
// index, dense from 0): one cache line. Finished operations keep a dead slot until the
// orchestration ends. The ids are packed (detail/packed_id.h: 16 bytes, the odd flag here).
struct alignas(64) Slot {
    Millis startAt = 0;
    // What the engine last derived from the runtime (it exists, and facts), valid while the
    // fleet's generation is factsGeneration (FleetSource::generation): see facts().
    std::uint64_t factsGeneration = 0;
    std::int32_t windowBegin = 0;  // the facts' WindowSpec::beginSec
    std::int32_t windowEnd = 0;    // and endSec
    unsigned char id[16] = {};       // the operation's
    unsigned char runtime[16] = {};  // its runtime's
    std::uint32_t flight = kNoFlight;  // in progress: its Flight
    OperationState state : 4 = OperationState::Pending;
    bool live : 1 = false;         // pending or in progress
    bool immediate : 1 = false;    // retry with immediate=true: no windows
    bool factsKnown : 1 = false;
    bool actionOut : 1 = false;
    bool blocked : 1 = false;      // waiting for another upgrade of the same runtime
    bool acked : 1 = false;        // the store has upgradeStarted (the snapshot may not: see complete)
    bool idOdd : 1 = false;        // PackedId::odd of id
    bool runtimeOdd : 1 = false;   // and of runtime
    bool deprovisioning : 1 = false;  // the facts
    bool suspended : 1 = false;
    bool hasWindow : 1 = false;
    std::uint8_t windowDays : 7 = 0x7f;

    PackedId idPacked() const { return packed(id, idOdd); }
    PackedId runtimePacked() const { return packed(runtime, runtimeOdd); }
    // The id's UUID bytes, nullptr when it is odd (the store checks ids by these).
    const unsigned char* idUuid() const { return idOdd ? nullptr : id; }
    const unsigned char* runtimeUuid() const { return runtimeOdd ? nullptr : runtime; }
    void setId(const PackedId& p) {
        std::memcpy(id, p.bytes, sizeof id);
        idOdd = p.odd;
    }
    void setRuntime(const PackedId& p) {
        std::memcpy(runtime, p.bytes, sizeof runtime);
        runtimeOdd = p.odd;
    }
    RuntimeFacts facts() const {
        RuntimeFacts f;
        f.deprovisioning = deprovisioning;
        f.suspended = suspended;
        f.hasWindow = hasWindow;
        f.window.beginSec = windowBegin;
        f.window.endSec = windowEnd;
        f.window.days = windowDays;
        return f;
    }
    void setFacts(const RuntimeFacts& f) {
        deprovisioning = f.deprovisioning;
        suspended = f.suspended;
        hasWindow = f.hasWindow;
        windowBegin = f.window.beginSec;
        windowEnd = f.window.endSec;
        windowDays = static_cast<std::uint8_t>(f.window.days & 0x7f);
    }

private:
    static PackedId packed(const unsigned char* bytes, bool odd) {
        PackedId p;
        std::memcpy(p.bytes, bytes, sizeof p.bytes);
        p.odd = odd;
        return p;
    }
};
static_assert(sizeof(Slot) == 64, "a slot is one cache line");

std::uint64_t hashNote(std::string_view s) { return fnv1a(s); }

void prefetchSlot(const Slot* s) { prefetch(s); }

using detail::ReadyEntry;

struct Active {
    Orchestration orch;
    std::uint32_t handle = 0;
    // By seq. 64 bytes per operation (6.4 MB for 100,000): huge pages when that big, so that
    // filling it at resolution or recovery takes a few page faults instead of thousands.
    std::vector<Slot, BigAllocator<Slot>> slots;
    // Operations in progress (Slot::flight); freed entries are reused.
    std::vector<Flight> flights;
    std::vector<std::uint32_t> freeFlights;
    detail::IdTable ids;      // the odd (not UUID-shaped) ids of its slots
    std::size_t liveCount = 0;
    // Pending, not blocked operations by (startAt, seq); stale entries are skipped (lazy removal).
    detail::ReadyCalendar ready;
    int running = 0;  // operations in progress
    std::int64_t nextSeq = 0;
    bool resolved = false;  // operations exist (state left pending)
    // An active orchestration of the same type was created before this one: this one's
    // in-progress and succeeded operations are recorded as claims (Impl::claims).
    bool olderSameType = false;

    // SPEC 10, set up only when the request (or the server) has stages, a budget or blackouts:
    // a Part I orchestration never looks at any of it.
    bool policy = false;
    bool staged = false;                     // strategy.stages is not empty
    std::vector<std::int64_t> stageLive;     // unfinished operations per stage
    std::vector<std::int64_t> stageFailed;   // failed operations per stage (acknowledged ones too)
    std::int64_t failed = 0;                 // failed operations of the orchestration (all of them)
    std::size_t cursor = 0;                  // the first stage not finished
    BlackoutCalendar blackouts;              // the request's and the server's
    Millis blackoutUntil = 0;                // fill stopped for a blackout that ends then
    int stageOf(std::int64_t seq) const { return staged ? stageOfSeq(orch.rollout, seq) : -1; }

    void pack(std::string_view text, PackedId& id) { ids.pack(text, id); }
    // An id given as its 16 bytes (a packed brief) when uuid is set, else as text.
    void pack(const unsigned char* uuid, std::string_view text, PackedId& id) {
        if (!uuid) return ids.pack(text, id);
        id = PackedId{};
        std::memcpy(id.bytes, uuid, sizeof id.bytes);
    }
    void unpack(const PackedId& id, std::string& out) const { ids.unpack(id, out); }
    void operationIDInto(const Slot& s, std::string& out) const { unpack(s.idPacked(), out); }
    void runtimeIDInto(const Slot& s, std::string& out) const { unpack(s.runtimePacked(), out); }

    // The Flight of a slot in progress (nullptr otherwise).
    const Flight* flight(const Slot& s) const { return s.flight == kNoFlight ? nullptr : &flights[s.flight]; }
    Flight* flight(const Slot& s) { return s.flight == kNoFlight ? nullptr : &flights[s.flight]; }
    // The slot goes in progress with snap, whose description is the stored note (a reference
    // valid until the next startFlight).
    Flight& startFlight(Slot& s, std::shared_ptr<const Operation> snap) {
        if (s.flight == kNoFlight) {
            if (freeFlights.empty()) {
                s.flight = static_cast<std::uint32_t>(flights.size());
                flights.emplace_back();
            } else {
                s.flight = freeFlights.back();
                freeFlights.pop_back();
            }
        }
        Flight& f = flights[s.flight];
        f.snap = std::move(snap);
        f.startedAt = f.snap->startedAt;
        f.noteHash = hashNote(f.snap->description);
        return f;
    }
    // Ends the slot's flight, if any: its snapshot (null without one).
    std::shared_ptr<const Operation> endFlight(Slot& s) {
        if (s.flight == kNoFlight) return {};
        Flight& f = flights[s.flight];
        std::shared_ptr<const Operation> snap = std::move(f.snap);
        f = Flight{};
        freeFlights.push_back(s.flight);
        s.flight = kNoFlight;
        return snap;
    }
    Slot* slot(std::int64_t seq) {
        if (seq < 0 || static_cast<std::size_t>(seq) >= slots.size()) return nullptr;
        Slot& s = slots[static_cast<std::size_t>(seq)];
        return s.live ? &s : nullptr;
    }
    bool isReady(const ReadyEntry& e) {
        const Slot* s = slot(e.seq);
        return s && s->state == OperationState::Pending && !s->blocked && s->startAt == e.startAt;
    }
    bool readyTopChecked = false;  // the top was found ready and nothing changed since
    void pushReady(Millis startAt, std::int64_t seq) {
        ready.push(startAt, seq);
        readyTopChecked = false;
    }
    // Returns the seq whose slot it prefetched (-1: none), read a few pops from now.
    std::int64_t popReady() {
        ready.pop();
        readyTopChecked = false;
        const std::int64_t next = ready.ahead(4);  // its slot is read a few pops from now
        if (next < 0 || static_cast<std::size_t>(next) >= slots.size()) return -1;
        prefetchSlot(&slots[static_cast<std::size_t>(next)]);
        return next;
    }
    void pruneReady() {
        if (readyTopChecked) return;
        while (!ready.empty() && !isReady(ready.top())) ready.pop();
        readyTopChecked = true;
    }
};

const std::string kWindowMissed = "maintenance window missed, moved to the next window";

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
    std::vector<Active*> byHandle{nullptr};  // by handle (1, 2, ...); nullptr once inactive
    std::uint32_t nextHandle = 1;
    TimerQueue timers;
    // Runtimes with an upgrade in progress (global over orchestrations, SPEC 6: one upgrade per
    // runtime at a time) -> that operation. UUID runtime ids by their packed bytes (no text is
    // made to ask), any other id by its text.
    struct Owner {
        std::uint32_t handle;
        std::int64_t seq;
    };
    detail::PackedIdMap<Owner> busy;
    const Owner* busyOwner(const Active& a, const Slot& s) { return busy.find(s.runtimePacked(), a.ids); }
    void markBusy(const Active& a, const Slot& s, std::int64_t seq) {
        busy.at(s.runtimePacked(), a.ids) = Owner{a.handle, seq};
    }
    // runtimeID -> operations waiting for it (orchestration handle, seq).
    std::unordered_map<std::string, std::vector<std::pair<std::uint32_t, std::int64_t>>> waiting;
    std::size_t actionsOut = 0;

    // SPEC 4, never back to an older target (b): by type and runtime, the operations in progress
    // or succeeded of orchestrations that are newer than some active orchestration of the same
    // type (only those can supersede anything). Dry runs change nothing and claim nothing.
    // Kept while orchestrations of the type are active; rebuilt from the store on recovery.
    struct Claim {
        Millis createdAt;             // of its orchestration
        std::string orchestrationID;  // (createdAt, orchestrationID) is the creation order
        std::string operationID;
    };
    std::unordered_map<std::string, std::vector<Claim>> claims[2];  // by OrchestrationType
    static int typeIndex(OrchestrationType t) { return t == OrchestrationType::UpgradeKyma ? 0 : 1; }
    static bool newer(Millis createdAt, const std::string& id, const Orchestration& than) {
        return std::tie(createdAt, id) > std::tie(than.createdAt, than.orchestrationID);
    }
    void addClaim(const Active& a, const std::string& runtimeID, std::string_view operationID) {
        auto& list = claims[typeIndex(a.orch.type)][runtimeID];
        for (const Claim& c : list)
            if (c.operationID == operationID) return;
        list.push_back(Claim{a.orch.createdAt, a.orch.orchestrationID, std::string(operationID)});
    }
    void dropClaim(const Active& a, const std::string& runtimeID, std::string_view operationID) {
        auto& byRuntime = claims[typeIndex(a.orch.type)];
        auto it = byRuntime.find(runtimeID);
        if (it == byRuntime.end()) return;
        std::erase_if(it->second, [&](const Claim& c) { return c.operationID == operationID; });
        if (it->second.empty()) byRuntime.erase(it);
    }
    // The newest claim on runtimeID by an orchestration created after `a` (nullptr: none).
    const Claim* supersededBy(const Active& a, const std::string& runtimeID) const {
        const auto& byRuntime = claims[typeIndex(a.orch.type)];
        auto it = byRuntime.find(runtimeID);
        if (it == byRuntime.end()) return nullptr;
        const Claim* best = nullptr;
        for (const Claim& c : it->second)
            if (newer(c.createdAt, c.orchestrationID, a.orch) &&  // strictly newer: never a's own
                (!best || std::tie(c.createdAt, c.orchestrationID) > std::tie(best->createdAt, best->orchestrationID)))
                best = &c;
        return best;
    }
    // An operation of `a` reached a state that may supersede older orchestrations' operations.
    void noteOperationState(const Active& a, const std::string& runtimeID, std::string_view operationID,
                            OperationState state) {
        if (a.orch.parameters.dryRun) return;
        if (state == OperationState::Failed || state == OperationState::Canceled) {
            if (!claims[typeIndex(a.orch.type)].empty()) dropClaim(a, runtimeID, operationID);
        } else if (a.olderSameType && (state == OperationState::InProgress || state == OperationState::Succeeded)) {
            addClaim(a, runtimeID, operationID);
        }
    }
    // Visits every stored operation (brief) of the orchestrations of `type` created after `than`
    // that are not dry runs (any state), with its orchestration: what can supersede `than`'s
    // operations. fn must not call into the store.
    template <class Fn>
    void forEachNewerOperation(OrchestrationType type, const Orchestration& than, Fn&& fn) {
        OrchestrationQuery q;
        q.pageSize = 500;
        for (q.page = 1;; ++q.page) {
            const Page<Orchestration> page = e.store_.listOrchestrations(q);
            for (const Orchestration& o : page.data) {
                if (o.type != type || o.parameters.dryRun || !newer(o.createdAt, o.orchestrationID, than)) continue;
                e.store_.forEachOperationBrief(o.orchestrationID,
                                               [&](const Store::OperationBrief& op) { fn(o, op); });
            }
            if (page.data.size() < static_cast<std::size_t>(q.pageSize)) break;
        }
    }
    // After a restart: the claims of every stored orchestration newer than the oldest active one
    // of its type (what the engine would have recorded had it not stopped).
    void rebuildClaims() {
        for (auto& c : claims) c.clear();
        const Active* oldest[2] = {nullptr, nullptr};
        for (const auto& p : order)
            if (!oldest[typeIndex(p->orch.type)]) oldest[typeIndex(p->orch.type)] = p.get();
        for (const Active* a : oldest) {
            if (!a) continue;
            auto& byRuntime = claims[typeIndex(a->orch.type)];
            forEachNewerOperation(a->orch.type, a->orch, [&](const Orchestration& o, const Store::OperationBrief& op) {
                if (op.state == OperationState::InProgress || op.state == OperationState::Succeeded)
                    byRuntime[std::string(op.runtimeID)].push_back(
                        Claim{o.createdAt, o.orchestrationID, std::string(op.operationID)});
            });
        }
    }

    // Recomputes olderSameType (orchestrations are activated and deactivated rarely) and drops
    // the claims of a type no active orchestration has.
    void refreshTypes() {
        bool seen[2] = {false, false};
        for (const auto& p : order) {
            const int t = typeIndex(p->orch.type);
            p->olderSameType = seen[t];
            seen[t] = true;
        }
        for (int t = 0; t < 2; ++t)
            if (!seen[t]) claims[t].clear();
    }

    // --- writes: every engine write is ONE Store::apply (one transaction) ---------------
    // The frequent ones reuse a batch whose single part keeps its strings' capacity (no
    // allocation per write); the label names the write for logs and fault injection.
    Store::WriteBatch progressBatch;  // one progress change (progressOf fills it)
    Store::WriteBatch orchBatch;      // one whole orchestration
    Store::WriteBatch movesBatch;     // one set of window moves
    Store::ProgressChange& progressChange() { return progressBatch.progress[0].change; }
    void commitProgress(const Active& a) {
        progressBatch.progress[0].orchestrationID = a.orch.orchestrationID;
        e.store_.apply(progressBatch);
    }
    // commitProgress with one outbox row in the same transaction (SPEC 14).
    void commitProgress(const Active& a, Notification::Kind kind, std::string payload) {
        Notification& n = progressBatch.notifications.emplace_back();
        n.kind = kind;
        n.orchestrationID = a.orch.orchestrationID;
        n.payload = std::move(payload);
        struct Clear {
            std::vector<Notification>& v;
            ~Clear() { v.clear(); }
        } clear{progressBatch.notifications};
        commitProgress(a);
    }
    // SPEC 14: does this orchestration's state change write notifications?
    bool notifies(const Active& a) const {
        return e.config_.notifications && a.orch.parameters.notification && !a.orch.parameters.dryRun;
    }
    // Writes orchestration `o` (whole record). The batch borrows it (a swap, no copy).
    void writeOrchestration(Orchestration& o) {
        std::swap(orchBatch.updatedOrchestrations[0], o);
        struct Back {
            Orchestration& a;
            Orchestration& b;
            ~Back() { std::swap(a, b); }
        } back{orchBatch.updatedOrchestrations[0], o};
        e.store_.apply(orchBatch);
    }
    void writeOrchestration(const Orchestration& o) {
        Orchestration copy = o;
        writeOrchestration(copy);
    }
    // Writes window moves of one orchestration (rescheduleOperations); `changes` is borrowed.
    void writeMoves(const std::string& orchestrationID, std::vector<Store::ScheduleChange>& changes,
                    const std::string* description, Millis updatedAt) {
        Store::WriteBatch::Moves& m = movesBatch.moves[0];
        m.orchestrationID = orchestrationID;
        if (description) m.description = *description;
        else m.description.reset();
        m.updatedAt = updatedAt;
        std::swap(m.changes, changes);
        struct Back {
            std::vector<Store::ScheduleChange>& a;
            std::vector<Store::ScheduleChange>& b;
            ~Back() { std::swap(a, b); }
        } back{m.changes, changes};
        e.store_.apply(movesBatch);
    }

    // The reused progress write for operation seq of `a`, with the fields every write sets and
    // none of the optional ones (callers add those). The id's text is copied from the snapshot
    // (or idText, the caller's copy) when there is one, not made from the packed id again.
    Store::ProgressChange& progressOf(const Active& a, const Slot& s, std::int64_t seq, OperationState state,
                                      const std::string* description, Millis now,
                                      const std::string* idText = nullptr) {
        Store::ProgressChange& c = progressChange();
        c.operationUuid = s.idUuid();  // the store checks the id by these
        if (const Flight* f = a.flight(s); !idText && f) idText = &f->snap->operationID;
        if (idText) c.operationID = *idText;
        else a.operationIDInto(s, c.operationID);
        c.seq = seq;
        c.state = state;
        c.description = description;
        c.updatedAt = now;
        c.startedAt.reset();
        c.upgradeStarted.reset();
        c.window.reset();
        return c;
    }
    Runtime runtime;
    std::string idBuf, rtBuf;
    std::vector<Store::ScheduleChange> moves;  // fill()'s window moves not written yet (flushMoves)
    // The id strings of written moves (up to 256), kept for the next ones: a rollout moves about
    // 2.5 times per operation, and a fresh string per move cost a malloc and a free.
    std::vector<std::string> spareMoveIds;
    Store::ScheduleChange& newMove() {
        Store::ScheduleChange& m = moves.emplace_back();
        if (!spareMoveIds.empty()) {
            m.operationID = std::move(spareMoveIds.back());
            spareMoveIds.pop_back();
        }
        return m;
    }
    void clearMoves() {
        for (Store::ScheduleChange& m : moves)
            if (spareMoveIds.size() < 256) spareMoveIds.push_back(std::move(m.operationID));  // a few batches' worth
        moves.clear();
    }
    std::string movedRt;

    char timeText[2 * kRfc3339Max + 1];  // event details: a time, or a window "begin/end"

    explicit Impl(Engine& engine) : e(engine) {
        progressBatch.progress.resize(1);
        progressBatch.label = "updateOperationProgress";
        orchBatch.updatedOrchestrations.resize(1);
        orchBatch.label = "updateOrchestration";
        movesBatch.moves.resize(1);
        movesBatch.label = "rescheduleOperations";
    }

    std::string_view timeDetail(Millis t) { return {timeText, formatRfc3339To(t, timeText)}; }
    std::string_view windowDetail(Millis begin, Millis end) {
        std::size_t n = formatRfc3339To(begin, timeText);
        timeText[n++] = '/';
        n += formatRfc3339To(end, timeText + n);
        return {timeText, n};
    }

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
    Active* findHandle(std::uint32_t h) {
        return h < byHandle.size() ? byHandle[h] : nullptr;
    }

    Active& activate(const Orchestration& o) {
        auto a = std::make_unique<Active>();
        a->orch = o;
        a->handle = nextHandle++;
        setUpPolicy(*a);
        Active* raw = a.get();
        auto pos = std::upper_bound(order.begin(), order.end(), o, [](const Orchestration& v, const auto& p) {
            return std::tie(v.createdAt, v.orchestrationID) < std::tie(p->orch.createdAt, p->orch.orchestrationID);
        });
        order.insert(pos, std::move(a));
        byId[o.orchestrationID] = raw;
        byHandle.push_back(raw);  // handles are given out in order
        refreshTypes();
        return *raw;
    }

    // Timers of the orchestration are dropped lazily (they find no active orchestration).
    void deactivate(const std::string& id) {
        auto it = byId.find(id);
        if (it == byId.end()) return;
        byHandle[it->second->handle] = nullptr;
        byId.erase(it);
        order.erase(std::remove_if(order.begin(), order.end(),
                                   [&](const auto& p) { return p->orch.orchestrationID == id; }),
                    order.end());
        refreshTypes();
    }

    void addTimer(Millis at, const Active& a, TimerKind kind, std::int64_t seq = -1) {
        timers.push(Timer{at, a.handle, kind, seq});
    }

    void prefetchTimer(const Timer& t) {
        const Active* a = findHandle(t.orch);
        if (a && t.seq >= 0 && static_cast<std::size_t>(t.seq) < a->slots.size())
            prefetchSlot(&a->slots[static_cast<std::size_t>(t.seq)]);
    }

    // A timer that can still do something.
    bool timerLive(const Timer& t) {
        Active* a = findHandle(t.orch);
        if (!a) return false;
        if (t.kind == TimerKind::Resolve) return true;
        const Slot* s = a->slot(t.seq);
        return s && s->state == OperationState::InProgress && !s->actionOut;
    }

    void setOrchState(Active& a, OrchestrationState s, std::string description, Millis now) {
        a.orch.state = s;
        a.orch.description = std::move(description);
        a.orch.updatedAt = now;
        emit(now, "orchestration.state", a.orch.orchestrationID, {}, {}, toString(s), a.orch.description);
    }

    // --- windows -------------------------------------------------------------

    bool usesWindows(const Active& a, bool immediate) const {
        return a.orch.parameters.strategy.maintenanceWindow && !immediate;
    }

    // The facts of rt (its window only when windowed); false with *why when windowed and the
    // window cannot be parsed.
    bool derive(const Runtime& rt, bool windowed, RuntimeFacts& f, std::string* why) const {
        f = RuntimeFacts{};
        f.deprovisioning = rt.deprovisioning;
        f.suspended = rt.suspended;
        if (!windowed) return true;
        auto spec = effectiveWindow(rt, e.config_.policy, why);
        if (!spec) return false;
        f.hasWindow = true;
        f.window = *spec;
        return true;
    }
    // Keeps facts in the slot while the fleet's generation stays gen (nothing kept without one).
    static void remember(Slot& s, std::optional<std::uint64_t> gen, const RuntimeFacts& f) {
        s.factsKnown = gen.has_value();
        s.factsGeneration = gen.value_or(0);
        s.setFacts(f);
    }

    // Sets op's start time and window from the runtime's current window at or after n.
    // false (with *why) when the runtime's window cannot be used.
    bool placeInWindow(Operation& op, const Runtime& rt, Millis n, std::string* why, WindowSpec* used = nullptr) const {
        auto spec = effectiveWindow(rt, e.config_.policy, why);
        if (!spec) return false;
        if (used) *used = *spec;
        WindowInstance w = nextWindow(*spec, n);
        op.maintenanceWindowBegin = w.begin;
        op.maintenanceWindowEnd = w.end;
        op.startAt = std::max(n, w.begin);
        return true;
    }

    // --- slots ---------------------------------------------------------------

    Slot& slotFor(Active& a, const Operation& op, const unsigned char* runtimeUuid = nullptr,
                  const unsigned char* operationUuid = nullptr) {
        return slotFor(a, op.operationID, op.runtimeID, op.seq, op.startAt, op.state, op.immediate, operationUuid,
                       runtimeUuid);
    }
    // operationUuid, runtimeUuid: the ids' bytes when the caller has them (a packed brief; the
    // text is then not read).
    Slot& slotFor(Active& a, std::string_view operationID, std::string_view runtimeID, std::int64_t seqNo,
                  Millis startAt, OperationState state, bool immediate,
                  const unsigned char* operationUuid = nullptr, const unsigned char* runtimeUuid = nullptr) {
        const std::size_t seq = static_cast<std::size_t>(seqNo);
        if (seq >= a.slots.size()) a.slots.resize(seq + 1);
        Slot& s = a.slots[seq];
        if (!s.live) ++a.liveCount;
        a.readyTopChecked = false;
        a.endFlight(s);
        s = Slot{};
        s.live = true;
        PackedId packed;
        a.pack(operationUuid, operationID, packed);
        s.setId(packed);
        a.pack(runtimeUuid, runtimeID, packed);
        s.setRuntime(packed);
        s.immediate = immediate;
        s.startAt = startAt;
        s.state = state;
        return s;
    }

    void addPendingSlot(Active& a, const Operation& op, const unsigned char* runtimeUuid = nullptr,
                        const unsigned char* operationUuid = nullptr) {
        Slot& s = slotFor(a, op, runtimeUuid, operationUuid);
        s.state = OperationState::Pending;
        a.pushReady(op.startAt, op.seq);
    }

    void killSlot(Active& a, Slot& s) {
        a.readyTopChecked = false;
        s.live = false;
        if (a.staged) {
            const int k = a.stageOf(&s - a.slots.data());
            if (k >= 0) --a.stageLive[static_cast<std::size_t>(k)];
        }
        retire(a.endFlight(s));
        --a.liveCount;
    }

    // Snapshots of finished operations are reused for later starts once no action refers to them
    // any more (their strings keep their capacity: a start then allocates nothing).
    std::vector<std::shared_ptr<const Operation>> retired;
    void retire(std::shared_ptr<const Operation> snap) {
        if (!snap) return;
        if (retired.size() >= 256) retired.erase(retired.begin());  // rarely: many still referenced
        retired.push_back(std::move(snap));
    }
    std::shared_ptr<Operation> freshSnapshot() {
        for (std::size_t i = retired.size(); i-- > 0;) {
            if (retired[i].use_count() != 1) continue;  // an action still holds it
            auto mine = std::const_pointer_cast<Operation>(std::move(retired[i]));
            retired.erase(retired.begin() + static_cast<std::ptrdiff_t>(i));
            return mine;
        }
        return std::make_shared<Operation>();
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
                writeOrchestration(a.orch);
                deactivate(id);
                return;
            }
            a.orch.description = "resolving targets failed, retrying: " + err;
            a.orch.updatedAt = now;
            writeOrchestration(a.orch);
            addTimer(now + e.config_.resolveRetryInterval, a, TimerKind::Resolve);
            return;
        }
        std::optional<VectorRuntimeList> wrapped;
        const RuntimeList& fleet = snap.list ? *snap.list : wrapped.emplace(*snap.runtimes);
        std::vector<std::uint32_t> skipped;
        const std::vector<std::uint32_t> targets = resolveTargetIndices(a.orch.parameters.targets, fleet, &skipped);
        for (std::uint32_t i : skipped) {
            const Runtime& rt = fleet.at(i);
            emit(now, "operation.skipped", id, {}, rt.runtimeID, {},
                 rt.deprovisioning ? "runtime is being deprovisioned" : "runtime is suspended");
        }

        // The operations are produced one at a time straight into the store (a 100,000-runtime
        // rollout never holds them all at once); events follow once the write has committed.
        const Parameters& p = a.orch.parameters;
        const std::int64_t firstSeq = a.nextSeq;
        std::vector<std::uint32_t> created;  // target index of each new operation, in seq order
        created.reserve(targets.size());
        std::vector<std::pair<std::uint32_t, std::string>> invalid;  // (target index, why)
        std::size_t next = 0;
        // SPEC 10: a staged request's operations are created stage by stage (each stage is a
        // range of seqs); runtimes no stage takes are not scheduled.
        const std::size_t nStages = p.strategy.stages.size();
        std::vector<std::uint32_t> stagedOrder;
        std::vector<int> stagedStage;
        std::vector<std::int64_t> stageOps(nStages, 0);
        std::int64_t unstaged = 0;
        if (a.staged) {
            const std::vector<int> assign = assignStages(p.strategy.stages, fleet, targets);
            for (std::size_t k = 0; k < nStages; ++k)
                for (std::size_t t = 0; t < targets.size(); ++t)
                    if (assign[t] == static_cast<int>(k)) {
                        stagedOrder.push_back(targets[t]);
                        stagedStage.push_back(static_cast<int>(k));
                    }
            unstaged = static_cast<std::int64_t>(targets.size() - stagedOrder.size());
        }
        const std::vector<std::uint32_t>& order = a.staged ? stagedOrder : targets;
        const std::optional<std::uint64_t> gen = e.fleet_.generation();  // the snapshot's generation
        a.slots.reserve(static_cast<std::size_t>(a.nextSeq) + targets.size());
        const bool notify = notifies(a);
        std::vector<NotificationTenant> tenants;  // SPEC 14 create event (when notify)
        Store::WriteBatch batch;
        batch.label = "updateOrchestrationAddingOperations";
        batch.updatedOrchestrations.resize(1);  // filled from a.orch after the producer's last call
        batch.operationSourceSize = order.size();
        // Each operation's ids as the slot and the fleet keep them packed: the store takes these
        // instead of parsing the text the engine and the fleet just made from them.
        Store::OperationUuids uuids;
        batch.operationSourceUuids = &uuids;
        batch.operationSource = [&](Operation& op) {
            while (next < order.size()) {
                const int stage = a.staged ? stagedStage[next] : -1;
                const std::uint32_t idx = order[next++];
                // Everything an operation and its window take (not the versions).
                const Runtime& rt = fleet.fieldsAt(idx, RuntimeList::kAllFields & ~RuntimeList::kVersionFields);
                const RuntimeList::Uuids rtUuids = fleet.uuidsAt(idx);
                op.orchestrationID = id;
                op.runtimeID = rt.runtimeID;
                op.instanceID = rt.instanceID;
                op.globalAccountID = rt.globalAccountID;
                op.subAccountID = rt.subAccountID;
                op.servicePlanID = rt.planID;
                op.servicePlanName = rt.planName;
                op.region = rt.region;
                op.shootName = rt.shootName;
                op.dryRun = p.dryRun;
                op.createdAt = now;
                op.updatedAt = now;
                op.startAt = now;
                if (a.orch.type == OrchestrationType::UpgradeKyma) op.kymaConfig = p.kyma.value_or(KymaParams{});
                else op.clusterConfig = p.kubernetes.value_or(KubernetesParams{});
                WindowSpec spec;
                if (p.strategy.maintenanceWindow) {
                    std::string why;
                    if (!placeInWindow(op, rt, now, &why, &spec)) {
                        invalid.emplace_back(idx, std::move(why));
                        op = Operation{};
                        continue;
                    }
                }
                unsigned char idBytes[16];
                const bool idPacked = e.ids_.newIdPacked(op.operationID, idBytes);
                op.seq = a.nextSeq++;
                op.description = op.startAt > now ? "scheduled for the maintenance window" : "queued for processing";
                if (stage >= 0) {
                    op.stage = p.strategy.stages[static_cast<std::size_t>(stage)].name;
                    ++stageOps[static_cast<std::size_t>(stage)];
                }
                if (stage > 0) {  // waits for its stage: placed when the stage starts
                    op.description = "waiting for stage \"" + op.stage + "\"";
                    slotFor(a, op, rtUuids.runtimeID, idPacked ? idBytes : nullptr).state = OperationState::Pending;
                } else {
                    addPendingSlot(a, op, rtUuids.runtimeID, idPacked ? idBytes : nullptr);
                }
                {  // slots are reserved above: the bytes stay put while the store reads them
                    const Slot& made = a.slots[static_cast<std::size_t>(op.seq)];
                    uuids.operationID = made.idUuid();
                    uuids.runtimeID = made.runtimeUuid();
                    uuids.instanceID = rtUuids.instanceID;
                }
                // Targets are neither deprovisioning nor suspended (resolution skips those).
                RuntimeFacts f;
                f.hasWindow = p.strategy.maintenanceWindow;
                f.window = spec;
                remember(a.slots[static_cast<std::size_t>(op.seq)], gen, f);
                created.push_back(idx);
                if (notify) {  // SPEC 14: the operation's window, or now and "" when immediate
                    NotificationTenant& t = tenants.emplace_back();
                    t.instanceID = op.instanceID;
                    if (op.maintenanceWindowBegin) {
                        t.startDateTime = formatNotificationTime(op.maintenanceWindowBegin);
                        t.endDateTime = formatNotificationTime(op.maintenanceWindowEnd);
                    } else {
                        t.startDateTime = formatNotificationTime(op.startAt);
                    }
                }
                return true;
            }
            // Last call: the store writes the orchestration after this (see store.h).
            a.orch.updatedAt = now;
            if (created.empty()) {
                a.orch.state = OrchestrationState::Succeeded;
                a.orch.description = "Scheduled 0 operations: no runtime matched the targets";
            } else {
                a.orch.state = OrchestrationState::InProgress;
                a.orch.description = "Scheduled " + std::to_string(created.size()) + " operations";
            }
            if (a.staged || p.strategy.maxFailures) {
                RolloutProgress& r = a.orch.rollout;
                r = RolloutProgress{};
                r.operations = static_cast<std::int64_t>(created.size());
                r.unstaged = unstaged;
                std::int64_t at = firstSeq;
                for (std::size_t k = 0; k < nStages; ++k) {
                    StageProgress sp;
                    sp.firstSeq = at;
                    sp.operations = stageOps[k];
                    at += stageOps[k];
                    r.stages.push_back(sp);
                }
                if (a.staged) {
                    a.stageLive = stageOps;
                    a.stageFailed.assign(nStages, 0);
                    a.cursor = 0;
                    r.stages[0].state = StageState::InProgress;  // placed above, from now
                    r.stages[0].startedAt = now;
                    if (!created.empty())
                        a.orch.description += " in " + std::to_string(nStages) + " stages";
                    if (unstaged > 0)
                        a.orch.description += "; " + std::to_string(unstaged) +
                                              " runtimes matched the targets but no stage and were not scheduled";
                }
            }
            batch.updatedOrchestrations[0] = a.orch;  // written after the operations (store.h)
            if (notify && !created.empty()) {  // SPEC 14: written last, in this transaction
                Notification& n = batch.notifications.emplace_back();
                n.kind = Notification::Kind::Create;
                n.orchestrationID = id;
                n.payload = createEventPayload(id, a.orch.type, tenants);
                tenants = {};
            }
            return false;
        };
        e.store_.apply(batch);
        a.resolved = true;
        for (const auto& [idx, why] : invalid)
            emit(now, "operation.skipped", id, {}, fleet.at(idx).runtimeID, {}, "invalid maintenance window: " + why);
        emit(now, "orchestration.state", id, {}, {}, toString(a.orch.state), a.orch.description);
        if (created.empty()) {
            deactivate(id);
            return;
        }
        for (std::size_t i = 0; i < created.size(); ++i) {
            const Slot& s = a.slots[static_cast<std::size_t>(firstSeq) + i];
            a.operationIDInto(s, idBuf);
            a.runtimeIDInto(s, rtBuf);
            if (a.staged && a.stageOf(firstSeq + static_cast<std::int64_t>(i)) > 0) {
                emit(now, "operation.created", id, idBuf, rtBuf, "pending",
                     "waiting for stage \"" + p.strategy.stages[static_cast<std::size_t>(a.stageOf(firstSeq + static_cast<std::int64_t>(i)))].name + "\"");
                continue;
            }
            emit(now, "operation.created", id, idBuf, rtBuf, "pending",
                 p.strategy.maintenanceWindow ? timeDetail(s.startAt) : std::string_view());
        }
        if (a.staged) {
            const Stage& first = p.strategy.stages[0];
            emitStage(now, "stage.started", a, first.name, "in progress",
                      std::to_string(a.orch.rollout.stages[0].operations) + " operations");
            stageStep(a, now);  // an empty first stage ends at once
        }
    }

    // --- operations ------------------------------------------------------------

    // The stored record of a slot into out: the snapshot when in progress, else a store read.
    void load(const Active& a, const Slot& s, Operation& out) {
        if (const Flight* f = a.flight(s)) {
            out = *f->snap;
            return;
        }
        a.operationIDInto(s, idBuf);
        [[maybe_unused]] const bool found =
            e.store_.readOperationAt(a.orch.orchestrationID, idBuf, static_cast<std::int64_t>(&s - a.slots.data()), out);
        assert(found);
    }

    // Writes the window moves fill() collected (one store batch), then reports them in order.
    void flushMoves(Active& a, Millis now) {
        if (moves.empty()) return;
        writeMoves(a.orch.orchestrationID, moves, &kWindowMissed, now);
        for (const Store::ScheduleChange& m : moves) {
            a.runtimeIDInto(a.slots[static_cast<std::size_t>(m.seq)], movedRt);
            emit(now, "operation.rescheduled", a.orch.orchestrationID, m.operationID, movedRt, "pending",
                 timeDetail(m.windowBegin));
        }
        clearMoves();
    }

    // Ends an unfinished operation (pending or in progress) with a final state.
    void finishOperation(Active& a, std::int64_t seq, OperationState state, std::string description, Millis now) {
        flushMoves(a, now);
        Slot* sp = a.slot(seq);
        if (!sp) return;
        Slot& s = *sp;
        // Only the state, description and updatedAt change: a progress write, no record read.
        const Store::ProgressChange& c = progressOf(a, s, seq, state, &description, now);
        const Flight* f = a.flight(s);
        if (f) rtBuf = f->snap->runtimeID;  // in progress: the snapshot has the text
        else a.runtimeIDInto(s, rtBuf);
        if (state != OperationState::Canceled && notifies(a)) {  // SPEC 14: it ended (success or failure)
            std::string instanceID;
            if (f) {
                instanceID = f->snap->instanceID;
            } else {
                Operation op;
                if (e.store_.readOperationAt(a.orch.orchestrationID, c.operationID, seq, op)) instanceID = op.instanceID;
            }
            commitProgress(a, Notification::Kind::End, endEventPayload(a.orch.orchestrationID, instanceID, now));
        } else {
            commitProgress(a);
        }
        emit(now, "operation.state", a.orch.orchestrationID, c.operationID, rtBuf, toString(state), description);
        noteOperationState(a, rtBuf, c.operationID, state);
        if (s.state == OperationState::InProgress) {
            --a.running;
            releaseRuntime(a, s, seq, rtBuf);
        }
        killSlot(a, s);
        if (a.policy && state == OperationState::Failed) noteFailure(a, seq, now);
    }

    // The upgrade of slot s (seq) of `a` ended: its runtime (runtimeID) is free for waiting ones.
    void releaseRuntime(const Active& a, const Slot& s, std::int64_t seq, const std::string& runtimeID) {
        if (!busy.eraseUnless(s.runtimePacked(), a.ids,
                              [&](const Owner& o) { return o.handle != a.handle || o.seq != seq; }))
            return;
        if (waiting.empty()) return;
        auto w = waiting.find(runtimeID);
        if (w == waiting.end()) return;
        auto list = std::move(w->second);
        waiting.erase(w);
        for (auto& [handle, seq] : list) {
            Active* a = findHandle(handle);
            if (!a) continue;
            Slot* s = a->slot(seq);
            if (!s || !s->blocked) continue;
            s->blocked = false;
            a->pushReady(s->startAt, seq);
        }
    }

    // Tries to start the next ready operations of `a` while it has free workers.
    void fill(Active& a, Millis now, std::vector<Action>& out) {
        try {
            fillLoop(a, now, out);
            flushMoves(a, now);
        } catch (...) {
            clearMoves();  // a failed write: never flushed into another orchestration later
            throw;
        }
    }
    void fillLoop(Active& a, Millis now, std::vector<Action>& out) {
        const int workers = std::max(1, a.orch.parameters.strategy.workers);
        if (a.policy && !a.blackouts.empty()) {  // SPEC 10: nothing starts inside a blackout
            const Millis clear = a.blackouts.clearAt(now);
            a.blackoutUntil = clear;
            if (clear != now) return;
        }
        while (a.running < (a.staged ? workersOf(a) : workers)) {
            if (a.policy && a.orch.state != OrchestrationState::InProgress) break;  // paused by a failure
            a.pruneReady();
            if (a.ready.empty() || a.ready.top().startAt > now) break;
            const std::int64_t seq = a.ready.top().seq;
            // Its stored record is read (a start) or written (a move) soon, like its slot.
            if (const std::int64_t soon = a.popReady(); soon >= 0) e.store_.prefetchOperation(a.orch.orchestrationID, soon);
            Slot& s = *a.slot(seq);
            // SPEC 4 (b): a newer orchestration already upgraded (or is upgrading) the runtime:
            // this one must not take it back to an older target.
            if (!claims[typeIndex(a.orch.type)].empty()) {
                a.runtimeIDInto(s, rtBuf);
                if (const Claim* by = supersededBy(a, rtBuf)) {
                    flushMoves(a, now);
                    const std::string why =
                        "superseded by operation " + by->operationID + " of orchestration " + by->orchestrationID;
                    a.operationIDInto(s, idBuf);
                    emit(now, "operation.superseded", a.orch.orchestrationID, idBuf, rtBuf, {}, why);
                    finishOperation(a, seq, OperationState::Succeeded, "skipped: " + why, now);
                    continue;
                }
            }
            // Everything up to a start or a final state needs no store read: the slot knows the
            // runtime, and a missed window is a partial update (Store::rescheduleOperation).
            if (busyOwner(a, s)) {  // SPEC 6: another upgrade of this runtime is running: wait
                flushMoves(a, now);
                a.runtimeIDInto(s, rtBuf);
                s.blocked = true;
                a.readyTopChecked = false;
                waiting[rtBuf].push_back({a.handle, seq});
                a.operationIDInto(s, idBuf);
                emit(now, "operation.waiting", a.orch.orchestrationID, idBuf, rtBuf, {},
                     "another upgrade of the runtime is running");
                continue;
            }
            const std::optional<std::uint64_t> gen = e.fleet_.generation();
            const bool windowed = usesWindows(a, s.immediate);
            if (!(gen && s.factsKnown && s.factsGeneration == *gen && (!windowed || s.hasWindow))) {
                s.factsKnown = false;
                a.runtimeIDInto(s, rtBuf);
                if (!e.fleet_.findWindowInto(rtBuf, now, runtime)) {
                    finishOperation(a, seq, OperationState::Succeeded,
                                    "preempted: runtime " + rtBuf + " no longer exists", now);
                    continue;
                }
                RuntimeFacts f;
                std::string why;
                const bool windowOk = derive(runtime, windowed && !runtime.deprovisioning && !runtime.suspended, f, &why);
                if (!windowOk) {
                    finishOperation(a, seq, OperationState::Failed, "invalid maintenance window: " + why, now);
                    continue;
                }
                remember(s, gen, f);
            }
            if (s.facts().skip()) {
                finishOperation(a, seq, OperationState::Succeeded,
                                std::string("skipped: runtime is ") +
                                    (s.deprovisioning ? "being deprovisioned" : "suspended"),
                                now);
                continue;
            }
            WindowInstance window{};
            if (windowed) {
                window = nextWindow(s.facts().window, now);
                if (window.begin > now) {  // window missed (or changed): move to the next allowed one
                    // Consecutive moves are written as one batch (flushMoves), before anything
                    // else is written or reported.
                    Store::ScheduleChange& m = newMove();
                    a.operationIDInto(s, m.operationID);
                    m.operationUuid = s.idUuid();  // slots do not move during fill
                    m.startAt = m.windowBegin = window.begin;
                    m.windowEnd = window.end;
                    m.seq = seq;
                    s.startAt = window.begin;
                    a.pushReady(s.startAt, seq);
                    continue;
                }
            }
            flushMoves(a, now);
            // The record is read once, into the snapshot the backend will see; the store gets
            // only the fields that change (a progress write).
            std::shared_ptr<Operation> snap = freshSnapshot();
            Operation& op = *snap;
            load(a, s, op);
            if (windowed) {
                op.maintenanceWindowBegin = window.begin;
                op.maintenanceWindowEnd = window.end;
            }
            const bool dryRun = op.dryRun;
            op.state = dryRun ? OperationState::Succeeded : OperationState::InProgress;
            op.description = dryRun ? "dry run: nothing was changed" : "upgrade started";
            op.startedAt = now;
            op.updatedAt = now;
            Store::ProgressChange& c = progressOf(a, s, seq, op.state, &op.description, now, &op.operationID);
            c.startedAt = now;
            if (windowed) c.window = std::make_pair(window.begin, window.end);
            // recorded before the backend is called (with its SPEC 14 start event, if any)
            if (!dryRun && notifies(a))
                commitProgress(a, Notification::Kind::Start, startEventPayload(a.orch.orchestrationID, op.instanceID, now));
            else
                commitProgress(a);
            if (dryRun) {
                emit(now, "operation.state", a.orch.orchestrationID, op.operationID, op.runtimeID, "succeeded",
                     op.description);
                killSlot(a, s);
                continue;
            }
            s.state = OperationState::InProgress;
            s.actionOut = true;
            ++a.running;
            ++actionsOut;
            markBusy(a, s, seq);
            noteOperationState(a, op.runtimeID, op.operationID, OperationState::InProgress);
            Flight& fl = a.startFlight(s, std::move(snap));
            const Operation& o = *fl.snap;
            emit(now, "operation.start", a.orch.orchestrationID, o.operationID, o.runtimeID, "in progress",
                 o.maintenanceWindowBegin ? windowDetail(o.maintenanceWindowBegin, o.maintenanceWindowEnd)
                                          : std::string_view());
            out.push_back(Action{Action::Kind::Start, a.orch.type, fl.snap, a.handle, seq});
        }
    }

    // --- progressive rollout (SPEC 10) ----------------------------------------------

    void setUpPolicy(Active& a) {
        const Strategy& st = a.orch.parameters.strategy;
        a.staged = !st.stages.empty();
        a.policy = a.staged || st.maxFailures || !st.blackouts.empty() || !e.config_.blackouts.empty();
        if (!st.blackouts.empty() || !e.config_.blackouts.empty())
            a.blackouts = BlackoutCalendar(st.blackouts, e.config_.blackouts);
        if (a.staged) {
            const std::size_t n = st.stages.size();
            a.stageLive.assign(n, 0);
            a.stageFailed.assign(n, 0);
            a.cursor = 0;
            const auto& r = a.orch.rollout.stages;
            while (a.cursor < r.size() &&
                   (r[a.cursor].state == StageState::Succeeded || r[a.cursor].state == StageState::Failed))
                ++a.cursor;
        }
    }

    // Workers of a staged orchestration: its current stage's (the strategy's once all are done).
    int workersOf(const Active& a) const {
        const Strategy& st = a.orch.parameters.strategy;
        int w = st.workers;
        if (a.cursor < st.stages.size() && st.stages[a.cursor].workers) w = *st.stages[a.cursor].workers;
        return std::max(1, w);
    }

    void emitStage(Millis at, std::string_view kind, const Active& a, std::string_view stage, std::string_view state,
                   std::string_view detail) {
        if (!e.listener_) return;
        EngineEvent ev;
        ev.at = at;
        ev.kind = kind;
        ev.orchestrationID = a.orch.orchestrationID;
        ev.state = state;
        ev.detail = detail;
        ev.stage = stage;
        e.listener_->onEvent(ev);
    }

    static bool running(const Active& a) {
        return a.orch.state == OrchestrationState::InProgress || a.orch.state == OrchestrationState::Retrying;
    }

    // Moves the stage cursor as far as it can go now: a pending stage starts (not while paused
    // or canceling), a stage whose operations are all final soaks or ends, a soak that is over
    // ends. Writes the orchestration (the stored cursor) when something changed.
    void stageStep(Active& a, Millis now) {
        if (!a.staged) return;
        auto& stages = a.orch.rollout.stages;
        const auto& spec = a.orch.parameters.strategy.stages;
        if (stages.size() != spec.size()) return;  // not resolved yet
        bool changed = false;
        while (a.cursor < stages.size()) {
            StageProgress& sp = stages[a.cursor];
            const Stage& st = spec[a.cursor];
            if (sp.state == StageState::Pending) {
                if (!running(a)) break;
                startStage(a, a.cursor, now);
                changed = true;
                continue;
            }
            if (sp.state == StageState::InProgress) {
                if (a.stageLive[a.cursor] > 0) break;
                sp.finishedAt = now;
                if (st.soak > 0 && sp.operations > 0 && a.cursor + 1 < stages.size() &&
                    a.orch.state != OrchestrationState::Canceling) {  // a pause does not stop the soak clock
                    sp.state = StageState::Soaking;
                    sp.soakUntil = now + st.soak;
                    changed = true;
                    emitStage(now, "stage.soaking", a, st.name, "soaking", timeDetail(sp.soakUntil));
                    break;
                }
                finishStage(a, now);
                changed = true;
                continue;
            }
            if (sp.state == StageState::Soaking) {
                if (now < sp.soakUntil || !running(a)) break;
                finishStage(a, now);
                changed = true;
                continue;
            }
            ++a.cursor;
        }
        if (changed) {
            a.orch.updatedAt = now;
            writeOrchestration(a.orch);
        }
    }

    void finishStage(Active& a, Millis now) {
        StageProgress& sp = a.orch.rollout.stages[a.cursor];
        sp.state = a.stageFailed[a.cursor] > 0 ? StageState::Failed : StageState::Succeeded;
        const Stage& st = a.orch.parameters.strategy.stages[a.cursor];
        emitStage(now, "stage.finished", a, st.name, toString(sp.state),
                  std::to_string(a.stageFailed[a.cursor]) + " of " + std::to_string(sp.operations) +
                      " operations failed");
        ++a.cursor;
    }

    // Stage k starts now: its pending operations are placed (their windows at or after now) and
    // become ready. The moves are written before the orchestration records the stage as started
    // (a restart in between starts the stage again, which places the same operations again).
    void startStage(Active& a, std::size_t k, Millis now) {
        StageProgress& sp = a.orch.rollout.stages[k];
        const Stage& st = a.orch.parameters.strategy.stages[k];
        const bool windowedStrategy = a.orch.parameters.strategy.maintenanceWindow;
        const std::optional<std::uint64_t> gen = e.fleet_.generation();
        std::vector<Store::ScheduleChange> placed;
        placed.reserve(static_cast<std::size_t>(sp.operations));
        for (std::int64_t seq = sp.firstSeq; seq < sp.firstSeq + sp.operations; ++seq) {
            Slot* s = a.slot(seq);
            if (!s || s->state != OperationState::Pending) continue;
            Millis startAt = now;
            WindowInstance w{};
            if (windowedStrategy && !s->immediate) {
                bool known = gen && s->factsKnown && s->factsGeneration == *gen && s->hasWindow;
                if (!known) {
                    a.runtimeIDInto(*s, rtBuf);
                    RuntimeFacts f;
                    std::string why;
                    if (e.fleet_.findWindowInto(rtBuf, now, runtime) && !runtime.deprovisioning && !runtime.suspended &&
                        derive(runtime, true, f, &why)) {
                        remember(*s, gen, f);
                        known = true;
                    }
                }
                // Unknown (gone, skipped, bad window): start "now" and let the start checks decide.
                if (known) {
                    w = nextWindow(s->facts().window, now);
                    startAt = std::max(now, w.begin);
                }
            }
            Store::ScheduleChange& m = placed.emplace_back();
            a.operationIDInto(*s, m.operationID);
            m.startAt = startAt;
            m.windowBegin = w.begin;
            m.windowEnd = w.end;
            m.seq = seq;
        }
        static const std::string kQueued = "queued for processing", kWindow = "scheduled for the maintenance window";
        if (!placed.empty())
            writeMoves(a.orch.orchestrationID, placed, windowedStrategy ? &kWindow : &kQueued, now);
        for (const Store::ScheduleChange& m : placed) {
            Slot& s = a.slots[static_cast<std::size_t>(m.seq)];
            s.startAt = m.startAt;
            a.pushReady(m.startAt, m.seq);
        }
        sp.state = StageState::InProgress;
        sp.startedAt = now;
        emitStage(now, "stage.started", a, st.name, "in progress", std::to_string(sp.operations) + " operations");
    }

    // A failed operation counts against its stage's budget and the orchestration's; above
    // either, the orchestration pauses (SPEC 10).
    void noteFailure(Active& a, std::int64_t seq, Millis now) {
        ++a.failed;
        const int k = a.stageOf(seq);
        if (k >= 0) ++a.stageFailed[static_cast<std::size_t>(k)];
        checkBudgets(a, k, now);
    }
    // Pauses `a` when stage k (-1: none) or the whole orchestration has more failures than its
    // budget allows (acknowledged ones excluded).
    void checkBudgets(Active& a, int k, Millis now) {
        if (!running(a)) return;
        const Strategy& st = a.orch.parameters.strategy;
        const RolloutProgress& r = a.orch.rollout;
        std::string why;
        if (k >= 0) {
            const auto i = static_cast<std::size_t>(k);
            const std::int64_t budget = stageBudget(st, r, i);
            const std::int64_t counted = a.stageFailed[i] - r.stages[i].acknowledgedFailures;
            if (budget >= 0 && counted > budget)
                why = "paused: stage \"" + st.stages[i].name + "\": " + std::to_string(counted) +
                      " failed operations exceed its budget of " + std::to_string(budget);
        }
        if (why.empty()) {
            const std::int64_t budget = orchestrationBudget(st, r);
            const std::int64_t counted = a.failed - r.acknowledgedFailures;
            if (budget >= 0 && counted > budget)
                why = "paused: " + std::to_string(counted) + " failed operations exceed the orchestration's budget of " +
                      std::to_string(budget);
        }
        if (why.empty()) return;
        setOrchState(a, OrchestrationState::Paused, std::move(why), now);
        writeOrchestration(a.orch);
    }

    // Finished when nothing is pending or in progress (SPEC 4).
    void maybeFinish(Active& a, Millis now) {
        if (!a.resolved || a.liveCount != 0) return;
        const std::string id = a.orch.orchestrationID;
        if (a.staged) {  // a soak cut short (cancel) ends with its orchestration
            for (std::size_t k = 0; k < a.orch.rollout.stages.size(); ++k) {
                StageProgress& sp = a.orch.rollout.stages[k];
                if (sp.state == StageState::Soaking || (sp.state == StageState::InProgress && a.stageLive[k] == 0)) {
                    sp.state = a.stageFailed[k] > 0 ? StageState::Failed : StageState::Succeeded;
                    if (sp.finishedAt == 0) sp.finishedAt = now;
                }
            }
        }
        if (a.orch.state == OrchestrationState::Canceling) {
            setOrchState(a, OrchestrationState::Canceled, "Orchestration was canceled", now);
        } else {
            // Count per runtime: the latest operation of each runtime decides. Without retries
            // every runtime has exactly one operation (resolution de-duplicates runtimes).
            std::int64_t total = 0, failed = 0, runtimes = 0;
            bool retried = false;
            e.store_.forEachOperationBriefPacked(id, [&](const Store::OperationBrief& op) {  // no ids read
                ++total;
                if (op.state == OperationState::Failed) ++failed;
                if (op.isRetry) retried = true;
            });
            runtimes = total;
            if (retried) {
                std::unordered_map<std::string, std::pair<std::int64_t, OperationState>> latest;
                e.store_.forEachOperationBrief(id, [&](const Store::OperationBrief& op) {
                    auto [l, fresh] = latest.try_emplace(std::string(op.runtimeID), op.seq, op.state);
                    if (!fresh && op.seq > l->second.first) l->second = {op.seq, op.state};
                });
                failed = 0;
                for (const auto& [rt, l] : latest)
                    if (l.second == OperationState::Failed) ++failed;
                runtimes = static_cast<std::int64_t>(latest.size());
            }
            if (failed > 0)
                setOrchState(a, OrchestrationState::Failed,
                             std::to_string(failed) + " of " + std::to_string(runtimes) + " runtimes failed", now);
            else
                setOrchState(a, OrchestrationState::Succeeded,
                             "All " + std::to_string(runtimes) + " runtimes upgraded (" + std::to_string(total) +
                                 " operations)",
                             now);
        }
        writeOrchestration(a.orch);
        deactivate(id);
    }

    // Cancels every pending operation of `a`, in one transaction with the orchestration `next`
    // (nullptr: as it is). Memory and events change only after the write: a failed write (the
    // caller sees the throw, e.g. an API 500) leaves the engine as it was.
    // With notifyCancel, the batch carries the SPEC 14 cancel event (when the orchestration notifies).
    void cancelPending(Active& a, Millis now, const Orchestration* next = nullptr, bool notifyCancel = false) {
        std::vector<Operation> changed;
        std::vector<std::size_t> seqs;
        for (std::size_t seq = 0; seq < a.slots.size(); ++seq) {
            Slot& s = a.slots[seq];
            if (!s.live || s.state != OperationState::Pending) continue;
            Operation op;
            load(a, s, op);
            op.state = OperationState::Canceled;
            op.description = "Operation was canceled";
            op.updatedAt = now;
            changed.push_back(std::move(op));
            seqs.push_back(seq);
        }
        Store::WriteBatch batch;
        batch.label = "updateOrchestrationWithOperations";
        batch.updatedOperations = std::move(changed);
        batch.updatedOrchestrations.push_back(next ? *next : a.orch);
        if (notifyCancel && notifies(a)) {
            Notification& n = batch.notifications.emplace_back();
            n.kind = Notification::Kind::Cancel;
            n.orchestrationID = a.orch.orchestrationID;
            n.payload = cancelEventPayload(a.orch.orchestrationID);
        }
        e.store_.apply(batch);
        changed = std::move(batch.updatedOperations);
        if (next) setOrchState(a, next->state, next->description, now);
        for (std::size_t i = 0; i < changed.size(); ++i) {
            const Operation& op = changed[i];
            emit(now, "operation.state", a.orch.orchestrationID, op.operationID, op.runtimeID, "canceled",
                 op.description);
            killSlot(a, a.slots[seqs[i]]);
        }
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
    Store::WriteBatch batch;
    batch.insertedOrchestrations.push_back(o);
    store_.apply(batch);
    impl_->emit(now, "orchestration.created", o.orchestrationID, {}, {}, "pending", toString(type));
    Active& a = impl_->activate(o);
    impl_->addTimer(std::max(now, scheduleStart(a.orch)), a, TimerKind::Resolve);
    return o.orchestrationID;
}

bool Engine::cancel(const std::string& orchestrationID, Millis now) {
    Active* a = impl_->find(orchestrationID);
    if (!a) return store_.getOrchestration(orchestrationID).has_value();  // finished: no-op
    if (a->orch.state == OrchestrationState::Canceling) return true;
    // Written before anything changes in memory: a failed write leaves the engine as it was.
    Orchestration next = a->orch;
    next.updatedAt = now;
    if (!a->resolved) {  // still pending: nothing was scheduled
        next.state = OrchestrationState::Canceled;
        next.description = "Orchestration was canceled before it started";
        impl_->writeOrchestration(next);
        impl_->setOrchState(*a, next.state, next.description, now);
        impl_->deactivate(orchestrationID);
        return true;
    }
    next.state = OrchestrationState::Canceling;
    next.description = "canceling: waiting for operations in progress";
    impl_->cancelPending(*a, now, &next, /*notifyCancel=*/true);
    if (a->staged) impl_->stageStep(*a, now);
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
        st != OrchestrationState::Retrying && st != OrchestrationState::Paused) {
        r.status = 409;
        r.error = std::string("orchestration is ") + toString(st) +
                  ": only failed, in progress or paused orchestrations can be retried";
        return r;
    }
    // Only failed operations can be retried, and only the latest operation of their runtime.
    // Pass 1 keeps the failed ones; pass 2 finds the latest seq of their runtimes.
    std::vector<Operation> failedOps;
    std::int64_t nextSeq = 0;
    store_.forEachOperation(orchestrationID, [&](const Operation& op) {
        nextSeq = std::max(nextSeq, op.seq + 1);
        if (op.state == OperationState::Failed) failedOps.push_back(op);
    });
    std::unordered_map<std::string, std::int64_t> latestSeq;
    for (const auto& op : failedOps) latestSeq.emplace(op.runtimeID, op.seq);
    if (!latestSeq.empty())
        store_.forEachOperation(orchestrationID, [&](const Operation& op) {
            auto it = latestSeq.find(op.runtimeID);
            if (it != latestSeq.end()) it->second = std::max(it->second, op.seq);
        });
    auto retryable = [&](const Operation& op) { return latestSeq[op.runtimeID] == op.seq; };
    std::vector<const Operation*> chosen;
    if (operationIDs.empty()) {
        for (const auto& op : failedOps)
            if (retryable(op)) chosen.push_back(&op);
    } else {
        std::unordered_map<std::string, const Operation*> byOpId;
        for (const auto& op : failedOps) byOpId[op.operationID] = &op;
        std::set<std::string> seen;
        for (const auto& id : operationIDs) {
            if (!seen.insert(id).second) continue;
            auto it = byOpId.find(id);
            if (it == byOpId.end() || !retryable(*it->second)) r.invalidOperations.push_back(id);
            else chosen.push_back(it->second);
        }
    }
    // SPEC 4, never back to an older target (a): a runtime that a newer orchestration of the same
    // type has a non-canceled operation for is not retried; the skipped operation is reported in
    // oldOperations.
    if (!chosen.empty()) {
        std::unordered_set<std::string> taken;  // runtimes of the chosen operations newer ones hold
        std::unordered_set<std::string> wanted;
        for (const Operation* op : chosen) wanted.insert(op->runtimeID);
        impl_->forEachNewerOperation(stored->type, *stored, [&](const Orchestration&, const Store::OperationBrief& op) {
            if (op.state == OperationState::Canceled) return;
            const std::string rt(op.runtimeID);
            if (wanted.count(rt)) taken.insert(rt);
        });
        if (!taken.empty()) {
            std::erase_if(chosen, [&](const Operation* op) {
                if (!taken.count(op->runtimeID)) return false;
                r.oldOperations.push_back(op->operationID);
                return true;
            });
        }
    }
    if (chosen.empty()) {
        r.msg = r.oldOperations.empty()
                    ? "no failed operations to retry"
                    : "no operations to retry: the runtimes of " + std::to_string(r.oldOperations.size()) +
                          " failed operations have newer operations in later orchestrations (oldOperations)";
        return r;
    }
    Active* a = impl_->find(orchestrationID);
    const bool activated = !a;
    if (activated) {
        a = &impl_->activate(*stored);
        a->resolved = true;
        a->failed = static_cast<std::int64_t>(failedOps.size());  // its budget counts them (SPEC 10)
        if (a->staged)
            for (const Operation& op : failedOps)
                if (const int k = a->stageOf(op.seq); k >= 0) ++a->stageFailed[static_cast<std::size_t>(k)];
    }
    const std::int64_t seqBefore = a->nextSeq;
    a->nextSeq = std::max(a->nextSeq, nextSeq);
    std::vector<Operation> created;
    for (const Operation* old : chosen) {
        Operation op = *old;
        op.operationID = ids_.newId();
        op.seq = a->nextSeq++;
        op.state = OperationState::Pending;
        op.description = "retry of operation " + old->operationID;
        op.retryOf = old->operationID;
        op.stage.clear();  // SPEC 10: retried operations are not staged (the copy kept the failed one's)
        op.immediate = immediate;
        op.createdAt = now;
        op.updatedAt = now;
        op.startedAt = 0;
        op.upgradeStarted = false;
        op.startAt = now;
        op.maintenanceWindowBegin = op.maintenanceWindowEnd = 0;
        if (impl_->usesWindows(*a, op.immediate)) {
            if (auto rt = fleet_.find(op.runtimeID, now)) {
                std::string why;
                impl_->placeInWindow(op, *rt, now, &why);  // on failure start now; fill() decides
            }
        }
        r.retryShoots.push_back(op.shootName);
        created.push_back(std::move(op));
    }
    // Written before anything changes in memory: a failed write leaves the engine as it was.
    Orchestration next = a->orch;
    next.updatedAt = now;
    const bool toRetrying = next.state == OrchestrationState::Failed;
    if (toRetrying) {
        next.state = OrchestrationState::Retrying;
        next.description = "retrying " + std::to_string(created.size()) + " failed operations";
    }
    try {
        Store::WriteBatch batch;
        batch.label = "updateOrchestrationWithOperations";
        batch.insertedOperations = std::move(created);
        batch.updatedOrchestrations.push_back(next);
        struct Back {  // the batch borrows the new operations
            std::vector<Operation>& to;
            std::vector<Operation>& from;
            ~Back() { to = std::move(from); }
        } back{created, batch.insertedOperations};
        store_.apply(batch);
    } catch (...) {
        if (activated) impl_->deactivate(orchestrationID);
        else a->nextSeq = seqBefore;
        throw;
    }
    if (toRetrying) impl_->setOrchState(*a, next.state, next.description, now);
    else a->orch.updatedAt = now;
    for (const auto& op : created) {
        impl_->addPendingSlot(*a, op);
        impl_->emit(now, "operation.created", orchestrationID, op.operationID, op.runtimeID, "pending",
                    "retry of " + op.retryOf);
    }
    r.msg = "retry operations are queued for processing";
    if (!r.oldOperations.empty())
        r.msg += "; " + std::to_string(r.oldOperations.size()) +
                 " failed operations were not retried: their runtimes have newer operations in later orchestrations "
                 "(oldOperations)";
    return r;
}

ControlResult Engine::pause(const std::string& orchestrationID, Millis now) {
    Active* a = impl_->find(orchestrationID);
    if (!a) {
        auto stored = store_.getOrchestration(orchestrationID);
        if (!stored) return {404, "orchestration " + orchestrationID + " not found"};
        return {409, std::string("orchestration is ") + toString(stored->state) +
                         ": only an orchestration in progress or retrying can be paused"};
    }
    const OrchestrationState st = a->orch.state;
    if (st != OrchestrationState::InProgress && st != OrchestrationState::Retrying)
        return {409, std::string("orchestration is ") + toString(st) +
                         ": only an orchestration in progress or retrying can be paused"};
    Orchestration next = a->orch;  // written before anything changes in memory
    next.state = OrchestrationState::Paused;
    next.description = "paused by operator";
    next.updatedAt = now;
    impl_->writeOrchestration(next);
    impl_->setOrchState(*a, next.state, next.description, now);
    return {};
}

ControlResult Engine::resume(const std::string& orchestrationID, Millis now) {
    Active* a = impl_->find(orchestrationID);
    if (!a) {
        auto stored = store_.getOrchestration(orchestrationID);
        if (!stored) return {404, "orchestration " + orchestrationID + " not found"};
        return {409, std::string("orchestration is ") + toString(stored->state) + ": only a paused orchestration can be resumed"};
    }
    if (a->orch.state != OrchestrationState::Paused)
        return {409, std::string("orchestration is ") + toString(a->orch.state) +
                         ": only a paused orchestration can be resumed"};
    Orchestration next = a->orch;  // written before anything changes in memory
    next.state = OrchestrationState::InProgress;
    // Failures so far are acknowledged: the budgets count from zero again (SPEC 10).
    std::int64_t acknowledged = a->failed - next.rollout.acknowledgedFailures;
    next.rollout.acknowledgedFailures = a->failed;
    if (a->staged && a->cursor < next.rollout.stages.size()) {
        next.rollout.stages[a->cursor].acknowledgedFailures = a->stageFailed[a->cursor];
    }
    next.description = "resumed by operator";
    if (acknowledged > 0) next.description += ": " + std::to_string(acknowledged) + " failed operations acknowledged";
    next.updatedAt = now;
    impl_->writeOrchestration(next);
    a->orch.rollout = next.rollout;
    impl_->setOrchState(*a, next.state, next.description, now);
    return {};
}

namespace {
// Up to this many operations in progress, a restart reads each by id (an orchestration with a few
// in progress among 100,000 does not read them all); above it, one streamed read of the state.
constexpr std::size_t kRecoverReadEachMax = 64;
}  // namespace

// How far ahead recover() hints the fleet lookups of pending operations (FleetSource::prefetch).
constexpr std::size_t kPlaceFar = 16, kPlaceNear = 4, kPlaceRing = 32;
static_assert(kPlaceRing > kPlaceFar, "the ring holds the ids from the current operation to the farthest one");

void Engine::recover(Millis now) {
    for (const Orchestration& o : store_.unfinishedOrchestrations()) {
        if (impl_->find(o.orchestrationID)) continue;
        Active& a = impl_->activate(o);
        impl_->emit(now, "orchestration.recovered", o.orchestrationID, {}, {}, toString(o.state));
        if (o.state == OrchestrationState::Pending) {
            impl_->addTimer(std::max(now, scheduleStart(o)), a, TimerKind::Resolve);
            continue;
        }
        a.resolved = true;
        const bool canceling = a.orch.state == OrchestrationState::Canceling;
        // Slots come from the operations' scheduling fields; only operations in progress are
        // read whole (their snapshot). Store calls wait until the visit is over.
        std::vector<std::string> inProgress;
        std::vector<Store::ScheduleChange> moved;
        // Pending operations placed in their windows after the visit: seq and stored start.
        struct ToPlace {
            std::int64_t seq;
            Millis startAt;
        };
        std::vector<ToPlace, BigAllocator<ToPlace>> toPlace;  // 1.6 MB at 100,000: huge pages
        Runtime& rt = impl_->runtime;
        const std::optional<std::uint64_t> gen = fleet_.generation();
        {
            std::int64_t total = 0;
            for (const auto& [state, n] : store_.operationStats(o.orchestrationID)) total += n;
            a.slots.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, total)));
            toPlace.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, total)));
        }
        // Packed briefs: the slots take UUID ids as the store keeps them (16 bytes), no text
        // is made and parsed again for every pending operation.
        store_.forEachOperationBriefPacked(o.orchestrationID, [&](const Store::OperationBrief& op) {
            a.nextSeq = std::max(a.nextSeq, op.seq + 1);
            const int k = a.stageOf(op.seq);
            if (a.policy) {  // SPEC 10 counters, rebuilt from the operations
                if (op.state == OperationState::Failed) {
                    ++a.failed;
                    if (k >= 0) ++a.stageFailed[static_cast<std::size_t>(k)];
                }
                if (k >= 0 && !isFinished(op.state)) ++a.stageLive[static_cast<std::size_t>(k)];
            }
            if (op.state == OperationState::InProgress) {
                std::string& id = inProgress.emplace_back(op.operationID);
                if (op.operationUuid) unpackUuid(op.operationUuid, id);
            } else if (op.state == OperationState::Pending && k >= 0 &&
                       a.orch.rollout.stages[static_cast<std::size_t>(k)].state == StageState::Pending) {
                // Its stage has not started: it is placed when the stage starts.
                impl_->slotFor(a, op.operationID, op.runtimeID, op.seq, op.startAt, OperationState::Pending,
                               op.immediate, op.operationUuid, op.runtimeUuid);
            } else if (op.state == OperationState::Pending) {
                impl_->slotFor(a, op.operationID, op.runtimeID, op.seq, op.startAt, OperationState::Pending,
                               op.immediate, op.operationUuid, op.runtimeUuid);
                if (!canceling && impl_->usesWindows(a, op.immediate)) {  // placed below
                    toPlace.push_back({op.seq, op.startAt});
                } else {
                    a.pushReady(op.startAt, op.seq);
                }
            }
        });
        // Windows are recomputed: the runtime's window may have changed while we were down. The
        // lookups are random over the fleet: a few ahead are prefetched, so that they overlap.
        {
            // The runtime ids of the next kPlaceFar operations, from their slots (a ring).
            std::array<std::string, kPlaceRing> ids;
            auto idOf = [&](std::size_t i) -> std::string& { return ids[i % kPlaceRing]; };
            auto ahead = [&](std::size_t i) {  // operation i is looked up kPlaceFar operations from now
                if (i >= toPlace.size()) return;
                a.runtimeIDInto(a.slots[static_cast<std::size_t>(toPlace[i].seq)], idOf(i));
                fleet_.prefetch(idOf(i), true);
            };
            for (std::size_t i = 0; i < kPlaceFar; ++i) ahead(i);
            std::string why, idText;
            for (std::size_t i = 0; i < toPlace.size(); ++i) {
                ahead(i + kPlaceFar);
                if (i + kPlaceNear < toPlace.size()) fleet_.prefetch(idOf(i + kPlaceNear), false);
                const ToPlace& p = toPlace[i];
                Millis startAt = p.startAt;
                RuntimeFacts f;
                if (fleet_.findWindowInto(idOf(i), now, rt) && impl_->derive(rt, true, f, &why)) {
                    const WindowInstance w = nextWindow(f.window, now);
                    startAt = std::max(now, w.begin);
                    Slot& s = a.slots[static_cast<std::size_t>(p.seq)];
                    if (startAt != p.startAt) {
                        a.operationIDInto(s, idText);
                        moved.push_back({idText, startAt, w.begin, w.end, p.seq, s.idUuid()});
                        s.startAt = startAt;
                    }
                    impl_->remember(s, gen, f);
                }
                a.pushReady(startAt, p.seq);
            }
        }
        if (!moved.empty()) impl_->writeMoves(o.orchestrationID, moved, nullptr, now);
        // Operations in progress, whole: one streamed read (in creation order, as the visit above)
        // when there are many, one read each when there are few.
        std::vector<std::shared_ptr<const Operation>> snaps;
        snaps.reserve(inProgress.size());
        if (inProgress.size() > kRecoverReadEachMax) {
            store_.forEachOperationInState(o.orchestrationID, OperationState::InProgress, [&](const Operation& op) {
                snaps.push_back(std::make_shared<const Operation>(op));
            });
        } else {
            for (const std::string& id : inProgress) {
                Operation op;
                if (store_.readOperation(o.orchestrationID, id, op))
                    snaps.push_back(std::make_shared<const Operation>(std::move(op)));
            }
        }
        for (std::shared_ptr<const Operation>& snap : snaps) {
            Slot& s = impl_->slotFor(a, *snap);
            const std::int64_t seq = snap->seq;
            Flight& f = a.startFlight(s, std::move(snap));
            s.acked = f.snap->upgradeStarted;
            ++a.running;
            impl_->markBusy(a, s, seq);
            // Started upgrades are polled, never started again; an upgrade whose start was not
            // acknowledged is started again (backends recognise a repeated start by operationID).
            impl_->addTimer(now, a, s.acked ? TimerKind::Poll : TimerKind::Start, seq);
        }
        if (canceling) impl_->cancelPending(a, now);
        // A failure written just before a stop may not have paused the orchestration yet.
        if (a.policy)
            impl_->checkBudgets(a, a.staged && a.cursor < a.orch.rollout.stages.size() ? static_cast<int>(a.cursor) : -1,
                                now);
    }
    impl_->rebuildClaims();
}

std::vector<Action> Engine::tick(Millis now) {
    std::vector<Action> out;
    tick(now, out);
    return out;
}

void Engine::tick(Millis now, std::vector<Action>& out) {
    auto& timers = impl_->timers;
    // Due timers first (resolution, restarts of in-progress operations, polls).
    while (!timers.empty() && timers.top().at <= now) {
        const Timer t = timers.top();
        timers.pop();
        if (!timers.empty()) impl_->prefetchTimer(timers.top());  // due soon: its slot is read then
        if (!impl_->timerLive(t)) continue;
        Active* a = impl_->findHandle(t.orch);
        if (t.kind == TimerKind::Resolve) {
            if (!a->resolved && a->orch.state == OrchestrationState::Pending) impl_->resolve(*a, now);
            continue;
        }
        Slot* s = a->slot(t.seq);
        s->actionOut = true;
        ++impl_->actionsOut;
        // Polls are not state changes and are not reported (thousands a minute on a large
        // rollout); re-starting an unacknowledged upgrade after a restart is.
        const std::shared_ptr<const Operation>& snap = a->flight(*s)->snap;
        if (t.kind == TimerKind::Start)
            impl_->emit(now, "operation.restart", a->orch.orchestrationID, snap->operationID, snap->runtimeID);
        out.push_back(Action{t.kind == TimerKind::Poll ? Action::Kind::Poll : Action::Kind::Start, a->orch.type,
                             snap, a->handle, t.seq});
    }
    // Then free workers take ready operations, orchestrations in creation order.
    for (std::size_t i = 0; i < impl_->order.size();) {
        Active& a = *impl_->order[i];
        if (a.orch.state == OrchestrationState::Retrying) {
            impl_->setOrchState(a, OrchestrationState::InProgress, a.orch.description, now);
            impl_->writeOrchestration(a.orch);
        }
        if (a.staged) impl_->stageStep(a, now);
        if (a.orch.state == OrchestrationState::InProgress) impl_->fill(a, now, out);
        const std::size_t before = impl_->order.size();
        impl_->maybeFinish(a, now);
        if (impl_->order.size() == before) ++i;
    }
}

void Engine::complete(const Action& action, const StepResult& result, Millis now) {
    Active* a = impl_->findHandle(action.orchestrationHandle);
    if (!a) return;
    Slot* sp = a->slot(action.seq);
    // Stale (e.g. handed out before a restart, or by another engine): not this slot's snapshot.
    if (!sp || !sp->actionOut) return;
    Flight* fp = a->flight(*sp);
    if (!fp || fp->snap != action.op) return;
    Slot& s = *sp;
    Flight& fl = *fp;  // stays put: nothing starts before the last use below
    s.actionOut = false;
    --impl_->actionsOut;
    const std::int64_t seq = action.seq;
    switch (result.kind) {
        case StepResult::Kind::Done:
            impl_->finishOperation(*a, seq, OperationState::Succeeded,
                                   fl.snap->dryRun ? "dry run: nothing was changed" : "upgrade succeeded", now);
            break;
        case StepResult::Kind::Failed:
            impl_->finishOperation(*a, seq, OperationState::Failed,
                                   result.reason.empty() ? "upgrade failed" : result.reason, now);
            break;
        case StepResult::Kind::Again: {
            if (fl.startedAt && now - fl.startedAt >= config_.operationTimeout) {
                impl_->finishOperation(*a, seq, OperationState::Failed, "operation has reached the time limit", now);
                break;
            }
            // The store is written only when something changed: the first acknowledgement of
            // the start, or a new progress note (polls are otherwise free of store I/O).
            // The snapshot is replaced only for a new note (backends see the description); the
            // acknowledgement itself is kept in the slot.
            const bool newNote = !result.reason.empty() && hashNote(result.reason) != fl.noteHash;
            if (!s.acked || newNote) {
                Store::ProgressChange& c = impl_->progressOf(*a, s, seq, OperationState::InProgress,
                                                             newNote ? &result.reason : nullptr, now);
                c.upgradeStarted = true;
                impl_->commitProgress(*a);
                s.acked = true;
                if (newNote) {
                    auto op = std::make_shared<Operation>(*fl.snap);
                    op->upgradeStarted = true;
                    op->description = result.reason;
                    op->updatedAt = now;
                    fl.noteHash = hashNote(op->description);
                    fl.snap = std::move(op);
                }
            }
            const Millis after = result.retryAfter > 0 ? result.retryAfter : config_.pollInterval;
            impl_->addTimer(now + after, *a, TimerKind::Poll, seq);
            break;
        }
    }
    if (a->staged) impl_->stageStep(*a, now);
    impl_->maybeFinish(*a, now);
}

std::optional<Millis> Engine::nextWakeup() const {
    std::optional<Millis> best;
    auto consider = [&](Millis t) {
        if (!best || t < *best) best = t;
    };
    auto& timers = impl_->timers;  // stale timers on top are dropped here (lazy removal)
    while (!timers.empty() && !impl_->timerLive(timers.top())) timers.pop();
    if (!timers.empty()) consider(timers.top().at);
    for (const auto& a : impl_->order) {
        // A state change is due at once (retrying -> in progress; finished after a restart).
        if (a->orch.state == OrchestrationState::Retrying || (a->resolved && a->liveCount == 0))
            consider(a->orch.updatedAt);
        if (a->orch.state != OrchestrationState::InProgress && a->orch.state != OrchestrationState::Retrying) continue;
        if (a->staged && a->cursor < a->orch.rollout.stages.size()) {
            const StageProgress& sp = a->orch.rollout.stages[a->cursor];
            if (sp.state == StageState::Soaking) consider(sp.soakUntil);
            else if (sp.state == StageState::Pending) consider(a->orch.updatedAt);  // starts at once
        }
        a->pruneReady();
        const int workers = a->staged ? impl_->workersOf(*a) : std::max(1, a->orch.parameters.strategy.workers);
        if (a->running < workers && !a->ready.empty()) {
            Millis t = a->ready.top().startAt;
            if (a->policy && !a->blackouts.empty()) t = a->blackouts.clearAt(std::max(t, a->blackoutUntil));
            consider(t);
        }
    }
    return best;
}

std::size_t Engine::activeOrchestrations() const { return impl_->order.size(); }
std::size_t Engine::actionsOut() const { return impl_->actionsOut; }

}  // namespace keb
