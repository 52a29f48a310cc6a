// State of the browser simulator. Panels draw from it every frame and own no state;
// every action (load, play, submit, inject) goes through App so the JS API and the UI
// do exactly the same thing.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fleet_view.h"
#include "frame_stats.h"
#include "keb/api.h"
#include "keb/sim/simulation.h"
#include "live.h"
#include "live_runtimes.h"
#include "request_form.h"
#include "stage_view.h"
#include "widget_registry.h"

namespace keb::web {

// Cached answer of one GET through the router (tables), refreshed when the simulation moved.
struct CachedGet {
    std::string pathAndQuery;
    std::uint64_t version = ~0ull;
    double fetchedAtMs = 0;  // real time of the last ask (emscripten_get_now)
    double costMs = 0;       // how long the last ask took
    ApiResponse response;
    // Live mode: a request is on its way (answers of an older generation are dropped).
    bool inFlight = false;
    std::uint64_t generation = 0;
};

struct ApiAnswer {
    int status = 0;
    Json body;
};

class App {
public:
    static App& instance();
    void init();

    // ---- scenario ----
    // Parses and loads a scenario for interactive playback. seed/fleetSize override the
    // scenario's. On failure the previous simulation stays and *error says why.
    bool load(const std::string& jsonText, const std::string& name, std::optional<std::uint64_t> seed,
              std::optional<int> fleetSize, std::string* error);
    bool loaded() const { return sim_ != nullptr; }
    // The Scenario panel's load: spread over frames with a progress overlay (100,000 shoots take
    // seconds): parse + generate the shoots in one frame, build the fleet map in the next.
    void startLoad(const std::string& jsonText, const std::string& name, std::optional<std::uint64_t> seed,
                   std::optional<int> fleetSize);
    struct PendingLoad {
        std::string text, name;
        std::optional<std::uint64_t> seed;
        std::optional<int> fleetSize;
        int phase = 0;          // 0: requested, 1: shoots generated
        bool drawn = false;     // the overlay showed this phase (set by drawUi)
        int phasesShown = 0;    // phases whose overlay was on screen before they ran
        std::size_t shoots = 0;
        double startedAtMs = 0;
        std::unique_ptr<sim::Simulation> next;
    };
    std::optional<PendingLoad> pendingLoad;
    double lastLoadMs = 0;
    int lastLoadPhasesShown = 0;  // of the last panel load: 2 = both steps were on screen
    sim::Simulation* sim() { return sim_.get(); }
    const std::string& scenarioName() const { return scenarioName_; }

    // ---- playback ----
    // Called once per frame with the real time since the previous frame (ms).
    void advance(double realMs);
    void play() { playing = loaded(); }
    void pause() { playing = false; }
    bool stepOnce();
    // Moves the clock to t. Going back replays the scenario from its start (deterministic);
    // what was done from the UI or the JS API since loading is not replayed.
    bool jumpTo(Millis t, std::string* error);
    void setSpeed(double x);

    // ---- injections (at the current simulated time) ----
    void injectRestart();
    void injectOutage(Millis span);
    void injectFailureBurst(Millis span, double probability);

    // ---- the core's API router, as a client ----
    ApiAnswer api(const std::string& method, const std::string& pathAndQuery, const std::string& body,
                  const std::string& contentType = "application/json");
    // GET with a per-key cache (tables): re-asked when the simulation changed; while playing at
    // most every kPlayingRefreshMs, or kPlayingCostFactor times what the last ask cost when that
    // is longer (a staged orchestration's GET counts its operations per stage: ~10-30 ms for
    // 100,000 operations, so at most a few percent of the real time goes to it).
    const ApiResponse& cachedGet(CachedGet& slot, const std::string& pathAndQuery);
    // While playing, at most one table is re-asked per frame (the others keep their answer a
    // frame longer), so a frame never pays for three GETs at once.
    static constexpr double kPlayingRefreshMs = 500, kPlayingCostFactor = 40;
    std::uint64_t frameNumber = 0;           // set by the frame loop
    std::uint64_t lastGetFrame_ = ~0ull;     // frame of the last re-ask while playing
    // Bumped by every event, API call, load and injection.
    std::uint64_t version() const;

