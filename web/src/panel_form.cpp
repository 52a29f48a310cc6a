// New orchestration panel: targets (include/exclude rules), strategy, schedule, workers,
// maintenance window, dry run. Submitted through the core's API router as a client would.
#include "imgui.h"
#include "imgui_stdlib.h"
#include "panels.h"

namespace keb::web {

static void drawRules(const char* title, const char* idPrefix, std::vector<RuleRow>& rows) {
    ImGui::TextUnformatted(title);
    int remove = -1;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        ImGui::PushID(static_cast<int>(i));
        ImGui::PushID(idPrefix);
        ImGui::SetNextItemWidth(120);
        ImGui::Combo("##field", &rows[i].field, kRuleFields, kRuleFieldCount);
        ImGui::SameLine();
        if (rows[i].field != 0) {
            ImGui::SetNextItemWidth(-30);
            const char* hint = rows[i].field <= 3 ? "regex (RE2)" : "exact value";
            ImGui::InputTextWithHint("##value", hint, &rows[i].value);
            ImGui::SameLine();
        }
        if (ImGui::SmallButton("x")) remove = static_cast<int>(i);
        ImGui::PopID();
        ImGui::PopID();
    }
    if (remove >= 0) rows.erase(rows.begin() + remove);
    ImGui::PushID(idPrefix);
    if (ImGui::SmallButton("+ rule")) rows.push_back(RuleRow{3, ""});
    ImGui::PopID();
}

void drawNewOrchestrationPanel(App& app) {
    RequestForm& f = app.form;
    ImGui::RadioButton("upgradeKyma", &f.type, 0);
    ImGui::SameLine();
    ImGui::RadioButton("upgradeCluster", &f.type, 1);
    if (f.type == 0) {
        ImGui::SetNextItemWidth(140);
        ImGui::InputText("kyma.version", &f.kymaVersion);
    } else {
        ImGui::SetNextItemWidth(140);
        ImGui::InputText("kubernetesVersion", &f.kubernetesVersion);
        ImGui::SetNextItemWidth(140);
        ImGui::InputText("machineImage", &f.machineImage);
        ImGui::SetNextItemWidth(140);
        ImGui::InputText("machineImageVersion", &f.machineImageVersion);
    }
    ImGui::Separator();
    drawRules("targets.include (union)", "inc", f.include);
    drawRules("targets.exclude", "exc", f.exclude);
    ImGui::Separator();
    ImGui::SetNextItemWidth(200);
    ImGui::Combo("schedule", &f.schedule, kSchedules, 4);
    if (f.schedule == 3) {
        ImGui::SetNextItemWidth(200);
        ImGui::InputTextWithHint("time", "2026-01-05T10:00:00Z", &f.scheduleTime);
    }
    ImGui::Checkbox("maintenanceWindow", &f.maintenanceWindow);
    ImGui::SameLine();
    ImGui::Checkbox("dryRun", &f.dryRun);
    ImGui::SetNextItemWidth(120);
    ImGui::InputInt("workers", &f.workers);

    if (trackedButton(app, "Submit", "form.submit")) {
        std::string body = requestBody(f).dump();
        app.lastSubmit = app.api("POST", requestPath(f), body);
        if (app.lastSubmit->status == 202 && app.lastSubmit->body.contains("orchestrationID"))
            app.selectedOrchestration = app.lastSubmit->body["orchestrationID"].get<std::string>();
    }
    ImGui::SameLine();
    ImGui::TextDisabled("POST %s", requestPath(f).c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", requestBody(f).dump(2).c_str());
    if (app.lastSubmit) {
        const bool ok = app.lastSubmit->status / 100 == 2;
        textWrappedColored(ok ? IM_COL32(120, 220, 140, 255) : IM_COL32(255, 110, 110, 255),
                           std::to_string(app.lastSubmit->status) + " " + app.lastSubmit->body.dump());
    }
}

}  // namespace keb::web
