#include "app.h"

#include <emscripten.h>

#include <algorithm>
#include <charconv>

#include "bundled_scenarios.h"
#include "keb/sim/scenario.h"
#include "keb/timefmt.h"

namespace keb::web {

App& App::instance() {
    static App app;
    return app;
}

void App::init() {}

std::optional<std::uint64_t> parseSeed(const std::string& text, std::string* error) {
    std::size_t b = text.find_first_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;
    std::size_t e = text.find_last_not_of(" \t");
    std::uint64_t v = 0;
    const char* first = text.data() + b;
    const char* last = text.data() + e + 1;
    auto [p, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || p != last) {
        if (error) *error = "seed must be a non-negative integer (up to 18446744073709551615), got '" + text + "'";
        return std::nullopt;
    }
    return v;
}

std::unique_ptr<sim::Simulation> App::prepare(const std::string& jsonText, const std::string& name,
                                              std::optional<std::uint64_t> seed, std::optional<int> fleetSize,
                                              std::string* error) {
    try {
        sim::Scenario sc = sim::parseScenario(jsonText, name);
        if (fleetSize) {
            if (*fleetSize < 1 || *fleetSize > 200000) {
                if (error) *error = "fleet size must be between 1 and 200000";
                return nullptr;
            }
            sc.fleet.size = *fleetSize;
        }
        return std::make_unique<sim::Simulation>(std::move(sc), seed);
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return nullptr;
    }
}

bool App::load(const std::string& jsonText, const std::string& name, std::optional<std::uint64_t> seed,
               std::optional<int> fleetSize, std::string* error) {
    auto next = prepare(jsonText, name, seed, fleetSize, error);
    if (!next) return false;
    install(std::move(next), jsonText, name, seed, fleetSize);
    return true;
}

void App::startLoad(const std::string& jsonText, const std::string& name, std::optional<std::uint64_t> seed,
                    std::optional<int> fleetSize) {
    pendingLoad.emplace();
    pendingLoad->text = jsonText;
    pendingLoad->name = name;
    pendingLoad->seed = seed;
    pendingLoad->fleetSize = fleetSize;
    pendingLoad->phase = 0;
    pendingLoad->startedAtMs = emscripten_get_now();
}

// One phase per frame, so the overlay (drawUi) shows where the load is between them:
// 0 requested -> 1 scenario parsed and shoots generated -> 2 fleet map built, done.
void App::stepLoad() {
    if (!pendingLoad) return;
    PendingLoad& p = *pendingLoad;
    if (!p.drawn) return;  // the overlay of this phase has not been on screen yet
    p.drawn = false;
    ++p.phasesShown;
    if (p.phase == 0) {
        std::string err;
        p.next = prepare(p.text, p.name, p.seed, p.fleetSize, &err);
        if (!p.next) {
            loadError = err;
            pendingLoad.reset();
            return;
        }
        p.shoots = p.next->fleet().size();
        p.phase = 1;
        return;
    }
    const std::string name = p.name;
    install(std::move(p.next), p.text, p.name, p.seed, p.fleetSize);
    loadMessage = "Loaded " + name + " (" + std::to_string(sim_->fleet().size()) + " shoots, seed " +
                  std::to_string(sim_->seed()) + ") in " +
                  std::to_string(static_cast<int>(emscripten_get_now() - p.startedAtMs)) + " ms";
    lastLoadMs = emscripten_get_now() - p.startedAtMs;
    lastLoadPhasesShown = p.phasesShown;
    pendingLoad.reset();
}

void App::install(std::unique_ptr<sim::Simulation> next, const std::string& jsonText, const std::string& name,
                  std::optional<std::uint64_t> seed, std::optional<int> fleetSize) {
    // Stage and pause events for the timeline and the table: a short compare per log line.
    stageMarks.clear();
    next->setTraceSink([this](const std::string& line) { stageMarks.consume(line); });
    sim_ = std::move(next);
    scenarioText_ = jsonText;
    scenarioName_ = name;
    // The scenario picker follows every load (the panel's, kebSim.loadScenario's, a file's):
    // the bundled entry of that file name, else the loaded name itself.
    {
        const std::string base = name.substr(name.find_last_of('/') == std::string::npos ? 0 : name.find_last_of('/') + 1);
        pickerShowsLoaded = true;
        const auto& bundled = bundledScenarios();
        for (std::size_t i = 0; i < bundled.size(); ++i)
            if (bundled[i].name == base) {
                selectedScenario = static_cast<int>(i);
                pickerShowsLoaded = false;
            }
    }
    seedOverride_ = seed;
    fleetSizeOverride_ = fleetSize;
    ++mutations_;
    playing = false;
    lagging = false;
    lastSubmit.reset();
    selectedOrchestration.clear();
    orchPage = opPage = 1;
    filter = FleetFilter{};
    tableMessage.clear();
    blackouts_.clear();
    blackoutOrchestrationsSeen_ = 0;
    engineBlackoutsRead_ = false;
    fleet.rebuild(*sim_);
    syncRollout();
    jumpText = formatRfc3339(sim_->now());
}

std::uint64_t App::version() const {
    // Events move the simulation; loads, injections and API calls change it between events.
    return (sim_ ? sim_->eventsProcessed() : 0) + (mutations_ << 32);
}

void App::advance(double realMs) {
    stepLoad();
    if (live) {
        pollLive();
        return;
    }
    if (!sim_) return;
    if (playing) {
        realMs = std::clamp(realMs, 0.0, 100.0);  // a hidden tab does not make one huge jump
        const double t0 = emscripten_get_now();
        frameBudgetMs = std::clamp(kFrameTargetMs - lastOtherMs - lastRefreshMs, kMinSimBudgetMs, kMaxSimBudgetMs);
        Millis target = std::min(sim_->now() + static_cast<Millis>(realMs * speed), sim_->endTime());
        lagging = false;
        while (true) {
            auto next = sim_->nextEventTime();
            if (!next || *next > target) {
                if (target > sim_->now()) sim_->advanceTo(target);
                break;
            }
            sim_->run(4);
            if (emscripten_get_now() - t0 > frameBudgetMs) {
                lagging = true;  // the clock stays where the work stopped: playback slows down, frames don't
                break;
            }
        }
        if (sim_->finished() || sim_->now() >= sim_->endTime()) playing = false;
    }
    const double r0 = emscripten_get_now();
    if (playing)
        fleet.refreshSlice(*sim_, kRefreshCellsPerFrame);
    else if (lastRefreshVersion_ != version())
        fleet.refresh(*sim_);
    lastRefreshVersion_ = version();
    syncRollout();
    lastRefreshMs = emscripten_get_now() - r0;
}

void App::syncRollout() {
    if (!sim_) return;
    // Server-wide blackouts first (the engine's configuration), then each new orchestration's own,
    // read once through the router (its parameters never change).
    if (!engineBlackoutsRead_) {
        blackouts_ = engineBlackoutSpans(sim_->engine().config().blackouts);
        engineBlackoutsRead_ = true;
    }
    const auto& orchs = sim_->orchestrations();
    for (; blackoutOrchestrationsSeen_ < orchs.size(); ++blackoutOrchestrationsSeen_) {
        const std::string& id = orchs[blackoutOrchestrationsSeen_].orchestrationID;
        const ApiResponse r = sim_->api("GET", "/orchestrations/" + id);
        if (r.status != 200) continue;
        for (BlackoutSpan& b : requestBlackoutSpans(r.body)) blackouts_.push_back(std::move(b));
    }
    // Stage names the log lines did not carry: from the stored orchestration, once per mark.
    std::string lastID;
    std::optional<Orchestration> stored;
    for (StageMark& m : stageMarks.marks()) {
        if (m.nameLookedUp) continue;
        if (m.orchestrationID != lastID) {
            lastID = m.orchestrationID;
            stored = sim_->store().getOrchestration(lastID);
        }
        if (stored) resolveStageName(m, *stored);
        else m.nameLookedUp = true;
    }
}

bool App::stepOnce() {
    if (!sim_) return false;
    bool ok = sim_->step();
    fleet.refresh(*sim_);
    return ok;
}

bool App::jumpTo(Millis t, std::string* error) {
    if (!sim_) {
        if (error) *error = "no scenario loaded";
        return false;
    }
    if (t > sim_->endTime()) t = sim_->endTime();
    if (t < sim_->startTime()) t = sim_->startTime();
    if (t < sim_->now()) {
        // Replay from the start: a run is a pure function of (scenario, seed).
        std::string text = scenarioText_, name = scenarioName_, err;
        auto seed = seedOverride_;
        auto size = fleetSizeOverride_;
        if (!load(text, name, seed, size, &err)) {
            if (error) *error = err;
            return false;
        }
    }
    sim_->advanceTo(t);
    ++mutations_;
    fleet.refresh(*sim_);
    return true;
}

void App::setSpeed(double x) { speed = std::clamp(x, 1.0, 100000.0); }

void App::injectRestart() {
    if (!sim_) return;
    sim_->restart();
    ++mutations_;
    fleet.refresh(*sim_);
}

void App::injectOutage(Millis span) {
    if (sim_ && span > 0) sim_->gardenerOutage(span, "simulated Gardener outage (injected from the UI)");
    ++mutations_;
}

void App::injectFailureBurst(Millis span, double probability) {
    if (sim_ && span > 0) sim_->failureBurst(span, std::clamp(probability, 0.0, 1.0));
    ++mutations_;
}

ApiAnswer App::api(const std::string& method, const std::string& pathAndQuery, const std::string& body,
                   const std::string& contentType) {
    if (!sim_) return {409, errorJson("no scenario loaded: load one in the Scenario panel first")};
    ++mutations_;
    ApiResponse r = sim_->api(method, pathAndQuery, body, contentType);
    fleet.refresh(*sim_);
    syncRollout();
    return {r.status, std::move(r.body)};
}

const ApiResponse& App::cachedGet(CachedGet& slot, const std::string& pathAndQuery) {
    std::uint64_t v = version();
    const double nowMs = emscripten_get_now();
    if (live) {
        // The server's answer, asked again every kLivePollMs (or at once after an action);
        // the last answer is shown meanwhile (status 0 until the first one arrives).
        if (slot.pathAndQuery != pathAndQuery) {
            slot.pathAndQuery = pathAndQuery;
            slot.response = ApiResponse{0, Json{{"error", "loading"}}};
            slot.inFlight = false;
            slot.fetchedAtMs = 0;
            ++slot.generation;
        }
        if (!slot.inFlight && !token.empty() && (slot.fetchedAtMs == 0 || nowMs - slot.fetchedAtMs > kLivePollMs)) {
            slot.inFlight = true;
            slot.fetchedAtMs = nowMs;
            CachedGet* sp = &slot;
            const std::uint64_t gen = slot.generation;
            liveFetch("GET", pathAndQuery, "", "", token, [this, sp, gen](const LiveAnswer& a) {
                if (sp->generation != gen) return;
                sp->inFlight = false;
                sp->fetchedAtMs = emscripten_get_now();
                sp->response = ApiResponse{a.status, a.body};
                noteLive(a);
            });
        }
        if (token.empty()) slot.response = ApiResponse{401, Json{{"error", "enter a token and press Connect"}}};
        return slot.response;
    }
    const bool throttled = playing && slot.pathAndQuery == pathAndQuery &&
                           (nowMs - slot.fetchedAtMs < std::max(kPlayingRefreshMs, kPlayingCostFactor * slot.costMs) ||
                            lastGetFrame_ == frameNumber);
    if (slot.pathAndQuery != pathAndQuery || (slot.version != v && !throttled)) {
        slot.pathAndQuery = pathAndQuery;
        slot.fetchedAtMs = nowMs;
        if (sim_) {
            slot.response = sim_->api("GET", pathAndQuery);
        } else {
            slot.response = ApiResponse{409, errorJson("no scenario loaded")};
        }
        slot.version = v;
        slot.costMs = emscripten_get_now() - nowMs;
        if (playing) lastGetFrame_ = frameNumber;
    }
    return slot.response;
}

// totalCount of a list answer, -1 when there is none (not asked, loading, an error).
static std::int64_t totalOf(const ApiResponse& r) {
    if (r.status != 200 || !r.body.is_object()) return -1;
    auto it = r.body.find("totalCount");
    return it != r.body.end() && it->is_number_integer() ? it->get<std::int64_t>() : -1;
}

Json App::stateJson() {
    Json s = {{"loaded", loaded()}, {"playing", playing}, {"speed", speed}, {"lagging", lagging},
              {"lastRefreshMs", lastRefreshMs}};
    if (sim_) {
        std::int64_t started = 0, finished = 0;
        for (const auto& h : sim_->hourly()) {
            started += h.started;
            finished += h.finished;
        }
        s["name"] = scenarioName_;
        s["seed"] = std::to_string(sim_->seed());
        s["now"] = formatRfc3339(sim_->now());
        s["start"] = formatRfc3339(sim_->startTime());
        s["end"] = formatRfc3339(sim_->endTime());
        s["finished"] = sim_->finished();
        s["fleetSize"] = sim_->fleet().size();
        s["workersInUse"] = sim_->workersInUse();
        s["orchestrations"] = sim_->orchestrations().size();
        s["operationsStarted"] = started;
        s["operationsFinished"] = finished;
        s["restarts"] = sim_->restarts();
        s["eventsProcessed"] = sim_->eventsProcessed();
    }
    if (!selectedOrchestration.empty()) {
        s["selectedOrchestration"] = selectedOrchestration;
        Json stages = Json::array();
        for (const StageRowView& r : shownStages)
            stages.push_back({{"name", r.name}, {"state", r.state}, {"done", r.done}, {"total", r.total},
                              {"failures", r.failures}, {"maxFailures", r.maxFailures},
                              {"soak", sim_ ? soakText(r, sim_->now()) : ""}});
        s["shown"] = {{"state", shownState}, {"stages", stages}, {"message", tableMessage},
                      {"messageIsError", tableMessageError}};
    }
    s["timeline"] = {{"blackouts", shownBlackouts}, {"marks", shownMarks},
                     {"knownBlackouts", blackouts_.size()}, {"knownMarks", stageMarks.marks().size()}};
    s["liveAvailable"] = liveAvailable;
    if (pendingLoad)
        s["loading"] = {{"name", pendingLoad->name}, {"phase", pendingLoad->phase}, {"shoots", pendingLoad->shoots}};
    s["lastLoadMs"] = lastLoadMs;
    s["lastLoadPhasesShown"] = lastLoadPhasesShown;
    s["panelMs"] = panelMs;
    s["picker"] = shownPickerName;
    if (live) {
        const auto& c = liveFleet.counts();
        Json counts = Json::object();
        for (int i = 0; i < kCellStates; ++i)
            if (c[i]) counts[cellStateName(static_cast<CellState>(i))] = c[i];
        Json l = {{"connected", !token.empty()}, {"status", liveStatus}, {"error", liveError},
                  {"fleetSize", liveFleet.size()}, {"runtimesTotal", liveRuntimesTotal},
                  {"runtimePages", liveRuntimePages}, {"fleetCounts", counts}, {"inFlight", liveInFlight()},
                  {"reads", {{"full", liveFullReads}, {"lastCycleMs", liveLastCycleMs}, {"pagesRead", livePagesApplied},
                             {"pageReadMaxMs", livePageApplyMaxMs}, {"pageReadLastMs", livePageApplyLastMs}}},
                  {"orchestrations", totalOf(orchList.response)},
                  {"operations", totalOf(opList.response)},
                  {"operationsShown", opList.response.status == 200 && opList.response.body.is_object() &&
                                              opList.response.body.contains("data") && opList.response.body["data"].is_array()
                                          ? opList.response.body["data"].size() : 0},
                  {"operationsQuery", opList.pathAndQuery}};
        if (preview) l["preview"] = {{"status", preview->status}, {"body", preview->body}, {"drawn", shownPreviewBars}};
        s["live"] = l;
    }
    s["mode"] = live ? "live" : "simulator";
    s["formBody"] = requestBody(form);
    if (lastSubmit) s["lastSubmit"] = {{"status", lastSubmit->status}, {"body", lastSubmit->body}};
    if (!loadError.empty()) s["loadError"] = loadError;
    if (!playbackError.empty()) s["playbackError"] = playbackError;
    return s;
}

}  // namespace keb::web

