// Orchestrations and operations: the same data and states as the HTTP API (every list is a
// GET through the core's API router), with paging and state filters; cancel and retry.
#include <cstdio>

#include "imgui.h"
#include "keb/timefmt.h"
#include "panels.h"

namespace keb::web {

namespace {

const char* kOrchStates[] = {"all",      "pending",   "in progress", "canceling", "canceled",
                             "retrying", "succeeded", "failed",      "paused"};
constexpr int kOrchStateCount = 9;
const char* kOpStates[] = {"all", "pending", "in progress", "succeeded", "failed", "canceled"};
const int kPageSizes[] = {10, 20, 50, 100};

std::string urlEncode(const std::string& s) {
    std::string out;
    char buf[4];
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        }
    }
    return out;
}

std::string str(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return "";
    return it->get<std::string>();
}

std::int64_t num(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

ImU32 stateColor(const std::string& s) {
    if (s == "succeeded") return IM_COL32(90, 200, 120, 255);
    if (s == "failed") return IM_COL32(240, 90, 90, 255);
    if (s == "in progress" || s == "retrying") return IM_COL32(245, 196, 44, 255);
    if (s == "canceled" || s == "canceling") return IM_COL32(180, 130, 235, 255);
    if (s == "pending") return IM_COL32(110, 160, 250, 255);
    if (s == "paused") return IM_COL32(255, 140, 60, 255);
    if (s == "soaking") return IM_COL32(120, 210, 230, 255);
    return IM_COL32(200, 200, 200, 255);
}

// Paging controls; returns true when the page changed.
void pager(App& app, const char* id, int& page, int& pageSize, std::int64_t total) {
    ImGui::PushID(id);
    const int pages = std::max<std::int64_t>(1, (total + pageSize - 1) / pageSize);
    if (page > pages) page = pages;
    ImGui::BeginDisabled(page <= 1);
    if (ImGui::ArrowButton("prev", ImGuiDir_Left)) --page;
    app.widgets.recordLastItem(std::string(id) + ".prev");
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::Text("page %d / %d (%lld)", page, pages, static_cast<long long>(total));
    ImGui::SameLine();
    ImGui::BeginDisabled(page >= pages);
    if (ImGui::ArrowButton("next", ImGuiDir_Right)) ++page;
    app.widgets.recordLastItem(std::string(id) + ".next");
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(60);
    if (ImGui::BeginCombo("##size", std::to_string(pageSize).c_str())) {
        for (int s : kPageSizes)
            if (ImGui::Selectable(std::to_string(s).c_str(), s == pageSize)) {
                pageSize = s;
                page = 1;
            }
        ImGui::EndCombo();
    }
    ImGui::PopID();
}

void errorLine(App& app, const ApiResponse& r) {
    if (r.status == 0 && app.live && r.body.is_object() && r.body.value("error", "") == "loading") {
        ImGui::TextDisabled("loading...");
        return;
    }
    // The server's (or the router's) message as it is: "401 invalid token: ...".
    const bool plain = r.body.is_object() && r.body.contains("error") && r.body["error"].is_string();
    textWrappedColored(IM_COL32(255, 110, 110, 255),
                       std::to_string(r.status) + " " + (plain ? r.body["error"].get<std::string>() : r.body.dump()));
    app.widgets.recordLastItem("tables.error");
}

// Number of stages of a list item or GET answer (parameters.strategy.stages), 0 when unstaged.
std::size_t stageCount(const Json& o) {
    auto p = o.find("parameters");
    if (p == o.end() || !p->is_object()) return 0;
    auto s = p->find("strategy");
    if (s == p->end() || !s->is_object()) return 0;
    auto st = s->find("stages");
    return st != s->end() && st->is_array() ? st->size() : 0;
}

// The list's stage column: the current stage from the latest stage event (no GET per row).
void drawStageCell(App& app, const Json& o, const std::string& id) {
    const std::size_t n = stageCount(o);
    if (n == 0) {
        ImGui::TextDisabled("-");
        return;
    }
    const StageMark* m = app.stageMarks.latestStage(id);
    if (!m) {
        ImGui::TextDisabled("%zu stages", n);
        return;
    }
    const char* what = m->kind == MarkKind::StageSoaking ? "soaking" : m->kind == MarkKind::StageFinished ? m->state.c_str() : "in progress";
    ImGui::PushStyleColor(ImGuiCol_Text, stateColor(what));
    ImGui::Text("%s %s", m->stage.empty() ? "stage" : m->stage.c_str(), what);
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("%zu stages; latest stage event: %s %s at %s\n%s", n, markKindName(m->kind), m->stage.c_str(),
                          formatRfc3339(m->at).c_str(), m->detail.c_str());
}

// Per stage of a staged orchestration: state, progress, failures/budget, soak countdown.
void drawStages(App& app, const std::vector<StageRowView>& rows, Millis now) {
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingStretchProp;
    if (!ImGui::BeginTable("stages", 5, flags)) return;
    ImGui::TableSetupColumn("stage", 0, 1.0f);
    ImGui::TableSetupColumn("state", 0, 0.8f);
    ImGui::TableSetupColumn("progress", 0, 1.3f);
    ImGui::TableSetupColumn("failed/budget", 0, 0.9f);
    ImGui::TableSetupColumn("soak / UTC", 0, 1.4f);
    ImGui::TableHeadersRow();
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const StageRowView& r = rows[k];
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(r.name.c_str());
        app.widgets.recordLastItem("stages.row" + std::to_string(k));
        ImGui::TableNextColumn();
        ImGui::PushStyleColor(ImGuiCol_Text, stateColor(r.state));
        ImGui::TextUnformatted(r.state.c_str());
        ImGui::PopStyleColor();
        ImGui::TableNextColumn();
        char label[64];
        std::snprintf(label, sizeof label, "%lld / %lld", static_cast<long long>(r.done), static_cast<long long>(r.total));
        ImGui::ProgressBar(r.total > 0 ? static_cast<float>(r.done) / static_cast<float>(r.total) : 0.0f, ImVec2(-1, 0), label);
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("succeeded %lld, failed %lld, in progress %lld, final %lld of %lld",
                              static_cast<long long>(r.succeeded), static_cast<long long>(r.failed),
                              static_cast<long long>(r.inProgress), static_cast<long long>(r.done),
                              static_cast<long long>(r.total));
        ImGui::TableNextColumn();
        const std::string budget = budgetText(r);
        if (overBudget(r)) {
            ImGui::PushStyleColor(ImGuiCol_Text, stateColor("failed"));
            ImGui::TextUnformatted(budget.c_str());
            ImGui::PopStyleColor();
        } else {
            ImGui::TextUnformatted(budget.c_str());
        }
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("failed operations counted against the stage's budget (since the last resume) / "
                              "failures tolerated (%s); more than that pauses the orchestration",
                              r.maxFailures < 0 ? "no budget" : "percent applied");
        ImGui::TableNextColumn();
        const std::string soak = soakText(r, now);
        if (!soak.empty()) {
            ImGui::PushStyleColor(ImGuiCol_Text, stateColor("soaking"));
            ImGui::TextUnformatted(soak.c_str());
            ImGui::PopStyleColor();
        } else if (r.startedAt) {
            const std::string b = formatRfc3339(r.startedAt), e = r.finishedAt ? formatRfc3339(r.finishedAt) : "";
            ImGui::TextDisabled("%s..%s", b.substr(5, 11).c_str(), e.empty() ? "" : e.substr(5, 11).c_str());
        } else {
            ImGui::TextDisabled("not started");
        }
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("startedAt %s\nfinishedAt %s\nsoakUntil %s", r.startedAt ? formatRfc3339(r.startedAt).c_str() : "-",
                              r.finishedAt ? formatRfc3339(r.finishedAt).c_str() : "-",
                              r.soakUntil ? formatRfc3339(r.soakUntil).c_str() : "-");
    }
    ImGui::EndTable();
}

