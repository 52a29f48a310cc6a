// C entry points behind window.kebSim (web/shell/kebsim-api.js). Every function returns
// JSON text in a buffer that stays valid until the next call; errors are {"error": "..."}.
// Nothing here throws into JavaScript: every exception becomes an error object.
#include <emscripten.h>

#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "imgui_internal.h"
#include "bundled_scenarios.h"
#include "keb/sim/scenario.h"
#include "keb/sim/simulation.h"
#include "keb/timefmt.h"
#include "panels.h"

namespace {

std::string g_out;

const char* out(const nlohmann::json& j) {
    g_out = j.dump();
    return g_out.c_str();
}

const char* err(const std::string& message) { return out(nlohmann::json{{"error", message}}); }

template <class F>
const char* guarded(F&& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        return err(e.what());
    } catch (...) {
        return err("unexpected error");
    }
}

}  // namespace

using keb::web::App;

extern "C" {

// Loads a scenario, runs it to the end in a fresh Simulation (the UI's one is untouched) and
// returns summary(): the same JSON `keb-sim run FILE --seed N --report OUT` writes.
EMSCRIPTEN_KEEPALIVE const char* keb_run_scenario(const char* text, const char* seedText, const char* name) {
    return guarded([&] {
        std::string e;
        auto seed = keb::web::parseSeed(seedText, &e);
        if (!e.empty()) return err(e);
        keb::sim::Scenario sc = keb::sim::parseScenario(text, name && *name ? name : "scenario.json");
        keb::sim::Simulation sim(std::move(sc), seed);
        sim.runToEnd();
        return out(sim.summary());
    });
}

// Loads a scenario into the UI for interactive playback (paused at its start).
EMSCRIPTEN_KEEPALIVE const char* keb_load_scenario(const char* text, const char* seedText, const char* fleetSizeText,
                                                   const char* name) {
    return guarded([&] {
        App& app = App::instance();
        std::string e;
        auto seed = keb::web::parseSeed(seedText, &e);
        if (!e.empty()) return err(e);
        std::optional<int> size;
        if (fleetSizeText && *fleetSizeText) {
            auto v = keb::web::parseSeed(fleetSizeText, &e);
            if (!v || *v > 200000) return err("fleet size must be an integer between 1 and 200000");
            size = static_cast<int>(*v);
        }
        std::string n = name && *name ? name : "scenario.json";
        if (!app.load(text, n, seed, size, &e)) {
            app.loadError = e;
            return err(e);
        }
        app.loadError.clear();
        app.loadMessage = "Loaded " + n + " through kebSim";
        nlohmann::json j = app.stateJson();
        return out(j);
    });
}

EMSCRIPTEN_KEEPALIVE const char* keb_api(const char* method, const char* path, const char* body) {
    return guarded([&] {
        auto a = App::instance().api(method, path, body ? body : "");
        return out(nlohmann::json{{"status", a.status}, {"body", a.body}});
    });
}

EMSCRIPTEN_KEEPALIVE const char* keb_state() {
    return guarded([&] { return out(App::instance().stateJson()); });
}

// cmd: play | pause | step | speed <x> | jump <RFC 3339> | inject restart|outage|burst | resetFrameStats
EMSCRIPTEN_KEEPALIVE const char* keb_control(const char* cmdText, const char* argText) {
    return guarded([&] {
        App& app = App::instance();
        const std::string cmd = cmdText, arg = argText ? argText : "";
        if (cmd == "resetFrameStats") {
            app.frames.reset();
            app.livePageApplyMaxMs = 0;  // live mode: the slowest /runtimes page read since the reset
            return out(app.frames.toJson());
        }
        if (cmd == "panelFleetSize") {  // the Scenario panel's "fleet size" field (0: the scenario's)
            auto v = keb::web::parseSeed(arg, nullptr);
            if (!v || *v > 200000) return err("fleet size must be an integer from 0 to 200000");
            app.fleetSizeOverride = static_cast<int>(*v);
            return out(app.stateJson());
        }
        if (!app.loaded()) return err("no scenario loaded");
        if (cmd == "play") {
            app.play();
        } else if (cmd == "pause") {
            app.pause();
        } else if (cmd == "step") {
            app.stepOnce();
        } else if (cmd == "speed") {
            char* end = nullptr;
            double x = std::strtod(arg.c_str(), &end);
            if (arg.empty() || *end || !(x >= 1 && x <= 100000)) return err("speed must be a number from 1 to 100000");
            app.setSpeed(x);
        } else if (cmd == "jump") {
            auto t = keb::parseRfc3339(arg);
            if (!t) return err("jump: '" + arg + "' is not an RFC 3339 time");
            std::string e;
            if (!app.jumpTo(*t, &e)) return err(e);
        } else if (cmd == "inject") {
            if (arg == "restart") app.injectRestart();
            else if (arg == "outage") app.injectOutage(app.outageMinutes * keb::kMinute);
            else if (arg == "burst") app.injectFailureBurst(app.burstMinutes * keb::kMinute, app.burstProbability);
            else return err("inject: expected restart, outage or burst, got '" + arg + "'");
        } else {
            return err("unknown command '" + cmd + "'");
        }
        return out(app.stateJson());
    });
}

EMSCRIPTEN_KEEPALIVE const char* keb_bundled_scenarios() {
    nlohmann::json names = nlohmann::json::array();
    for (const auto& s : keb::web::bundledScenarios()) names.push_back(std::string(s.name));
    return out(names);
}

EMSCRIPTEN_KEEPALIVE const char* keb_bundled_scenario_text(const char* name) {
    for (const auto& s : keb::web::bundledScenarios())
        if (s.name == name) return out(nlohmann::json{{"text", std::string(s.text)}});
    return err(std::string("no bundled scenario named '") + name + "'");
}

EMSCRIPTEN_KEEPALIVE const char* keb_frame_stats() { return out(App::instance().frames.toJson()); }

// Input events (keys, characters, mouse) that ImGui has not handed to the UI yet. ImGui trickles
// fast input (ConfigInputTrickleEventQueue): a key press, its character and its release take up to
// three frames, so a word typed between two slow frames is still being fed in for several frames
// after the last key. The browser test waits for 0 before it reads what a form holds (a fixed
// number of frames lost the last letter of "freeze" once, on a loaded CI machine).
EMSCRIPTEN_KEEPALIVE const char* keb_pending_input() {
    const ImGuiContext* c = ImGui::GetCurrentContext();
    return out(nlohmann::json{{"events", c ? c->InputEventsQueue.Size : 0}});
}

EMSCRIPTEN_KEEPALIVE const char* keb_widget_rect(const char* label) {
    const auto* r = App::instance().widgets.find(label);
    if (!r) return out(nlohmann::json{{"found", false}});
    return out(nlohmann::json{{"found", true}, {"x", r->x}, {"y", r->y}, {"w", r->w}, {"h", r->h}});
}

EMSCRIPTEN_KEEPALIVE const char* keb_widgets() { return out(App::instance().widgets.toJson()); }

// The browser's file picker / clipboard hands text back here (panel_scenario.cpp).
EMSCRIPTEN_KEEPALIVE const char* keb_ui_text_arrived(const char* text, const char* name, int kind) {
    return guarded([&] {
        keb::web::onTextArrived(App::instance(), text, name, kind);
        return out(App::instance().stateJson());
    });
}

// Live mode: the JS bridge's answer to request id (web/src/live.cpp).
EMSCRIPTEN_KEEPALIVE const char* keb_live_response(int id, int status, const char* text) {
    return guarded([&] {
        keb::web::liveDeliver(id, status, text ? text : "");
        return out(nlohmann::json{{"ok", true}});
    });
}

// The page is served by keb-server (its /healthz answered); token: the one this tab kept.
EMSCRIPTEN_KEEPALIVE const char* keb_live_available(const char* token) {
    App& app = App::instance();
    app.liveAvailable = true;
    if (token && *token && app.tokenInput.empty()) app.tokenInput = token;
    return out(nlohmann::json{{"ok", true}});
}

}  // extern "C"

extern "C" {

// Colors of the fleet map's cell states: {"succeeded":[r,g,b], ...} (tests check screenshots with it).
EMSCRIPTEN_KEEPALIVE const char* keb_palette() {
    nlohmann::json j = nlohmann::json::object();
    for (int s = 0; s < keb::web::kCellStates; ++s) {
        std::uint32_t c = keb::web::cellStateColor(static_cast<keb::web::CellState>(s));
        j[keb::web::cellStateName(static_cast<keb::web::CellState>(s))] = {c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff};
    }
    j["background"] = {24, 26, 30};
    return out(j);
}

}  // extern "C"
