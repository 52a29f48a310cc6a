// The discrete-event simulator (see simulation.h).
#include "keb/sim/simulation.h"

#include <algorithm>
#include <cstring>
#include <tuple>
#include <cstdio>
#include <map>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "keb/world/random.h"
#include "keb/timefmt.h"
#include "keb/windows.h"

namespace keb::sim {
namespace {

// True when one of the 8 bytes of w is < 0x20, '"' or '\\' (needs escaping in JSON). Per byte
// x, (x - c) & ~x has its high bit set exactly when x < c (c <= 0x80) with no borrow coming in;
// the borrows only start at a byte that already qualifies, so "some byte" is exact. x ^ '"' and
// x ^ '\\' keep the high bit of x, so the three tests share one ~w mask.
inline bool wordNeedsEscape(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const std::uint64_t below20 = w - ones * 0x20;
    const std::uint64_t quote = (w ^ (ones * '"')) - ones;
    const std::uint64_t backslash = (w ^ (ones * '\\')) - ones;
    return ((below20 | quote | backslash) & ~w & highs) != 0;
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes the n bytes at p JSON-escaped (no quotes) at d; returns the new end. Room: 6 bytes per byte.
char* writeEscaped(char* d, const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = static_cast<char>(c);
            continue;
        }
        *d++ = '\\';
        switch (c) {
            case '"': *d++ = '"'; break;
            case '\\': *d++ = '\\'; break;
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            default:  // \u00XX, lower-case hex (what "\\u%04x" printed)
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = kHexDigits[c >> 4];
                *d++ = kHexDigits[c & 15];
        }
    }
    return d;
}

// The body of a JSON string for v at d (no quotes); returns the new end. Room: 6 bytes per byte
// of v. Plain text (ids, times, states: nearly everything) is checked and copied 8 bytes at a time,
// the last partial word as an overlapping one.
inline char* writeValue(char* d, std::string_view v) {
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    const std::size_t n = v.size();
    if (n < 8) {
        if (n < 4) return writeEscaped(d, p, n);
        // 4..7 bytes ("pending", "failed"): the first and the last four, overlapping, as one word.
        std::uint32_t head, tail;
        std::memcpy(&head, p, 4);
        std::memcpy(&tail, p + n - 4, 4);
        if (wordNeedsEscape(head | std::uint64_t{tail} << 32)) return writeEscaped(d, p, n);
        std::memcpy(d, &head, 4);
        std::memcpy(d + n - 4, &tail, 4);
        return d + n;
    }
    std::size_t i = 0;
#if defined(__SSE2__)
    if (n >= 16) {  // 16 bytes at a time (a UUID: three loads, the last one overlapping)
        auto needsEscape = [](__m128i x) {
            const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                 _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
            const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);  // x <= 0x1f
            return _mm_movemask_epi8(_mm_or_si128(special, control)) != 0;
        };
        for (; i + 16 <= n; i += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            if (needsEscape(x)) return writeEscaped(d + i, p + i, n - i);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), x);
        }
        if (i < n) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
            if (needsEscape(x)) return writeEscaped(d + i, p + i, n - i);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), x);
        }
        return d + n;
    }
#endif
    for (; i + 8 <= n; i += 8) {
        if (wordNeedsEscape(loadLittleEndian64(p + i))) return writeEscaped(d + i, p + i, n - i);
        std::memcpy(d + i, p + i, 8);
    }
    if (i < n) {
        if (wordNeedsEscape(loadLittleEndian64(p + n - 8))) return writeEscaped(d + i, p + i, n - i);
        std::memcpy(d + n - 8, p + n - 8, 8);
    }
    return d + n;
}

// prefix (`,"key":"`, a literal) then v JSON-escaped and the closing quote.
template <std::size_t N>
inline void field(LineBuffer& out, const char (&prefix)[N], std::string_view v) {
    char* d = out.reserve(N - 1 + 6 * v.size() + 1);
    std::memcpy(d, prefix, N - 1);
    d = writeValue(d + N - 1, v);
    *d++ = '"';
    out.commit(d);
}