// PUT .../cancel|pause|resume or POST .../retry through the router; the answer goes to the
// panel's message line (red unless 2xx: a 409 says why the state does not allow it).
void control(App& app, const char* what, const std::string& method, const std::string& path, const std::string& body,
             const std::string& contentType = "application/json") {
    std::string label = what;
    if (app.live) {
        app.tableMessageError = false;
        app.tableMessage = label + ": sent";
    }
    app.request(method, path, body, contentType, [&app, label](const ApiAnswer& a) {
        app.tableMessageError = a.status / 100 != 2;
        std::string text = a.body.is_object() && a.body.contains("error") && a.body["error"].is_string()
                               ? a.body["error"].get<std::string>()
                               : a.body.dump();
        app.tableMessage = label + ": " + std::to_string(a.status) + " " + text;
    });
}

void drawOperations(App& app, const std::string& id, float height) {
    ImGui::SetNextItemWidth(110);
    if (ImGui::BeginCombo("##opstate", kOpStates[app.opStateFilter])) {
        for (int i = 0; i < 6; ++i) {
            if (ImGui::Selectable(kOpStates[i], i == app.opStateFilter)) {
                app.opStateFilter = i;
                app.opPage = 1;
            }
            app.widgets.recordLastItem(std::string("operations.state.") + kOpStates[i]);
        }
        ImGui::EndCombo();
    }
    app.widgets.recordLastItem("operations.stateFilter");
    ImGui::SameLine();
    std::string q = "/orchestrations/" + urlEncode(id) + "/operations?page=" + std::to_string(app.opPage) +
                    "&page_size=" + std::to_string(app.opPageSize);
    if (app.opStateFilter > 0) q += "&state=" + urlEncode(kOpStates[app.opStateFilter]);
    const ApiResponse& r = app.cachedGet(app.opList, q);
    if (r.status != 200) {
        errorLine(app, r);
        return;
    }
    pager(app, "ops", app.opPage, app.opPageSize, num(r.body, "totalCount"));
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable("operations", 4, flags, ImVec2(0, height))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("shoot", 0, 1.2f);
        ImGui::TableSetupColumn("state", 0, 0.8f);
        ImGui::TableSetupColumn("window (UTC)", 0, 1.4f);
        ImGui::TableSetupColumn("description", 0, 2.0f);
        ImGui::TableHeadersRow();
        // Only the rows in view are laid out (ImGuiListClipper): a 100-row page costs what fits.
        const Json& data = r.body["data"];
        ImGuiListClipper clipper;
        clipper.Begin(static_cast<int>(data.size()));
        while (clipper.Step())
        for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
            const Json& op = data[static_cast<std::size_t>(row)];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(str(op, "shootName").c_str());
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("operationID %s\nruntimeID %s\nglobalAccountID %s\nplan %s%s", str(op, "operationID").c_str(),
                                  str(op, "runtimeID").c_str(), str(op, "globalAccountID").c_str(),
                                  str(op, "servicePlanName").c_str(), op.value("dryRun", false) ? "\ndry run" : "");
            ImGui::TableNextColumn();
            const std::string st = str(op, "state");
            ImGui::PushStyleColor(ImGuiCol_Text, stateColor(st));
            ImGui::TextUnformatted(st.c_str());
            ImGui::PopStyleColor();
            ImGui::TableNextColumn();
            std::string b = str(op, "maintenanceWindowBegin"), e = str(op, "maintenanceWindowEnd");
            if (!b.empty()) ImGui::Text("%s..%s", b.size() > 16 ? b.substr(5, 11).c_str() : b.c_str(),
                                        e.size() > 16 ? e.substr(11, 5).c_str() : e.c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(str(op, "description").c_str());
        }
        ImGui::EndTable();
    }
}

}  // namespace

