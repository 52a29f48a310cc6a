// New orchestration panel: targets (include/exclude rules), strategy, schedule, workers,
// maintenance window, dry run; in a second tab stages, the orchestration's failure budget and
// blackouts (SPEC 10). Submitted through the core's API router as a client would.
#include <cstdio>
#include <string_view>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "keb/timefmt.h"
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

// Type, versions, targets, schedule, workers (SPEC 3).
static void drawRequest(App& app) {
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
}

// A text field whose rectangle (the input box only, not its label) is recorded under `id`
// (tests click into it and type). The label's text before "##" is drawn after the box.
static void trackedInput(App& app, const char* label, const char* hint, std::string& value, float width,
                         const std::string& id) {
    const std::string_view l(label);
    const std::string visible(l.substr(0, l.find("##")));
    ImGui::SetNextItemWidth(width);
    ImGui::InputTextWithHint(("##" + id).c_str(), hint, &value);
    app.widgets.recordLastItem(id);
    if (!visible.empty()) {
        ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
        ImGui::TextUnformatted(visible.c_str());
    }
}

// Stages, the orchestration's budget and blackouts (SPEC 10).
static void drawRollout(App& app) {
    RequestForm& f = app.form;
    trackedInput(app, "orchestration maxFailures", "none, 10 or 1%",
                 f.maxFailures, 110, "form.maxFailures");
    ImGui::Separator();
    ImGui::TextUnformatted("strategy.stages (in order; a runtime goes to the first stage that matches)");
    int remove = -1;
    for (std::size_t i = 0; i < f.stages.size(); ++i) {
        StageRow& st = f.stages[i];
        const std::string p = "form.stage" + std::to_string(i);
        ImGui::PushID(static_cast<int>(i));
        ImGui::PushID("stage");
        ImGui::Text("%zu.", i + 1);
        ImGui::SameLine();
        trackedInput(app, "##name", "name [a-z0-9-]", st.name, 110, p + ".name");
        ImGui::SameLine();
        if (ImGui::SmallButton("remove")) remove = static_cast<int>(i);
        app.widgets.recordLastItem(p + ".remove");
        int ruleRemove = -1;
        for (std::size_t r = 0; r < st.include.size(); ++r) {
            ImGui::PushID(static_cast<int>(r));
            ImGui::Indent(16);
            ImGui::SetNextItemWidth(110);
            ImGui::Combo("##field", &st.include[r].field, kRuleFields, kRuleFieldCount);
            ImGui::SameLine();
            if (st.include[r].field != 0) {
                const char* hint = st.include[r].field <= 3 ? "regex (RE2)" : "values, comma-separated";
                trackedInput(app, "##value", hint, st.include[r].value, -30, p + ".rule" + std::to_string(r));
                ImGui::SameLine();
            }
            if (ImGui::SmallButton("x")) ruleRemove = static_cast<int>(r);
            ImGui::Unindent(16);
            ImGui::PopID();
        }
        if (ruleRemove >= 0) st.include.erase(st.include.begin() + ruleRemove);
        ImGui::Indent(16);
        if (ImGui::SmallButton("+ target")) st.include.push_back(RuleRow{3, ""});
        ImGui::SameLine();
        bool any = false;
        for (const RuleRow& r : st.include) any = any || r.field == 0 || !r.value.empty();
        ImGui::TextDisabled(any ? "targets.include" : "no targets: takes the rest (last stage only)");
        trackedInput(app, "soak##s", "0, 30m, 24h", st.soak, 70, p + ".soak");
        ImGui::SameLine();
        trackedInput(app, "workers##w", "default", st.workers, 60, p + ".workers");
        trackedInput(app, "maxFailures (stage budget)##m", "none, 2, 5%", st.maxFailures, 70, p + ".maxFailures");
        ImGui::Unindent(16);
        ImGui::PopID();
        ImGui::PopID();
    }
    if (remove >= 0) f.stages.erase(f.stages.begin() + remove);
    if (trackedButton(app, "+ stage", "form.stage.add")) f.stages.push_back(newStageRow(f));
    ImGui::Separator();
    ImGui::TextUnformatted("strategy.blackouts (no operation starts inside [from, to))");
    remove = -1;
    for (std::size_t i = 0; i < f.blackouts.size(); ++i) {
        BlackoutRow& b = f.blackouts[i];
        const std::string p = "form.blackout" + std::to_string(i);
        ImGui::PushID(static_cast<int>(i));
        ImGui::PushID("blackout");
        trackedInput(app, "##from", "from (RFC 3339)", b.from, 160, p + ".from");
        ImGui::SameLine();
        trackedInput(app, "##to", "to (RFC 3339)", b.to, 160, p + ".to");
        ImGui::SameLine();
        if (ImGui::SmallButton("x")) remove = static_cast<int>(i);
        trackedInput(app, "##reason", "reason", b.reason, -1, p + ".reason");
        ImGui::PopID();
        ImGui::PopID();
    }
    if (remove >= 0) f.blackouts.erase(f.blackouts.begin() + remove);
    if (trackedButton(app, "+ blackout", "form.blackout.add")) {
        // Prefilled with 4 hours starting 2 hours after the simulated time (so it is on the
        // timeline at once); edit the times as needed.
        BlackoutRow b;
        if (app.hasData()) {
            const Millis now = app.nowMs();
            b.from = formatRfc3339(now / kHour * kHour + 2 * kHour);
            b.to = formatRfc3339(now / kHour * kHour + 6 * kHour);
        }
        f.blackouts.push_back(std::move(b));
    }
}

