// Fleet map: every shoot as one cell colored by the state of its latest operation;
// hover shows the shoot, its window and its operation; filter by region, account, state.
// Drawn with ImDrawList rectangles (one quad per cell, 10,000+ cells per frame).
#include <GLES3/gl3.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "keb/timefmt.h"
#include "panels.h"

namespace keb::web {

static std::string clock(int sec) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", sec / 3600, (sec / 60) % 60);
    return buf;
}

static std::string daysText(std::uint8_t days) {
    static const char* names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    if (days == 0x7f) return "every day";
    std::string out;
    for (int i = 0; i < 7; ++i)
        if (days & (1u << i)) out += (out.empty() ? "" : ",") + std::string(names[i]);
    return out;
}

static void drawTooltip(App& app, FleetView& fleet, std::size_t index) {
    const FleetCell& c = fleet.cell(index);
    ImGui::BeginTooltip();
    ImGui::Text("shoot %s", c.shootName.c_str());
    ImGui::TextDisabled("runtime %s", c.runtimeID.c_str());
    ImGui::Text("region %s | plan %s", fleet.regions()[c.region].c_str(), c.planName.c_str());
    ImGui::Text("account %s / %s", c.globalAccountID.c_str(), c.subAccountID.c_str());
    ImGui::Text("window %s - %s", c.windowBegin.c_str(), c.windowEnd.c_str());
    if (c.hasWindow)
        ImGui::Text("  = %s-%s UTC, %s", clock(c.window.beginSec).c_str(), clock(c.window.endSec).c_str(),
                    daysText(c.window.days).c_str());
    else
        ImGui::TextColored(ImVec4(1, 0.5f, 0.5f, 1), "  unparsable window: skipped by window schedules");
    ImGui::Separator();
    CellState s = fleet.state(index);
    ImGui::ColorButton("##s", ImGui::ColorConvertU32ToFloat4(cellStateColor(s)), ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
    ImGui::SameLine();
    ImGui::Text("%s", cellStateName(s));
    if (app.live) {
        if (index < app.liveOps.size() && !app.liveOps[index].operationID.empty()) {
            ImGui::Text("operation %s", app.liveOps[index].operationID.c_str());
            ImGui::TextDisabled("orchestration %s", app.liveOps[index].orchestrationID.c_str());
            ImGui::Text("state %s", app.liveOps[index].state.c_str());
        }
    } else if (auto op = app.sim()->latestOperation(c.runtimeID)) {
        ImGui::Text("operation %s", op->operationID.c_str());
        ImGui::TextDisabled("orchestration %s", op->orchestrationID.c_str());
        ImGui::Text("state %s%s", toString(op->state), op->dryRun ? " (dry run)" : "");
        if (!op->description.empty()) ImGui::TextWrapped("%s", op->description.c_str());
        if (op->maintenanceWindowBegin)
            ImGui::Text("scheduled window %s .. %s", formatRfc3339(op->maintenanceWindowBegin).c_str(),
                        formatRfc3339(op->maintenanceWindowEnd).c_str());
    }
    ImGui::EndTooltip();
}

namespace {
// Large fleets (cells under 4 px): one texel per cell in a texture drawn as one quad, updated
// only when a state, the filter or the layout changed. Drawing 100,000 cells as quads (runs of
// equal cells) cost ~4 MB of vertices per frame; the texture costs 4 bytes per cell per change.
struct MapTexture {
    GLuint id = 0;
    int w = 0, h = 0;
    const FleetView* fleet = nullptr;
    std::uint64_t version = ~0ull;
    FleetFilter filter;
    std::vector<std::uint32_t> pixels;
};
MapTexture g_tex;

void drawAsTexture(ImDrawList* dl, FleetView& fleet, const FleetFilter& filter, const std::vector<std::uint32_t>& cells,
                   ImVec2 origin, int cols, float pitch) {
    const std::size_t n = cells.size();
    const int rows = static_cast<int>((n + cols - 1) / cols);
    const bool resized = g_tex.w != cols || g_tex.h != rows;
    if (!g_tex.id) {
        glGenTextures(1, &g_tex.id);
        glBindTexture(GL_TEXTURE_2D, g_tex.id);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    }
    const bool identity = filter == FleetFilter{} && n == fleet.size();  // position k is cell k
    const bool layoutChanged = resized || g_tex.fleet != &fleet || !(g_tex.filter == filter);
    auto [lo, hi] = fleet.takeDirty();
    glBindTexture(GL_TEXTURE_2D, g_tex.id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    if (layoutChanged || (g_tex.version != fleet.version() && !identity)) {
        g_tex.pixels.assign(static_cast<std::size_t>(cols) * rows, 0xff1e1a18u);  // background (24, 26, 30)
        for (std::size_t k = 0; k < n; ++k) g_tex.pixels[k] = cellStateColor(fleet.state(cells[k]));
        if (resized)
            glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, cols, rows, 0, GL_RGBA, GL_UNSIGNED_BYTE, g_tex.pixels.data());
        else
            glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, cols, rows, GL_RGBA, GL_UNSIGNED_BYTE, g_tex.pixels.data());
    } else if (g_tex.version != fleet.version() && lo < hi) {
        // Unfiltered: only the rows holding changed cells (playback re-reads 2,500 cells a frame).
        hi = std::min(hi, n);
        for (std::size_t k = lo; k < hi; ++k) g_tex.pixels[k] = cellStateColor(fleet.state(k));
        const int r0 = static_cast<int>(lo / cols), r1 = static_cast<int>((hi - 1) / cols) + 1;
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, r0, cols, r1 - r0, GL_RGBA, GL_UNSIGNED_BYTE,
                        g_tex.pixels.data() + static_cast<std::size_t>(r0) * cols);
    }
    g_tex.w = cols;
    g_tex.h = rows;
    g_tex.fleet = &fleet;
    g_tex.version = fleet.version();
    g_tex.filter = filter;
    dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(g_tex.id)), origin,
                 ImVec2(origin.x + static_cast<float>(cols) * pitch, origin.y + static_cast<float>(rows) * pitch));
}
}  // namespace

