#include "app.h"

#include <emscripten.h>

#include <algorithm>
#include <charconv>

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

bool App::load(const std::string& jsonText, const std::string& name, std::optional<std::uint64_t> seed,
               std::optional<int> fleetSize, std::string* error) {
    try {
        sim::Scenario sc = sim::parseScenario(jsonText, name);
        if (fleetSize) {
            if (*fleetSize < 1 || *fleetSize > 200000) {
                if (error) *error = "fleet size must be between 1 and 200000";
                return false;
            }
            sc.fleet.size = *fleetSize;
        }
        auto next = std::make_unique<sim::Simulation>(std::move(sc), seed);
        // Stage and pause events for the timeline and the table: a short compare per log line.
        stageMarks.clear();
        next->setTraceSink([this](const std::string& line) { stageMarks.consume(line); });
        sim_ = std::move(next);
    } catch (const std::exception& e) {
        if (error) *error = e.what();
        return false;
    }
    scenarioText_ = jsonText;
    scenarioName_ = name;
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
    return true;
}

std::uint64_t App::version() const {
    // Events move the simulation; loads, injections and API calls change it between events.
    return (sim_ ? sim_->eventsProcessed() : 0) + (mutations_ << 32);
}

void App::advance(double realMs) {
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
    const bool throttled = playing && slot.pathAndQuery == pathAndQuery &&
                           nowMs - slot.fetchedAtMs < std::max(kPlayingRefreshMs, kPlayingCostFactor * slot.costMs);
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
    }
    return slot.response;
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
    s["formBody"] = requestBody(form);
    if (lastSubmit) s["lastSubmit"] = {{"status", lastSubmit->status}, {"body", lastSubmit->body}};
    if (!loadError.empty()) s["loadError"] = loadError;
    if (!playbackError.empty()) s["playbackError"] = playbackError;
    return s;
}

}  // namespace keb::web