// ,"key":"value" for a key known only at run time.
void namedField(LineBuffer& out, std::string_view key, std::string_view v) {
    char* d = out.reserve(key.size() + 5 + 6 * v.size() + 1);
    *d++ = ',';
    *d++ = '"';
    std::memcpy(d, key.data(), key.size());
    d += key.size();
    *d++ = '"';
    *d++ = ':';
    *d++ = '"';
    d = writeValue(d, v);
    *d++ = '"';
    out.commit(d);
}

std::string hex64(std::uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

constexpr int kMaxHours = 24 * 400;
constexpr int kStallLimit = 10000;
constexpr std::size_t kMaxSamples = 10;

}  // namespace

Simulation::Simulation(Scenario scenario, std::optional<std::uint64_t> seedOverride)
    : scenario_(std::move(scenario)),
      seed_(seedOverride.value_or(scenario_.seed)),
      ids_(mix64(seed_ ^ 0x6f7263686964ull)),
      logHash_(kFnvOffset) {
    now_ = scenario_.start;
    fleet_ = std::make_unique<SimFleet>(scenario_.fleet, seed_);
    initialFleet_ = fleet_->size();
    runtimes_.reserve(initialFleet_);  // one entry per runtime that gets an operation
    for (const auto& o : scenario_.outages) fleet_->addOutage(o.from, o.to, o.error);
    backend_ = std::make_unique<SimBackend>(scenario_.faults, seed_);
    submitToOrch_.assign(static_cast<std::size_t>(scenario_.submitCount), -1);
    for (std::size_t i = 0; i < scenario_.timeline.size(); ++i)
        queue_.push(scenario_.timeline[i].at, SimEvent::Kind::Timeline, static_cast<std::uint32_t>(i));
    for (std::size_t i = 0; i < scenario_.disappearances.size(); ++i)
        queue_.push(scenario_.disappearances[i].at, SimEvent::Kind::Disappear, static_cast<std::uint32_t>(i));
    simEvent("sim.start", {{"scenario", scenario_.name},
                           {"seed", std::to_string(seed_)},
                           {"runtimes", std::to_string(initialFleet_)}});
    buildEngine();
    engine_->recover(now_);
    scheduleWakeup();
}

Simulation::~Simulation() {
    router_.reset();
    engine_.reset();
}

void Simulation::buildEngine() {
    engine_ = std::make_unique<Engine>(store_, *fleet_, ids_, scenario_.engine);
    engine_->setListener(this);
    router_ = std::make_unique<ApiRouter>(*engine_, store_);
}

// ------------------------------------------------------------------ running

bool Simulation::finished() const { return queue_.empty() || queue_.top().at > scenario_.end; }

std::optional<Millis> Simulation::nextEventTime() const {
    if (finished()) return std::nullopt;
    return queue_.top().at;
}

void Simulation::setTraceSink(std::function<void(const std::string&)> sink) {
    trace_ = std::move(sink);
    // Lines logged before the sink was set (sim.start, ...) are replayed when still held.
    if (trace_ && recent_.size() == logLines_)
        for (const auto& line : recent_) trace_(line);
}

void Simulation::setLogCapacity(std::size_t n) {
    logCapacity_ = n;
    while (recent_.size() > n) recent_.pop_front();
}

bool Simulation::step() {
    if (finished()) return false;
    SimEvent ev = queue_.pop();
    now_ = std::max(now_, ev.at);
    ++eventsProcessed_;
    process(ev);
    return true;
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
            // A final result ends the operation: its runtime's entry is updated from onEvent
            // (operation.state) once the engine has written the store; start loading it now.
            if (p.result.kind != StepResult::Kind::Again) runtimes_.prefetch(hashWords(p.action.operation().runtimeID));
            engine_->complete(p.action, p.result, now_);
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
            break;
    }
    scheduleWakeup();
}