void drawOrchestrationsPanel(App& app) {
    if (!app.hasData()) {
        ImGui::TextDisabled("Load a scenario; its orchestrations are listed here.");
        return;
    }
    ImGui::SetNextItemWidth(110);
    if (ImGui::Combo("##orchstate", &app.orchStateFilter, kOrchStates, kOrchStateCount)) app.orchPage = 1;
    app.widgets.recordLastItem("orchestrations.stateFilter");
    ImGui::SameLine();
    if (app.live) {
        if (trackedButton(app, "Refresh", "orchestrations.refresh")) app.refreshLive();
        ImGui::SameLine();
    }
    std::string q = "/orchestrations?page=" + std::to_string(app.orchPage) + "&page_size=" + std::to_string(app.orchPageSize);
    if (app.orchStateFilter > 0) q += "&state=" + urlEncode(kOrchStates[app.orchStateFilter]);
    const ApiResponse& list = app.cachedGet(app.orchList, q);
    if (list.status != 200) {
        errorLine(app, list);
        return;
    }
    pager(app, "orch", app.orchPage, app.orchPageSize, num(list.body, "totalCount"));
    const float total = ImGui::GetContentRegionAvail().y;
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable("orchestrations", 5, flags, ImVec2(0, std::max(80.0f, total * 0.28f)))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("orchestrationID", 0, 1.0f);
        ImGui::TableSetupColumn("type", 0, 0.9f);
        ImGui::TableSetupColumn("state", 0, 0.8f);
        ImGui::TableSetupColumn("stage", 0, 1.0f);
        ImGui::TableSetupColumn("createdAt", 0, 1.2f);
        ImGui::TableHeadersRow();
        int row = 0;
        for (const Json& o : list.body["data"]) {
            const std::string id = str(o, "orchestrationID");
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(id.c_str());
            if (ImGui::Selectable(id.substr(0, 8).c_str(), id == app.selectedOrchestration, ImGuiSelectableFlags_SpanAllColumns)) {
                if (app.selectedOrchestration != id) app.tableMessage.clear();
                app.selectedOrchestration = id;
                app.opPage = 1;
            }
            app.widgets.recordLastItem("orchestrations.row" + std::to_string(row++));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s\n%s", id.c_str(), str(o, "description").c_str());
            ImGui::PopID();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(str(o, "type").c_str());
            ImGui::TableNextColumn();
            const std::string st = str(o, "state");
            ImGui::PushStyleColor(ImGuiCol_Text, stateColor(st));
            ImGui::TextUnformatted(st.c_str());
            ImGui::PopStyleColor();
            ImGui::TableNextColumn();
            drawStageCell(app, o, id);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(str(o, "createdAt").c_str());
        }
        ImGui::EndTable();
    }

    if (app.selectedOrchestration.empty()) {
        ImGui::TextDisabled("Select an orchestration to see its operations.");
        return;
    }
    const std::string& id = app.selectedOrchestration;
    const ApiResponse& one = app.cachedGet(app.orchOne, "/orchestrations/" + urlEncode(id));
    ImGui::Separator();
    if (one.status != 200) {
        app.shownState.clear();
        app.shownStages.clear();
        errorLine(app, one);
        return;
    }
    const std::string st = str(one.body, "state");
    app.shownState = st;
    ImGui::Text("%s", id.c_str());
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Text, stateColor(st));
    ImGui::TextUnformatted(st.c_str());
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", one.body.value("parameters", Json::object()).dump(2).c_str());
    ImGui::TextWrapped("%s", str(one.body, "description").c_str());
    if (auto it = one.body.find("operationStats"); it != one.body.end() && it->is_object()) {
        std::string stats;
        for (auto s = it->begin(); s != it->end(); ++s)
            if (s.value().is_number() && s.value().get<std::int64_t>() > 0)
                stats += (stats.empty() ? "" : " | ") + s.key() + " " + std::to_string(s.value().get<std::int64_t>());
        ImGui::TextDisabled("operations: %s", stats.empty() ? "none yet" : stats.c_str());
    }
    // Staged orchestrations (SPEC 10): one row per stage, from this same GET answer.
    app.shownStages = stageRows(one.body);
    if (!app.shownStages.empty()) {
        const std::string budget = orchestrationBudgetText(one.body);
        ImGui::TextDisabled("%zu stages%s%s", app.shownStages.size(), budget.empty() ? "" : "; orchestration budget ",
                            budget.c_str());
        drawStages(app, app.shownStages, app.nowMs());
    } else if (const std::string budget = orchestrationBudgetText(one.body); !budget.empty()) {
        ImGui::TextDisabled("orchestration budget %s", budget.c_str());
    }
    const std::string base = "/orchestrations/" + urlEncode(id);
    if (trackedButton(app, "Cancel", "orchestration.cancel")) control(app, "cancel", "PUT", base + "/cancel", "");
    ImGui::SameLine();
    if (trackedButton(app, "Retry failed", "orchestration.retry"))
        control(app, "retry", "POST", base + "/retry", "immediate=true", "application/x-www-form-urlencoded");
    ImGui::SameLine();
    if (trackedButton(app, "Pause", "orchestration.pause")) control(app, "pause", "PUT", base + "/pause", "");
    ImGui::SameLine();
    if (trackedButton(app, "Resume", "orchestration.resume")) control(app, "resume", "PUT", base + "/resume", "");
    if (!app.tableMessage.empty()) {
        if (app.tableMessageError)
            textWrappedColored(IM_COL32(255, 110, 110, 255), app.tableMessage);
        else
            ImGui::TextDisabled("%s", app.tableMessage.c_str());
    }
    drawOperations(app, id, std::max(60.0f, ImGui::GetContentRegionAvail().y - 30));
}

}  // namespace keb::web