    Json stateJson();

    // ---- live mode (SPEC 12): the server that served the page instead of the simulator ----
    // Tables, actions, the form and the fleet map read the server through HTTP (live.h); the
    // same panels draw both. Entered from the Scenario panel when the page came from keb-server.
    bool liveAvailable = false;   // /healthz answered: the page is served by keb-server
    bool live = false;
    std::string tokenInput;       // the token field
    std::string token;            // the token in use (kept in sessionStorage for the tab only)
    void enterLive();
    void leaveLive();
    void connect();               // uses tokenInput; refreshes everything
    void refreshLive();           // asks every table and the fleet again now
    bool hasData() const { return live || loaded(); }
    // Request through the current transport: the simulation's router (answer at once) or the
    // server (answer later). cb gets {status, body} either way.
    void request(const std::string& method, const std::string& pathAndQuery, const std::string& body,
                 const std::string& contentType, std::function<void(const ApiAnswer&)> cb);
    // "Now" for countdowns: simulated time, or the browser's clock in live mode.
    Millis nowMs();
    // The fleet the map draws: the simulated one, or the server's (GET /runtimes, all pages).
    FleetView& activeFleet() { return live ? liveFleet : fleet; }
    FleetView liveFleet;
    struct LiveOp {
        std::string operationID, orchestrationID, state;
    };
    std::vector<LiveOp> liveOps;  // per live fleet cell: its lastOperation
    std::size_t liveRuntimesLoaded = 0, liveRuntimesTotal = 0;
    int liveRuntimePages = 0;
    double liveFleetAtMs = 0;     // wall clock of the last complete /runtimes read
    int liveStatus = 0;           // status of the latest answer
    std::string liveError;        // the latest failed answer ("401 <server's message>")
    std::optional<ApiAnswer> preview;  // the latest POST ...?preview=true answer
    std::string previewRequest;        // its request body
    int shownPreviewBars = 0;          // hourly bars the timeline drew for it last frame
    static constexpr double kLivePollMs = 2000;

    // ---- UI state (drawn every frame) ----
    bool playing = false;
    double speed = 1000;          // simulated ms per real ms
    bool lagging = false;         // the last frame could not keep up with `speed`
    // Simulation work per frame: what is left of kFrameTargetMs after the rest of the last frame
    // (UI, GL submit, fleet refresh), between kMinSimBudgetMs and kMaxSimBudgetMs.
    static constexpr double kFrameTargetMs = 12, kMinSimBudgetMs = 2, kMaxSimBudgetMs = 8;
    double frameBudgetMs = 6;
    double lastOtherMs = 0;       // set by the frame loop: UI + render time of the last frame
    double lastRefreshMs = 0;     // time the fleet map's state refresh took in the last frame
    // scenario panel
    int selectedScenario = 0;
    bool pickerShowsLoaded = false;
    std::string shownPickerName;     // what the picker showed last frame (kebSim.state().picker)  // the loaded scenario is not a bundled one: the picker shows its name
    std::string pasteBuffer;
    std::string seedText;
    int fleetSizeOverride = 0;    // 0: the scenario's own
    std::string loadError;
    std::string loadMessage;
    // playback panel
    std::string jumpText;
    std::string playbackError;
    int outageMinutes = 30;
    int burstMinutes = 60;
    float burstProbability = 0.5f;
    // new orchestration panel
    RequestForm form;
    std::optional<ApiAnswer> lastSubmit;
    // fleet map
    FleetView fleet;
    FleetFilter filter;
    // tables
    int orchPage = 1;
    int orchPageSize = 20;
    int orchStateFilter = 0;  // 0: all, else index+1 into the orchestration states
    std::string selectedOrchestration;
    int opPage = 1;
    int opPageSize = 50;
    int opStateFilter = 0;
    CachedGet orchList, orchOne, opList;
    std::string tableMessage;
    bool tableMessageError = false;
    // What the orchestration panel drew last frame (kebSim.state().shown, for tests).
    std::string shownState;
    std::vector<StageRowView> shownStages;

