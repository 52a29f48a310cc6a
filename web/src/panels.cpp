#include "panels.h"

#include "bundled_scenarios.h"
#include "imgui.h"

namespace keb::web {

void drawUi(App& app) {
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(400, 300));
    ImGui::Begin("Scenario");
    for (const auto& s : bundledScenarios()) ImGui::TextUnformatted(s.name.data(), s.name.data() + s.name.size());
    if (ImGui::Button("Hello")) app.lastError = "clicked";
    app.widgets.recordLastItem("Hello");
    ImGui::Text("%s", app.lastError.c_str());
    ImGui::End();
}

}  // namespace keb::web
