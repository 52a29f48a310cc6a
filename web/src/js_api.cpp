// C entry points behind window.kebSim (web/shell/kebsim-api.js). Every function returns
// JSON text in a buffer that stays valid until the next call; errors are {"error": "..."}.
#include <emscripten.h>

#include <string>

#include <nlohmann/json.hpp>

#include "app.h"
#include "bundled_scenarios.h"

namespace {

std::string g_out;

const char* out(const nlohmann::json& j) {
    g_out = j.dump();
    return g_out.c_str();
}

const char* err(const std::string& message) { return out(nlohmann::json{{"error", message}}); }

}  // namespace

using keb::web::App;

extern "C" {

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

EMSCRIPTEN_KEEPALIVE const char* keb_widget_rect(const char* label) {
    const auto* r = App::instance().widgets.find(label);
    if (!r) return out(nlohmann::json{{"found", false}});
    return out(nlohmann::json{{"found", true}, {"x", r->x}, {"y", r->y}, {"w", r->w}, {"h", r->h}});
}

EMSCRIPTEN_KEEPALIVE const char* keb_widgets() { return out(App::instance().widgets.toJson()); }

}  // extern "C"
