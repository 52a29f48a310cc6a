// Orchestrations and operations: the same data and states as the HTTP API (every list is a
// GET through the core's API router), with paging and state filters; cancel and retry.
#include <cstdio>

#include "imgui.h"
#include "panels.h"

namespace keb::web {

namespace {

const char* kOrchStates[] = {"all", "pending", "in progress", "canceling", "canceled", "retrying", "succeeded", "failed"};
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
    return IM_COL32(200, 200, 200, 255);
}

// Paging controls; returns true when the page changed.
void pager(const char* id, int& page, int& pageSize, std::int64_t total) {
    ImGui::PushID(id);
    const int pages = std::max<std::int64_t>(1, (total + pageSize - 1) / pageSize);
    if (page > pages) page = pages;
    ImGui::BeginDisabled(page <= 1);
    if (ImGui::ArrowButton("prev", ImGuiDir_Left)) --page;
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::Text("page %d / %d (%lld)", page, pages, static_cast<long long>(total));
    ImGui::SameLine();
    ImGui::BeginDisabled(page >= pages);
    if (ImGui::ArrowButton("next", ImGuiDir_Right)) ++page;
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

void errorLine(const ApiResponse& r) {
    textWrappedColored(IM_COL32(255, 110, 110, 255), std::to_string(r.status) + " " + r.body.dump());
}

void drawOperations(App& app, const std::string& id, float height) {
    ImGui::SetNextItemWidth(110);
    if (ImGui::Combo("##opstate", &app.opStateFilter, kOpStates, 6)) app.opPage = 1;
    ImGui::SameLine();
    std::string q = "/orchestrations/" + urlEncode(id) + "/operations?page=" + std::to_string(app.opPage) +
                    "&page_size=" + std::to_string(app.opPageSize);
    if (app.opStateFilter > 0) q += "&state=" + urlEncode(kOpStates[app.opStateFilter]);
    const ApiResponse& r = app.cachedGet(app.opList, q);
    if (r.status != 200) {
        errorLine(r);
        return;
    }
    pager("ops", app.opPage, app.opPageSize, num(r.body, "totalCount"));
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable("operations", 4, flags, ImVec2(0, height))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("shoot", 0, 1.2f);
        ImGui::TableSetupColumn("state", 0, 0.8f);
        ImGui::TableSetupColumn("window (UTC)", 0, 1.4f);
        ImGui::TableSetupColumn("description", 0, 2.0f);
        ImGui::TableHeadersRow();
        for (const Json& op : r.body["data"]) {
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
    if (!app.sim()) {
        ImGui::TextDisabled("Load a scenario; its orchestrations are listed here.");
        return;
    }
    ImGui::SetNextItemWidth(110);
    if (ImGui::Combo("##orchstate", &app.orchStateFilter, kOrchStates, 8)) app.orchPage = 1;
    ImGui::SameLine();
    std::string q = "/orchestrations?page=" + std::to_string(app.orchPage) + "&page_size=" + std::to_string(app.orchPageSize);
    if (app.orchStateFilter > 0) q += "&state=" + urlEncode(kOrchStates[app.orchStateFilter]);
    const ApiResponse& list = app.cachedGet(app.orchList, q);
    if (list.status != 200) {
        errorLine(list);
        return;
    }
    pager("orch", app.orchPage, app.orchPageSize, num(list.body, "totalCount"));
    const float total = ImGui::GetContentRegionAvail().y;
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable("orchestrations", 4, flags, ImVec2(0, std::max(80.0f, total * 0.32f)))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("orchestrationID", 0, 1.1f);
        ImGui::TableSetupColumn("type", 0, 0.9f);
        ImGui::TableSetupColumn("state", 0, 0.8f);
        ImGui::TableSetupColumn("createdAt", 0, 1.2f);
        ImGui::TableHeadersRow();
        int row = 0;
        for (const Json& o : list.body["data"]) {
            const std::string id = str(o, "orchestrationID");
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(id.c_str());
            if (ImGui::Selectable(id.substr(0, 8).c_str(), id == app.selectedOrchestration, ImGuiSelectableFlags_SpanAllColumns)) {
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
        errorLine(one);
        return;
    }
    const std::string st = str(one.body, "state");
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
    if (trackedButton(app, "Cancel", "orchestration.cancel")) {
        auto a = app.api("PUT", "/orchestrations/" + urlEncode(id) + "/cancel", "");
        app.tableMessage = "cancel: " + std::to_string(a.status) + " " + a.body.dump();
    }
    ImGui::SameLine();
    if (trackedButton(app, "Retry failed", "orchestration.retry")) {
        auto a = app.api("POST", "/orchestrations/" + urlEncode(id) + "/retry", "immediate=true",
                         "application/x-www-form-urlencoded");
        app.tableMessage = "retry: " + std::to_string(a.status) + " " + a.body.dump();
    }
    if (!app.tableMessage.empty()) {
        ImGui::SameLine();
        ImGui::TextDisabled("%s", app.tableMessage.c_str());
    }
    drawOperations(app, id, std::max(60.0f, ImGui::GetContentRegionAvail().y - 30));
}

}  // namespace keb::web