void Simulation::tickEngine() {
    std::vector<Action>& actions = actions_;
    actions.clear();
    engine_->tick(now_, actions);
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
                const UpgradeFate& f = backend_->lastFate();
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
        const int want = t.expectStatus.value_or(def);
        if (got != want) {
            std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                                  ? ": " + body["error"].get<std::string>()
                                  : "";
            addCheck(t.path + ".status", false,
                     "expected HTTP " + std::to_string(want) + ", got " + std::to_string(got) + why);
        } else if (t.expectStatus) {
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
            if (t.expectStatus) expectStatus(r.status, *t.expectStatus, r.body);
            break;
        }
        case K::Cancel: {
            const std::string id = orchestrationID();
            if (id.empty()) break;
            ApiResponse r = api("PUT", "/orchestrations/" + id + "/cancel");
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
            failureBurst(t.span, t.probability);
            break;
        case K::Disappear:
            if (!t.runtimeIDs.empty()) disappear(t.runtimeIDs);
            if (t.count > 0) disappear(t.count);
            break;
        case K::Check: {
            std::vector<CheckResult> out;
            checkOrchestration(t.check, t.path, out);
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
    snapshotForRestart();
    const std::size_t lost = engine_->actionsOut();
    ++generation_;
    ++restarts_;
    router_.reset();
    engine_.reset();
    wakeupAt_.reset();
    simEvent("sim.restart", {{"actionsLost", std::to_string(lost)}, {"restarts", std::to_string(restarts_)}});
    buildEngine();
    engine_->recover(now_);
    scheduleWakeup();
}

void Simulation::gardenerOutage(Millis span, const std::string& error) {
    fleet_->addOutage(now_, now_ + span, error);
    simEvent("sim.outage", {{"until", formatRfc3339(now_ + span)}, {"error", error}});
}

void Simulation::failureBurst(Millis span, double probability) {
    backend_->plan().bursts.push_back(FailureBurst{now_, now_ + span, probability});
    char p[32];
    std::snprintf(p, sizeof p, "%g", probability);
    simEvent("sim.failureBurst", {{"until", formatRfc3339(now_ + span)}, {"probability", p}});
}

std::size_t Simulation::disappear(int count) {
    std::vector<std::uint32_t> idx(fleet_->size());
    for (std::uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
    Rng rng(mix64(seed_ ^ static_cast<std::uint64_t>(now_) ^ 0x646973ull));
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

void LineBuffer::grow(std::size_t extra) {
    std::size_t cap = cap_ == 0 ? 512 : cap_;
    while (cap - len_ < extra) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (len_ > 0) std::memcpy(bigger.get(), buf_.get(), len_);
    buf_ = std::move(bigger);
    cap_ = cap;
}

// {"at":"<time>","kind":"<kind>" with the time in keb::formatRfc3339's text, written without
// snprintf; the date part is cached per day and the whole time per instant.
void Simulation::beginLine(Millis t, std::string_view kind) {
    if (t != cachedTime_) {
        const Millis day = (t >= 0 ? t : t - (kDay - 1)) / kDay;
        if (day != cachedDay_) {
            cachedDay_ = day;
            const std::string date = formatRfc3339(day * kDay);
            cachedDateLen_ = std::min<std::size_t>(date.size(), 11);  // "YYYY-MM-DDT"
            std::memcpy(cachedDate_, date.data(), cachedDateLen_);
        }
        const Millis ms = t - day * kDay;
        const int h = static_cast<int>(ms / kHour), mi = static_cast<int>(ms / kMinute % 60),
                  sec = static_cast<int>(ms / kSecond % 60), frac = static_cast<int>(ms % 1000);
        char* d = cachedTimeText_;
        *d++ = '"';
        std::memcpy(d, cachedDate_, cachedDateLen_);
        d += cachedDateLen_;
        const char hms[8] = {char('0' + h / 10),   char('0' + h % 10),   ':', char('0' + mi / 10),
                             char('0' + mi % 10),  ':', char('0' + sec / 10), char('0' + sec % 10)};
        std::memcpy(d, hms, 8);
        d += 8;
        if (frac != 0) {
            *d++ = '.';
            *d++ = char('0' + frac / 100);
            *d++ = char('0' + frac / 10 % 10);
            *d++ = char('0' + frac % 10);
        }
        *d++ = 'Z';
        *d++ = '"';
        cachedTimeLen_ = static_cast<std::size_t>(d - cachedTimeText_);
        cachedTime_ = t;
    }
    line_.clear();
    static constexpr char kKind[] = ",\"kind\":\"";
    char* d = line_.reserve(6 + sizeof cachedTimeText_ + sizeof kKind + 6 * kind.size() + 1);
    std::memcpy(d, "{\"at\":", 6);
    std::memcpy(d + 6, cachedTimeText_, sizeof cachedTimeText_);  // fixed size: no call; the end is set below
    d += 6 + cachedTimeLen_;
    std::memcpy(d, kKind, sizeof kKind - 1);
    d = writeValue(d + sizeof kKind - 1, kind);
    *d++ = '"';
    line_.commit(d);
}

void Simulation::log() {
    {
        char* d = line_.reserve(1);
        *d++ = '}';
        line_.commit(d);
    }
    const std::string_view line = line_.view();
    logHash_ = hashWords(line, logHash_);
    logHash_ = hashWords("\n", logHash_);
    ++logLines_;
    if (!trace_ && logCapacity_ == 0) return;
    lineText_.assign(line);
    if (trace_) trace_(lineText_);
    if (logCapacity_ > 0) {
        if (recent_.size() >= logCapacity_) recent_.pop_front();
        recent_.push_back(lineText_);
    }
}

void Simulation::simEvent(const char* kind, std::initializer_list<std::pair<const char*, std::string_view>> fields) {
    beginLine(now_, kind);
    for (const auto& [k, v] : fields) namedField(line_, k, v);
    log();
}

HourStats& Simulation::hour(Millis t) {
    const std::int64_t h = std::clamp<std::int64_t>((t - scenario_.start) / kHour, 0, kMaxHours);
    if (static_cast<std::size_t>(h) >= hourly_.size()) hourly_.resize(static_cast<std::size_t>(h) + 1);
    return hourly_[static_cast<std::size_t>(h)];
}

OrchestrationInfo* Simulation::infoFor(std::string_view orchestrationID) {
    if (lastInfo_ < orchs_.size() && orchs_[lastInfo_].orchestrationID == orchestrationID) return &orchs_[lastInfo_];
    auto it = orchIndex_.find(hashWords(orchestrationID));
    if (it == orchIndex_.end() || orchs_[it->second].orchestrationID != orchestrationID) return nullptr;
    lastInfo_ = it->second;
    return &orchs_[it->second];
}

void Simulation::onEvent(const EngineEvent& e) {
    beginLine(e.at, e.kind);
    if (!e.orchestrationID.empty()) field(line_, ",\"orchestrationID\":\"", e.orchestrationID);
    if (!e.operationID.empty()) field(line_, ",\"operationID\":\"", e.operationID);
    if (!e.runtimeID.empty()) field(line_, ",\"runtimeID\":\"", e.runtimeID);
    if (!e.state.empty()) field(line_, ",\"state\":\"", e.state);
    if (!e.detail.empty()) field(line_, ",\"detail\":\"", e.detail);
    log();

    const std::string_view k = e.kind;
    if (k == "orchestration.created") {
        if (!orchIndex_.count(hashWords(e.orchestrationID))) {
            OrchestrationInfo info;
            info.orchestrationID = std::string(e.orchestrationID);
            if (auto o = store_.getOrchestration(info.orchestrationID)) {
                info.workers = std::max(1, o->parameters.strategy.workers);
                info.usesWindows = o->parameters.strategy.maintenanceWindow;
            }
            orchIndex_[hashWords(e.orchestrationID)] = static_cast<std::uint32_t>(orchs_.size());
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
    if (!created && !start && !state) return;
    OrchestrationInfo* info = infoFor(e.orchestrationID);
    const int orchIdx = info ? static_cast<int>(info - orchs_.data()) : -1;
    if (created) {
        runtimes_[hashWords(e.runtimeID)].status = RuntimeStatus{orchIdx, OperationState::Pending};
    } else if (start) {
        // The Start action comes out of this tick and checkStartWindow looks the runtime up in
        // the fleet: start loading its index slot now, while the engine finishes the tick.
        if (info && info->usesWindows) fleet_->prefetch(e.runtimeID);
        RuntimeEntry& rt = runtimes_[hashWords(e.runtimeID)];
        rt.status = RuntimeStatus{orchIdx, OperationState::InProgress};
        if (!inProgress_.emplace(hashWords(e.operationID), static_cast<std::uint32_t>(orchIdx)).second) return;
        HourStats& h = hour(e.at);
        ++h.started;
        ++inProgressTotal_;
        peakWorkers_ = std::max(peakWorkers_, inProgressTotal_);
        h.peakWorkers = std::max(h.peakWorkers, inProgressTotal_);
        if (info) {
            ++info->running;
            info->peakRunning = std::max(info->peakRunning, info->running);
            if (info->running > info->workers) {
                ++workerViolations_;
                if (violationSamples_.size() < kMaxSamples)
                    violationSamples_.push_back("workers exceeded: orchestration " + std::string(e.orchestrationID) + " runs " +
                                                std::to_string(info->running) + " > " + std::to_string(info->workers) +
                                                " at " + formatRfc3339(e.at));
            }
        }
        if (++rt.busy > 1) {
            ++concurrentUpgrades_;
            if (violationSamples_.size() < kMaxSamples)
                violationSamples_.push_back("two upgrades of runtime " + std::string(e.runtimeID) + " at once at " +
                                            formatRfc3339(e.at));
        }
    } else {  // operation.state
        auto st = parseOperationState(e.state);
        if (!st) return;
        RuntimeEntry& rt = runtimes_[hashWords(e.runtimeID)];
        rt.status = RuntimeStatus{orchIdx, *st};
        if (!isFinished(*st)) return;
        ++hour(e.at).finished;
        auto it = inProgress_.find(hashWords(e.operationID));
        if (it == inProgress_.end()) return;
        if (it->second < orchs_.size()) --orchs_[it->second].running;
        inProgress_.erase(it);
        --inProgressTotal_;
        if (rt.busy > 0) --rt.busy;
    }
}

std::size_t Simulation::WindowKeyHash::operator()(const SimFleet::WindowKey& k) const {
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
    SimFleet::WindowKey key;
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

void Simulation::snapshotForRestart() {
    std::vector<std::pair<std::uint64_t, OperationState>> snap;
    snap.reserve(atRestart_.size() + atRestart_.size() / 8 + 16);
    for (const auto& info : orchs_)
        store_.forEachOperationBrief(info.orchestrationID, [&](const Store::OperationBrief& op) {
            snap.emplace_back(hashWords(op.operationID), op.state);
        });
    std::sort(snap.begin(), snap.end());
    // Since the previous restart nothing may have vanished and no final state may have changed.
    // Both lists are sorted: one merge walk finds what lower_bound would for each entry (the
    // probes (h, Pending) never decrease along atRestart_).
    auto it = snap.begin();
    for (const auto& [h, st] : atRestart_) {
        const std::pair<std::uint64_t, OperationState> probe{h, OperationState::Pending};
        while (it != snap.end() && *it < probe) ++it;
        if (it == snap.end() || it->first != h) {
            ++lostViolations_;
        } else if (isFinished(st) && it->second != st) {
            ++lostViolations_;
        }
    }
    atRestart_ = std::move(snap);
}

void Simulation::forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) {
    store_.forEachOperation(orchestrationID, fn);  // streams: never a copy of 100,000 operations at once
}

std::string Simulation::submitted(int i) const {
    if (i < 0 || static_cast<std::size_t>(i) >= submitToOrch_.size() || submitToOrch_[i] < 0) return "";
    return orchs_[static_cast<std::size_t>(submitToOrch_[i])].orchestrationID;
}

std::optional<RuntimeStatus> Simulation::runtimeStatus(const std::string& runtimeID) const {
    const RuntimeEntry* rt = runtimes_.find(hashWords(runtimeID));
    if (!rt) return std::nullopt;
    return rt->status;
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
           runtimes_.bytes() + atRestart_.capacity() * sizeof(atRestart_[0]) +
           queue_.size() * sizeof(SimEvent) + pending_.capacity() * sizeof(Pending);
}

// ------------------------------------------------------------------ checks

void Simulation::addCheck(std::string name, bool ok, std::string detail) {
    simEvent("sim.check", {{"name", name}, {"ok", ok ? "true" : "false"}, {"detail", detail}});
    timelineChecks_.push_back(CheckResult{std::move(name), ok, std::move(detail)});
}

void Simulation::checkOrchestration(const OrchestrationExpect& e, const std::string& prefix,
                                    std::vector<CheckResult>& out) {
    const std::string id = submitted(e.index);
    if (id.empty()) {
        out.push_back({prefix, false, "submit #" + std::to_string(e.index) + " was not accepted (or not yet sent)"});
        return;
    }
    auto o = store_.getOrchestration(id);
    if (!o) {
        out.push_back({prefix, false, "orchestration " + id + " is not in the store"});
        return;
    }
    if (e.state)
        out.push_back({prefix + ".state", o->state == *e.state,
                       std::string("expected ") + toString(*e.state) + ", got " + toString(o->state) +
                           (o->description.empty() ? "" : " (" + o->description + ")")});
    const OperationStats stats = store_.operationStats(id);
    std::int64_t total = 0;
    for (const auto& [s, n] : stats) total += n;
    for (const auto& [s, want] : e.operations) {
        auto it = stats.find(s);
        const std::int64_t got = it == stats.end() ? 0 : it->second;
        out.push_back({prefix + ".operations." + toString(s), want.holds(got),
                       "expected " + want.describe() + ", got " + std::to_string(got)});
    }
    if (e.totalOperations)
        out.push_back({prefix + ".totalOperations", e.totalOperations->holds(total),
                       "expected " + e.totalOperations->describe() + ", got " + std::to_string(total)});
}

std::vector<CheckResult> Simulation::checks(bool final) {
    std::vector<CheckResult> out = timelineChecks_;
    if (stalled_) out.push_back({"engine", false, "the engine stalled (kept asking for a wakeup without progress)"});
    if (!final) return out;
    const Expectations& x = scenario_.expect;
    for (std::size_t i = 0; i < x.orchestrations.size(); ++i)
        checkOrchestration(x.orchestrations[i], "orchestrations[" + std::to_string(i) + "]", out);

    // Totals over every orchestration, and the post-hoc window check of every started operation.
    std::map<OperationState, std::int64_t> totals;
    std::int64_t recordedWindowViolations = 0;
    std::int64_t doubleUpgrades = 0;
    std::vector<std::string> samples = violationSamples_;
    const bool needOps = x.allStartedInsideWindow || x.noRuntimeUpgradedTwice || x.nothingLostAcrossRestarts;
    FlatMap<OperationState> current;  // hashWords(operationID) -> state now
    for (const auto& info : orchs_) {
        for (const auto& [s, n] : store_.operationStats(info.orchestrationID)) totals[s] += n;
        if (!needOps) continue;
        // (runtime, start time, state, operation) of every upgrade the backend really started.
        struct Started {
            std::uint64_t runtime;
            Millis startedAt;
            std::int64_t seq;
            OperationState state;
            std::uint64_t op;
            bool operator<(const Started& o) const {
                return std::tie(runtime, startedAt, seq) < std::tie(o.runtime, o.startedAt, o.seq);
            }
        };
        std::vector<Started> started;
        forEachOperation(info.orchestrationID, [&](const Operation& op) {
            if (x.nothingLostAcrossRestarts) current[hashWords(op.operationID)] = op.state;
            if (info.usesWindows && !op.immediate && op.startedAt != 0 &&
                !(op.maintenanceWindowBegin <= op.startedAt && op.startedAt < op.maintenanceWindowEnd)) {
                ++recordedWindowViolations;
                if (samples.size() < kMaxSamples)
                    samples.push_back("operation " + op.operationID + " started " + formatRfc3339(op.startedAt) +
                                      " outside its recorded window");
            }
            if (backend_->started(op.operationID))
                started.push_back({hashWords(op.runtimeID), op.startedAt, op.seq, op.state, hashWords(op.operationID)});
        });
        std::sort(started.begin(), started.end());
        std::unordered_set<std::uint64_t> repeatedAfter;  // operations after which the runtime was upgraded again
        for (std::size_t i = 0; i + 1 < started.size(); ++i)
            if (started[i].runtime == started[i + 1].runtime && started[i].state != OperationState::Failed) {
                ++doubleUpgrades;
                repeatedAfter.insert(started[i].op);
            }
        if (!repeatedAfter.empty())  // second pass only to name them
            forEachOperation(info.orchestrationID, [&](const Operation& op) {
                if (samples.size() < kMaxSamples && repeatedAfter.count(hashWords(op.operationID)))
                    samples.push_back("runtime " + op.runtimeID + " upgraded again after operation " +
                                      op.operationID + " ended " + toString(op.state));
            });
    }
    auto sampleText = [&](std::int64_t n) {
        if (n == 0) return std::string();
        std::string s;
        for (const auto& v : samples) s += "; " + v;
        return s;
    };
    for (const auto& [s, want] : x.operationStates)
        out.push_back({std::string("operationStates.") + toString(s), want.holds(totals[s]),
                       "expected " + want.describe() + ", got " + std::to_string(totals[s])});
    if (x.allStartedInsideWindow && *x.allStartedInsideWindow) {
        const std::int64_t n = windowViolations_ + recordedWindowViolations;
        out.push_back({"allStartedInsideWindow", n == 0, std::to_string(n) + " start(s) outside a window" + sampleText(n)});
    }
    if (x.workersNeverExceeded && *x.workersNeverExceeded) {
        std::string peaks;
        for (const auto& info : orchs_)
            peaks += (peaks.empty() ? "" : ", ") + std::to_string(info.peakRunning) + "/" + std::to_string(info.workers);
        out.push_back({"workersNeverExceeded", workerViolations_ == 0,
                       std::to_string(workerViolations_) + " violation(s); peak/workers per orchestration: " + peaks +
                           sampleText(workerViolations_)});
    }
    if (x.maxWorkersInUse)
        out.push_back({"maxWorkersInUse", peakWorkers_ <= *x.maxWorkersInUse,
                       "peak " + std::to_string(peakWorkers_) + ", limit " + std::to_string(*x.maxWorkersInUse)});
    if (x.peakWorkersInUse)
        out.push_back({"peakWorkersInUse", x.peakWorkersInUse->holds(peakWorkers_),
                       "expected " + x.peakWorkersInUse->describe() + ", got " + std::to_string(peakWorkers_)});
    if (x.finishBefore || (x.allFinished && *x.allFinished)) {
        std::int64_t unfinished = 0, late = 0;
        Millis last = 0;
        for (const auto& info : orchs_) {
            auto o = store_.getOrchestration(info.orchestrationID);
            if (!o || !isFinished(o->state)) {
                ++unfinished;
                continue;
            }
            last = std::max(last, o->updatedAt);
            if (x.finishBefore && o->updatedAt >= *x.finishBefore) ++late;
        }
        if (x.allFinished && *x.allFinished)
            out.push_back({"allFinished", unfinished == 0, std::to_string(unfinished) + " orchestration(s) unfinished"});
        if (x.finishBefore)
            out.push_back({"finishBefore", unfinished == 0 && late == 0,
                           "limit " + formatRfc3339(*x.finishBefore) + ", last finished " +
                               (last ? formatRfc3339(last) : std::string("never")) + ", " +
                               std::to_string(unfinished) + " unfinished"});
    }
    if (x.noRuntimeUpgradedTwice && *x.noRuntimeUpgradedTwice) {
        const std::int64_t n = doubleUpgrades + concurrentUpgrades_;
        out.push_back({"noRuntimeUpgradedTwice", n == 0,
                       std::to_string(backend_->upgrades()) + " upgrades, " + std::to_string(doubleUpgrades) +
                           " repeated, " + std::to_string(concurrentUpgrades_) + " concurrent, " +
                           std::to_string(backend_->duplicateStarts()) + " repeated start call(s) recognised" +
                           sampleText(n)});
    }
    if (x.nothingLostAcrossRestarts && *x.nothingLostAcrossRestarts) {
        std::int64_t lost = lostViolations_, stuck = 0;
        for (const auto& [h, st] : atRestart_) {
            const OperationState* now = current.find(h);
            if (!now || (isFinished(st) && *now != st)) ++lost;
            else if (!isFinished(*now)) ++stuck;
        }
        std::int64_t orchLost = 0;
        for (const auto& info : orchs_) {
            auto o = store_.getOrchestration(info.orchestrationID);
            if (!o || !isFinished(o->state)) ++orchLost;
        }
        out.push_back({"nothingLostAcrossRestarts", restarts_ > 0 && lost == 0 && stuck == 0 && orchLost == 0,
                       std::to_string(restarts_) + " restart(s); " + std::to_string(lost) +
                           " operation(s) lost or changed after finishing, " + std::to_string(stuck) +
                           " never finished, " + std::to_string(orchLost) + " orchestration(s) unfinished"});
    }
    if (x.upgrades)
        out.push_back({"upgrades", x.upgrades->holds(static_cast<std::int64_t>(backend_->upgrades())),
                       "expected " + x.upgrades->describe() + ", got " + std::to_string(backend_->upgrades())});
    if (x.resolveErrors)
        out.push_back({"resolveErrors", x.resolveErrors->holds(resolveErrors_),
                       "expected " + x.resolveErrors->describe() + ", got " + std::to_string(resolveErrors_)});
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
    j["eventLogLines"] = logLines_;
    j["eventLogHash"] = hex64(logHash_);
    j["fleet"] = {{"runtimes", initialFleet_}, {"live", fleet_->size()},
                  {"snapshots", fleet_->snapshotCalls()}, {"failedSnapshots", fleet_->failedSnapshots()}};
    j["restarts"] = restarts_;
    j["backend"] = {{"upgrades", backend_->upgrades()},           {"duplicateStarts", backend_->duplicateStarts()},
                    {"polls", backend_->polls()},                 {"succeeded", backend_->successesReported()},
                    {"failed", backend_->failuresReported()},     {"unknownPolls", backend_->pollsOfUnknown()},
                    {"droppedCompletions", droppedCompletions_}};
    j["resolveErrors"] = resolveErrors_;
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