void drawFleetMapPanel(App& app) {
    if (!app.hasData()) {
        ImGui::TextDisabled("Load a scenario to see its fleet.");
        return;
    }
    // The simulated fleet or the server's (GET /runtimes): the same cells, filters and drawing.
    FleetView& fleet = app.activeFleet();
    if (app.live && fleet.size() == 0) {
        if (app.liveRuntimesTotal > 0)
            ImGui::TextDisabled("reading GET /runtimes: %zu of %zu", app.liveRuntimesLoaded, app.liveRuntimesTotal);
        else
            ImGui::TextDisabled("%s", app.token.empty() ? "Enter a token and press Connect." : "reading GET /runtimes...");
        return;
    }
    // Filters.
    {
        const auto& regions = fleet.regions();
        const char* current = app.filter.region == 0 ? "all regions" : regions[app.filter.region - 1].c_str();
        ImGui::SetNextItemWidth(150);
        if (ImGui::BeginCombo("##region", current)) {
            if (ImGui::Selectable("all regions", app.filter.region == 0)) app.filter.region = 0;
            for (std::size_t i = 0; i < regions.size(); ++i)
                if (ImGui::Selectable(regions[i].c_str(), app.filter.region == static_cast<int>(i) + 1))
                    app.filter.region = static_cast<int>(i) + 1;
            ImGui::EndCombo();
        }
        ImGui::SameLine();
        ImGui::SetNextItemWidth(150);
        ImGui::InputTextWithHint("##account", "account contains", &app.filter.account);
        ImGui::SameLine();
        const char* stateLabel = app.filter.state == 0 ? "all states" : cellStateName(static_cast<CellState>(app.filter.state - 1));
        ImGui::SetNextItemWidth(150);
        if (ImGui::BeginCombo("##state", stateLabel)) {
            if (ImGui::Selectable("all states", app.filter.state == 0)) app.filter.state = 0;
            for (int s = 0; s < kCellStates; ++s)
                if (ImGui::Selectable(cellStateName(static_cast<CellState>(s)), app.filter.state == s + 1)) app.filter.state = s + 1;
            ImGui::EndCombo();
        }
    }
    // Legend with counts; an entry that does not fit on the line starts the next one.
    const auto& counts = fleet.counts();
    const float right = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
    bool first = true;
    for (int s = 0; s < kCellStates; ++s) {
        if (counts[s] == 0) continue;
        char text[96];
        std::snprintf(text, sizeof text, "%s %d", cellStateName(static_cast<CellState>(s)), counts[s]);
        const ImGuiStyle& style = ImGui::GetStyle();
        const float w = 10 + style.ItemSpacing.x + ImGui::CalcTextSize(text).x;
        if (!first) {
            ImGui::SameLine();
            if (ImGui::GetCursorScreenPos().x + w > right) ImGui::NewLine();
        }
        first = false;
        ImGui::ColorButton(cellStateName(static_cast<CellState>(s)),
                           ImGui::ColorConvertU32ToFloat4(cellStateColor(static_cast<CellState>(s))),
                           ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
        ImGui::SameLine();
        ImGui::TextUnformatted(text);
        app.widgets.recordLastItem(std::string("fleet.legend.") + cellStateName(static_cast<CellState>(s)));
    }
    if (app.live)
        ImGui::TextDisabled("GET /runtimes: %zu runtimes (%d pages), read %.1f s ago", fleet.size(), app.liveRuntimePages,
                            (wallClockMs() - app.liveFleetAtMs) / 1000.0);

    const std::vector<std::uint32_t>& cells = fleet.visible(app.filter);
    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    avail.x = std::max(avail.x, 10.0f);
    avail.y = std::max(avail.y, 10.0f);
    ImGui::InvisibleButton("fleetmap", avail);
    app.widgets.recordLastItem("fleet.map");
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), IM_COL32(24, 26, 30, 255));
    const std::size_t n = cells.size();
    if (n == 0) {
        dl->AddText(ImVec2(origin.x + 8, origin.y + 8), IM_COL32(160, 160, 160, 255), "no shoot matches the filter");
        return;
    }
    // Largest square pitch that fits every visible cell: whole pixels (with a 1 px gap) for
    // cells of 4 px and more, fractional and gapless below (100,000 shoots fill the panel too).
    float pitch = std::sqrt(avail.x * avail.y / static_cast<float>(n));
    int cols = 1, rows = 1;
    for (int guard = 0; guard < 1000; ++guard) {
        if (pitch >= 4) pitch = std::floor(pitch);
        cols = std::max(1, static_cast<int>(avail.x / pitch));
        rows = static_cast<int>((n + cols - 1) / cols);
        if (static_cast<float>(rows) * pitch <= avail.y + 0.01f || pitch <= 0.05f) break;
        pitch = pitch >= 4 ? pitch - 1 : pitch * 0.98f;
    }
    pitch = std::min(pitch, 28.0f);
    cols = std::max(1, static_cast<int>(avail.x / pitch));
    const float size = pitch >= 4 ? pitch - 1 : pitch;
    if (pitch >= 4) {
        // One quad per cell (with a 1 px gap), written straight into the draw list.
        dl->PrimReserve(static_cast<int>(n) * 6, static_cast<int>(n) * 4);
        for (std::size_t k = 0; k < n; ++k) {
            const float x = origin.x + static_cast<float>(k % cols) * pitch;
            const float y = origin.y + static_cast<float>(k / cols) * pitch;
            dl->PrimRect(ImVec2(x, y), ImVec2(x + size, y + size), cellStateColor(fleet.state(cells[k])));
        }
    } else {
        // Tiny cells (very large fleets) touch each other: a texture, one texel per cell.
        drawAsTexture(dl, fleet, app.filter, cells, origin, cols, pitch);
    }
    if (hovered) {
        ImVec2 m = ImGui::GetIO().MousePos;
        int cx = static_cast<int>(std::floor((m.x - origin.x) / pitch)), cy = static_cast<int>(std::floor((m.y - origin.y) / pitch));
        if (cx >= 0 && cx < cols && cy >= 0) {
            std::size_t k = static_cast<std::size_t>(cy) * cols + cx;
            if (k < n) {
                const float x = origin.x + static_cast<float>(cx) * pitch, y = origin.y + static_cast<float>(cy) * pitch;
                dl->AddRect(ImVec2(x - 1, y - 1), ImVec2(x + size + 1, y + size + 1), IM_COL32(255, 255, 255, 255));
                drawTooltip(app, fleet, cells[k]);
            }
        }
    }
}

}  // namespace keb::web
