#include "panels.h"

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
        if (ImGui::Begin("Live: keb-server", nullptr, kPanelFlags)) drawLivePanel(app);
        ImGui::End();
    } else {
        place(0, 0, left, scenarioH);
        if (ImGui::Begin("Scenario", nullptr, kPanelFlags)) drawScenarioPanel(app);
        ImGui::End();
        place(0, scenarioH, left, playbackH);
        if (ImGui::Begin("Playback", nullptr, kPanelFlags)) drawPlaybackPanel(app);
        ImGui::End();
    }
    place(0, scenarioH + playbackH, left, std::max(100.0f, d.y - scenarioH - playbackH));
    if (ImGui::Begin("New orchestration", nullptr, kPanelFlags)) drawNewOrchestrationPanel(app);
    ImGui::End();

    const float mapH = std::floor(d.y * 0.62f);
    place(left, 0, mid, mapH);
    if (ImGui::Begin(app.live ? "Fleet map (server)###fleet" : "Fleet map###fleet", nullptr, kPanelFlags)) drawFleetMapPanel(app);
    ImGui::End();
    place(left, mapH, mid, d.y - mapH);
    if (ImGui::Begin(app.live ? "Preview (UTC)###timeline" : "Timeline (UTC)###timeline", nullptr, kPanelFlags)) {
        if (app.live)
            drawLiveTimeline(app);
        else
            drawTimelinePanel(app);
    }
    ImGui::End();

    place(left + mid, 0, d.x - left - mid, d.y);
    if (ImGui::Begin("Orchestrations", nullptr, kPanelFlags)) drawOrchestrationsPanel(app);
    ImGui::End();
}

}  // namespace keb::web