    // ---- progressive rollout (SPEC 10), kept up to date without scanning operations ----
    // Stage and pause/resume marks from the event log (the simulation's trace sink).
    StageMarks stageMarks;
    // Blackouts: the engine's (server-wide) and every orchestration's own (read once per orchestration).
    const std::vector<BlackoutSpan>& blackouts() const { return blackouts_; }
    // What the timeline drew last frame (kebSim.state().timeline).
    int shownBlackouts = 0, shownMarks = 0;

    FrameStats frames;
    std::map<std::string, double> panelMs;  // UI time per panel (moving average), panels.cpp
    WidgetRegistry widgets;

private:
    std::unique_ptr<sim::Simulation> sim_;
    std::string scenarioText_;
    std::string scenarioName_;
    std::optional<std::uint64_t> seedOverride_;
    std::optional<int> fleetSizeOverride_;
    std::uint64_t mutations_ = 0;
    std::uint64_t lastRefreshVersion_ = ~0ull;
    // syncRollout: orchestrations whose blackouts were read; marks whose stage name was looked up.
    void syncRollout();
    std::vector<BlackoutSpan> blackouts_;
    std::size_t blackoutOrchestrationsSeen_ = 0;
    bool engineBlackoutsRead_ = false;
    // While playing, the fleet map re-reads this many shoots per frame (all of them in a few frames).
    static constexpr std::size_t kRefreshCellsPerFrame = 2500;
    std::unique_ptr<sim::Simulation> prepare(const std::string& jsonText, const std::string& name,
                                             std::optional<std::uint64_t> seed, std::optional<int> fleetSize,
                                             std::string* error);
    void install(std::unique_ptr<sim::Simulation> next, const std::string& jsonText, const std::string& name,
                 std::optional<std::uint64_t> seed, std::optional<int> fleetSize);
    void stepLoad();
    // live mode
    void noteLive(const LiveAnswer& a);
    void pollLive();
    // GET /runtimes, every page, every kLivePollMs: up to kRuntimePagesInFlight pages asked at a
    // time; their texts are kept as they arrive (between frames) and read in page order in the
    // frame (stepLiveRuntimes), at most kLivePageBudgetMs per frame (always at least one page).
    // A page whose runtimes are the cells at its offset only updates states; otherwise the cycle
    // collects the runtimes and the map is rebuilt once the last page is read.
    void fetchRuntimes(int page, std::uint64_t generation);
    void askRuntimePages();
    void stepLiveRuntimes();
    bool applyRuntimesPage(int status, const std::string& text);
    void finishRuntimesCycle();
    void abortRuntimesCycle();
    static constexpr int kRuntimesPageSize = 1000;  // the server's maximum (SPEC 12)
    static constexpr int kRuntimePagesInFlight = 3;
    static constexpr double kLivePageBudgetMs = 4;
    std::map<int, std::pair<int, std::string>> runtimePagesArrived_;
    RuntimesPage runtimesPage_;      // the page being read (views into its text)  // page -> status, text
    int runtimePagesAsking_ = 0;     // requests on their way
    int nextRuntimePageToAsk_ = 1, nextRuntimePageToApply_ = 1;
    std::size_t cycleRows_ = 0;      // runtimes read in this cycle so far
    bool cycleMismatch_ = false;     // the cycle's runtimes are not the cells: rebuild at its end
    std::vector<Runtime> cycleRuntimes_;
    std::vector<CellState> cycleStates_;
    std::vector<LiveOp> cycleOps_;
    double cycleStartMs_ = 0;
    bool runtimesInFlight_ = false;  // a cycle is running
    double runtimesAskedAtMs_ = 0;
    std::uint64_t liveGeneration_ = 0;

public:
    // Numbers of the /runtimes reads (kebSim.state().live.reads).
    std::uint64_t liveFullReads = 0;
    double liveLastCycleMs = 0, livePageApplyMaxMs = 0, livePageApplyLastMs = 0;
    std::uint64_t livePagesApplied = 0;
};

// Parses a decimal unsigned 64-bit seed; nullopt (and *error) when not a number. Empty: nullopt, no error.
std::optional<std::uint64_t> parseSeed(const std::string& text, std::string* error);

}  // namespace keb::web