// ---------------------------------------------------------------- live mode (SPEC 12)
namespace keb::web {

namespace {
std::string errorText(const Json& body) {
    if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"].get<std::string>();
    return body.dump();
}
}  // namespace

void App::enterLive() {
    if (!liveAvailable) return;
    live = true;
    playing = false;
    selectedOrchestration.clear();
    tableMessage.clear();
    lastSubmit.reset();
    preview.reset();
    orchPage = opPage = 1;
    filter = FleetFilter{};
    if (!tokenInput.empty() && token.empty()) connect();
    refreshLive();
}

void App::leaveLive() {
    live = false;
    selectedOrchestration.clear();
    tableMessage.clear();
    lastSubmit.reset();
    filter = FleetFilter{};
    for (CachedGet* s : {&orchList, &orchOne, &opList}) *s = CachedGet{};
    ++mutations_;
}

void App::connect() {
    token = tokenInput;
    EM_ASM({ if (Module.kebRememberToken) Module.kebRememberToken(UTF8ToString($0)); }, token.c_str());
    liveError.clear();
    liveStatus = 0;
    liveFleet.clear();
    liveOps.clear();
    liveRuntimesLoaded = liveRuntimesTotal = 0;
    liveFleetAtMs = 0;
    selectedOrchestration.clear();
    refreshLive();
}

void App::refreshLive() {
    ++liveGeneration_;
    for (CachedGet* s : {&orchList, &orchOne, &opList}) {
        s->fetchedAtMs = 0;
        s->inFlight = false;
        ++s->generation;
    }
    runtimesInFlight_ = false;
    runtimesAskedAtMs_ = 0;
}

void App::noteLive(const LiveAnswer& a) {
    liveStatus = a.status;
    if (a.status == 401 || a.status == 403 || a.status == 0)
        liveError = (a.status ? std::to_string(a.status) + " " : std::string()) + errorText(a.body);
    else if (a.status / 100 == 2)
        liveError.clear();
}

void App::request(const std::string& method, const std::string& pathAndQuery, const std::string& body,
                  const std::string& contentType, std::function<void(const ApiAnswer&)> cb) {
    if (!live) {
        cb(api(method, pathAndQuery, body, contentType));
        return;
    }
    liveFetch(method, pathAndQuery, body, contentType, token, [this, cb](const LiveAnswer& a) {
        noteLive(a);
        refreshLive();  // the action changed the server: ask the tables and the fleet again
        cb(ApiAnswer{a.status, a.body});
    });
}

Millis App::nowMs() {
    if (live) return static_cast<Millis>(wallClockMs());
    return sim_ ? sim_->now() : 0;
}

void App::pollLive() {
    if (!live || token.empty()) return;
    const double now = emscripten_get_now();
    if (!runtimesInFlight_ && (runtimesAskedAtMs_ == 0 || now - runtimesAskedAtMs_ > kLivePollMs)) {
        abortRuntimesCycle();
        runtimesInFlight_ = true;
        runtimesAskedAtMs_ = cycleStartMs_ = now;
        // Page 1 alone first: its totalCount says how many pages there are.
        nextRuntimePageToAsk_ = 2;
        fetchRuntimes(1, liveGeneration_);
    }
    stepLiveRuntimes();
}

void App::abortRuntimesCycle() {
    runtimesInFlight_ = false;
    runtimePagesArrived_.clear();
    runtimePagesAsking_ = 0;
    nextRuntimePageToAsk_ = nextRuntimePageToApply_ = 1;
    cycleRows_ = 0;
    cycleMismatch_ = false;
    cycleRuntimes_.clear();
    cycleStates_.clear();
    cycleOps_.clear();
}

void App::fetchRuntimes(int page, std::uint64_t generation) {
    const std::string path = "/runtimes?page=" + std::to_string(page) + "&page_size=" + std::to_string(kRuntimesPageSize);
    ++runtimePagesAsking_;
    liveFetchRaw(path, token, [this, page, generation](int status, std::string&& text) {
        if (generation != liveGeneration_) return;  // a newer refresh started
        --runtimePagesAsking_;
        // Only kept here (between frames): the frame reads it (stepLiveRuntimes).
        runtimePagesArrived_[page] = {status, std::move(text)};
    });
}

void App::askRuntimePages() {
    const std::size_t pages = (liveRuntimesTotal + kRuntimesPageSize - 1) / kRuntimesPageSize;
    // The page to read next is always asked (a page shorter than the page size with a grown
    // total would otherwise wait forever).
    const std::size_t last = std::max(pages, static_cast<std::size_t>(nextRuntimePageToApply_));
    while (runtimePagesAsking_ + static_cast<int>(runtimePagesArrived_.size()) < kRuntimePagesInFlight &&
           static_cast<std::size_t>(nextRuntimePageToAsk_) <= last)
        fetchRuntimes(nextRuntimePageToAsk_++, liveGeneration_);
}

void App::stepLiveRuntimes() {
    if (!runtimesInFlight_) return;
    const double t0 = emscripten_get_now();
    while (runtimesInFlight_) {
        auto it = runtimePagesArrived_.find(nextRuntimePageToApply_);
        if (it == runtimePagesArrived_.end()) break;
        auto [status, text] = std::move(it->second);
        runtimePagesArrived_.erase(it);
        const double a0 = emscripten_get_now();
        const bool more = applyRuntimesPage(status, text);
        livePageApplyLastMs = emscripten_get_now() - a0;
        livePageApplyMaxMs = std::max(livePageApplyMaxMs, livePageApplyLastMs);
        ++livePagesApplied;
        if (!runtimesInFlight_) break;  // an error ended the cycle
        ++nextRuntimePageToApply_;
        if (!more) {
            finishRuntimesCycle();
            break;
        }
        askRuntimePages();
        if (emscripten_get_now() - t0 > kLivePageBudgetMs) break;  // the next frame goes on
    }
}

// Reads one page; false when it was the last one. Errors end the cycle (runtimesInFlight_ false).
bool App::applyRuntimesPage(int status, const std::string& text) {
    if (status != 200) {
        noteLive(liveAnswerOf(status, text));
        abortRuntimesCycle();
        return false;
    }
    std::string error;
    if (!scanRuntimesPage(text, runtimesPage_, &error) || !runtimesPage_.hasData) {
        liveStatus = status;
        liveError = error.empty() ? std::string("GET /runtimes: the answer has no data array") : error;
        abortRuntimesCycle();
        return false;
    }
    LiveAnswer ok;
    ok.status = status;
    noteLive(ok);
    liveRuntimesTotal = runtimesPage_.hasTotal ? runtimesPage_.totalCount : 0;
    const auto& rows = runtimesPage_.rows;
    const std::size_t offset = cycleRows_;
    auto stateOf = [](const LiveRuntimeRow& r) {
        return r.state.empty() ? CellState::NoOperation : cellStateFromApi(std::string(r.state));
    };
    if (!cycleMismatch_) {
        bool same = offset + rows.size() <= liveFleet.size();
        for (std::size_t i = 0; same && i < rows.size(); ++i)
            same = liveFleet.cell(offset + i).runtimeID == rows[i].runtimeID;
        if (!same) {
            // Everything read before this page was the cells themselves: take them over.
            cycleMismatch_ = true;
            cycleRuntimes_.reserve(std::max(liveRuntimesTotal, offset + rows.size()));
            for (std::size_t k = 0; k < offset; ++k) {
                cycleRuntimes_.push_back(liveFleet.runtimeOf(k));
                cycleStates_.push_back(liveFleet.state(k));
                cycleOps_.push_back(k < liveOps.size() ? liveOps[k] : LiveOp{});
            }
        }
    }
    if (cycleMismatch_) {
        for (const LiveRuntimeRow& r : rows) {
            cycleRuntimes_.push_back(r.toRuntime());
            cycleStates_.push_back(stateOf(r));
            cycleOps_.push_back(LiveOp{std::string(r.operationID), std::string(r.orchestrationID), std::string(r.state)});
        }
    } else {
        // The same runtimes in the same places: only states and last operations (most unchanged).
        if (liveOps.size() != liveFleet.size()) liveOps.resize(liveFleet.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            liveFleet.setLiveState(offset + i, stateOf(rows[i]));
            LiveOp& op = liveOps[offset + i];
            if (op.operationID != rows[i].operationID) op.operationID = rows[i].operationID;
            if (op.orchestrationID != rows[i].orchestrationID) op.orchestrationID = rows[i].orchestrationID;
            if (op.state != rows[i].state) op.state = rows[i].state;
        }
    }
    cycleRows_ += rows.size();
    liveRuntimesLoaded = cycleRows_;
    return !rows.empty() && cycleRows_ < liveRuntimesTotal;
}

void App::finishRuntimesCycle() {
    if (cycleMismatch_ || cycleRows_ != liveFleet.size()) {
        // New runtimes, others gone, or another order: build the map again from this cycle's read.
        liveFleet.rebuild(cycleRuntimes_, MaintenancePolicy{}, cycleStates_);
        liveOps = std::move(cycleOps_);
    }
    liveRuntimePages = nextRuntimePageToApply_ - 1;
    liveFleetAtMs = wallClockMs();
    liveLastCycleMs = emscripten_get_now() - cycleStartMs_;
    ++liveFullReads;
    abortRuntimesCycle();
}

}  // namespace keb::web
