#include "panels.h"

#include <cstdio>

#include <emscripten.h>

#include "imgui.h"

namespace keb::web {

bool trackedButton(App& app, const char* label, const char* id) {
    bool pressed = ImGui::Button(label);
    app.widgets.recordLastItem(id);
    return pressed;
}

void textWrappedColored(unsigned color, const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, color);
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

namespace {

constexpr ImGuiWindowFlags kPanelFlags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                         ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings;

// Per-panel UI time (ms, moving average over ~20 frames): kebSim.state().panelMs.
template <class F>
void timed(App& app, const char* name, F&& f) {
    const double t0 = emscripten_get_now();
    f();
    double& avg = app.panelMs[name];
    avg += (emscripten_get_now() - t0 - avg) * 0.05;
}

void place(float x, float y, float w, float h) {
    ImGui::SetNextWindowPos(ImVec2(x, y), ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImVec2(w, h), ImGuiCond_Always);
}

}  // namespace

void drawUi(App& app) {
    const ImVec2 d = ImGui::GetIO().DisplaySize;
    // Left column: scenario, playback, new orchestration. Middle: fleet map over timeline.
    // Right: orchestrations and operations.
    const float left = std::max(360.0f, d.x * 0.24f);
    const float right = std::max(420.0f, d.x * 0.32f);
    const float mid = std::max(200.0f, d.x - left - right);
    const float scenarioH = 250, playbackH = 235;

    if (app.live) {
        place(0, 0, left, scenarioH + playbackH);
        if (ImGui::Begin("Live: keb-server", nullptr, kPanelFlags)) timed(app, "Live", [&] { drawLivePanel(app); });
        ImGui::End();
    } else {
        place(0, 0, left, scenarioH);
        if (ImGui::Begin("Scenario", nullptr, kPanelFlags)) timed(app, "Scenario", [&] { drawScenarioPanel(app); });
        ImGui::End();
        place(0, scenarioH, left, playbackH);
        if (ImGui::Begin("Playback", nullptr, kPanelFlags)) timed(app, "Playback", [&] { drawPlaybackPanel(app); });
        ImGui::End();
    }
    place(0, scenarioH + playbackH, left, std::max(100.0f, d.y - scenarioH - playbackH));
    if (ImGui::Begin("New orchestration", nullptr, kPanelFlags)) timed(app, "NewOrchestration", [&] { drawNewOrchestrationPanel(app); });
    ImGui::End();

    const float mapH = std::floor(d.y * 0.62f);
    place(left, 0, mid, mapH);
    if (ImGui::Begin(app.live ? "Fleet map (server)###fleet" : "Fleet map###fleet", nullptr, kPanelFlags)) timed(app, "FleetMap", [&] { drawFleetMapPanel(app); });
    ImGui::End();
    place(left, mapH, mid, d.y - mapH);
    if (ImGui::Begin(app.live ? "Preview (UTC)###timeline" : "Timeline (UTC)###timeline", nullptr, kPanelFlags)) {
        if (app.live)
            drawLiveTimeline(app);
        else
            timed(app, "Timeline", [&] { drawTimelinePanel(app); });
    }
    ImGui::End();

    place(left + mid, 0, d.x - left - mid, d.y);
    if (ImGui::Begin("Orchestrations", nullptr, kPanelFlags)) timed(app, "Orchestrations", [&] { drawOrchestrationsPanel(app); });
    ImGui::End();

    // Loading a scenario (App::startLoad): where it is, over everything, until it is done.
    if (app.pendingLoad) {
        App::PendingLoad& p = *app.pendingLoad;
        const float w = 460, h = 110;
        ImGui::SetNextWindowPos(ImVec2((d.x - w) / 2, (d.y - h) / 2), ImGuiCond_Always);
        ImGui::SetNextWindowSize(ImVec2(w, h), ImGuiCond_Always);
        ImGui::SetNextWindowFocus();
        if (ImGui::Begin("Loading", nullptr, kPanelFlags | ImGuiWindowFlags_NoTitleBar)) {
            ImGui::Text("Loading %s", p.name.c_str());
            const char* what = p.phase == 0 ? "step 1/2: reading the scenario, generating the shoots..."
                                            : "step 2/2: building the fleet map...";
            char label[96];
            if (p.phase == 0)
                std::snprintf(label, sizeof label, "%s", "generating shoots");
            else
                std::snprintf(label, sizeof label, "%zu shoots generated", p.shoots);
            ImGui::TextDisabled("%s", what);
            ImGui::ProgressBar(p.phase == 0 ? 0.1f : 0.6f, ImVec2(-1, 0), label);
            app.widgets.recordLastItem("load.progress");
            ImGui::TextDisabled("%.1f s", (emscripten_get_now() - p.startedAtMs) / 1000.0);
        }
        ImGui::End();
        p.drawn = true;
    }
}

}  // namespace keb::web