void drawNewOrchestrationPanel(App& app) {
    RequestForm& f = app.form;
    // The form scrolls; Submit and the answer stay at the bottom.
    const float footer = ImGui::GetFrameHeightWithSpacing() + ImGui::GetTextLineHeightWithSpacing() * 3;
    ImGui::BeginChild("form", ImVec2(0, -footer));
    if (ImGui::BeginTabBar("formTabs")) {
        const bool request = ImGui::BeginTabItem("Request");
        app.widgets.recordLastItem("form.tab.request");
        if (request) {
            drawRequest(app);
            ImGui::EndTabItem();
        }
        char rolloutLabel[64];
        std::snprintf(rolloutLabel, sizeof rolloutLabel, "Stages (%zu), budget, blackouts###rollout", f.stages.size());
        const bool rollout = ImGui::BeginTabItem(rolloutLabel);
        app.widgets.recordLastItem("form.tab.rollout");
        if (rollout) {
            drawRollout(app);
            ImGui::EndTabItem();
        }
        ImGui::EndTabBar();
    }
    ImGui::EndChild();

    if (trackedButton(app, "Submit", "form.submit")) {
        std::string body = requestBody(f).dump();
        if (app.live) app.lastSubmit = ApiAnswer{0, Json{{"sent", requestPath(f)}}};
        app.request("POST", requestPath(f), body, "application/json", [&app](const ApiAnswer& a) {
            app.lastSubmit = a;
            if (a.status == 202 && a.body.contains("orchestrationID")) {
                app.selectedOrchestration = a.body["orchestrationID"].get<std::string>();
                app.opPage = 1;
                app.tableMessage.clear();
            }
        });
    }
    if (app.live) {
        // SPEC 12: the same request with ?preview=true (nothing stored or started); the
        // prediction is drawn on the timeline.
        ImGui::SameLine();
        if (trackedButton(app, "Preview", "form.preview")) {
            std::string body = requestBody(f).dump();
            app.previewRequest = body;
            app.preview = ApiAnswer{0, Json{{"sent", requestPath(f) + "?preview=true"}}};
            app.request("POST", requestPath(f) + "?preview=true", body, "application/json",
                        [&app](const ApiAnswer& a) { app.preview = a; });
        }
    }
    ImGui::SameLine();
    ImGui::TextDisabled("POST %s", requestPath(f).c_str());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", requestBody(f).dump(2).c_str());
    if (app.lastSubmit) {
        const bool ok = app.lastSubmit->status / 100 == 2;
        ImGui::BeginChild("answer");
        if (app.lastSubmit->status == 0)
            ImGui::TextDisabled("sent, waiting for the server...");
        else
            textWrappedColored(ok ? IM_COL32(120, 220, 140, 255) : IM_COL32(255, 110, 110, 255),
                               std::to_string(app.lastSubmit->status) + " " + app.lastSubmit->body.dump());
        ImGui::EndChild();
    }
}

}  // namespace keb::web
