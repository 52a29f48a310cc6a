// Timeline: operations started / finished per simulated hour (bars), workers in use (line),
// maintenance windows shaded (how many shoots have their window open in that hour), in UTC.
// Progressive rollouts (SPEC 10): blackouts shaded red over the whole height (the engine's and
// each request's), stage boundaries as vertical lines (start, soak start, finish) and pauses.
#include <algorithm>
#include <cstdio>

#include "imgui.h"
#include "keb/timefmt.h"
#include "event_notes.h"
#include "panels.h"

namespace keb::web {

namespace {
ImU32 markColor(MarkKind k) {
    switch (k) {
        case MarkKind::StageStarted: return IM_COL32(120, 230, 140, 255);
        case MarkKind::StageSoaking: return IM_COL32(120, 210, 230, 255);
        case MarkKind::StageFinished: return IM_COL32(230, 230, 230, 255);
        case MarkKind::Paused: return IM_COL32(255, 110, 60, 255);
        case MarkKind::Resumed: return IM_COL32(255, 200, 60, 255);
    }
    return IM_COL32(255, 255, 255, 255);
}

// Label of a mark at the top of the plot.
std::string markLabel(const StageMark& m) {
    switch (m.kind) {
        case MarkKind::StageStarted: return m.stage.empty() ? "stage" : m.stage;
        case MarkKind::StageSoaking: return (m.stage.empty() ? std::string("stage") : m.stage) + " soak";
        case MarkKind::StageFinished: return (m.stage.empty() ? std::string("stage") : m.stage) + " done";
        case MarkKind::Paused: return "paused";
        case MarkKind::Resumed: return "resumed";
    }
    return "";
}

// Hour of the week (0 = Monday 00:00 UTC) of an absolute time.
int hourOfWeek(Millis t) {
    constexpr Millis kMonday = 4 * kDay;  // 1970-01-05 was a Monday
    Millis h = (t - kMonday) / kHour;
    int r = static_cast<int>(h % 168);
    return r < 0 ? r + 168 : r;
}
}  // namespace

void drawTimelinePanel(App& app) {
    sim::Simulation* sim = app.sim();
    if (!sim) {
        ImGui::TextDisabled("Load a scenario to see its timeline.");
        return;
    }
    const auto& hourly = sim->hourly();
    const Millis start = sim->startTime();
    const int nowHour = static_cast<int>((sim->now() - start) / kHour);
    int last = std::max({nowHour + 1, 24, static_cast<int>(hourly.size())});
    int first = std::max(0, last - 168);
    const int span = last - first;

    ImGui::TextColored(ImVec4(0.40f, 0.62f, 1.0f, 1), "started");
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.30f, 0.75f, 0.42f, 1), "finished");
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(1.0f, 0.6f, 0.2f, 1), "peak workers");
    ImGui::SameLine();
    ImGui::TextColored(ImVec4(0.55f, 0.55f, 0.85f, 1), "windows open (shaded)");
    ImGui::SameLine();
    if (!app.blackouts().empty()) {
        ImGui::TextColored(ImVec4(0.9f, 0.35f, 0.35f, 1), "blackouts");
        ImGui::SameLine();
    }
    if (!app.stageMarks.marks().empty()) {
        ImGui::TextColored(ImVec4(0.47f, 0.9f, 0.55f, 1), "stage start");
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.47f, 0.82f, 0.9f, 1), "soak");
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.9f, 0.9f, 0.9f, 1), "done");
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(1.0f, 0.43f, 0.24f, 1), "paused");
        ImGui::SameLine();
    }
    ImGui::TextDisabled("| per hour, UTC");

    // Under the plot: why operations did not run (superseded, skipped, waiting), newest first.
    // The recent log (2,000 lines) is scanned when the simulation moved, and while playing at
    // most every 500 ms: the counts are for reading, not for every frame.
    static EventNotes notes;
    static std::uint64_t notesVersion = ~0ull;
    static double notesAtMs = -1e9;
    const double nowMs = ImGui::GetTime() * 1000.0;
    if (notesVersion != app.version() && (!app.playing || nowMs - notesAtMs >= 500)) {
        notes = collectEventNotes(sim->recentLog(), 2);
        notesVersion = app.version();
        notesAtMs = nowMs;
    }
    const float notesH = ImGui::GetTextLineHeightWithSpacing() * 3;

    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    avail.x = std::max(avail.x, 50.0f);
    avail.y = std::max(avail.y - notesH, 40.0f);
    ImGui::InvisibleButton("timeline", avail);
    app.widgets.recordLastItem("timeline.plot");
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float axisH = 16;
    const float plotH = avail.y - axisH;
    const float x0 = origin.x, y0 = origin.y, y1 = origin.y + plotH;
    const float bw = avail.x / static_cast<float>(span);
    dl->AddRectFilled(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), IM_COL32(24, 26, 30, 255));

    std::int64_t maxCount = 1;
    int maxWorkers = 1;
    for (int h = first; h < last && h < static_cast<int>(hourly.size()); ++h) {
        maxCount = std::max({maxCount, hourly[h].started, hourly[h].finished});
        maxWorkers = std::max(maxWorkers, hourly[h].peakWorkers);
    }
    const auto& coverage = app.fleet.windowCoverage();
    const int maxCov = std::max(1, app.fleet.maxCoverage());
    ImVec2 prev;
    bool havePrev = false;
    for (int h = first; h < last; ++h) {
        const float x = x0 + static_cast<float>(h - first) * bw;
        const Millis t = start + static_cast<Millis>(h) * kHour;
        // Window shading: share of the fleet whose window is open during this hour.
        // Drawn as a background area: full height when the most shoots have their window open.
        const int cov = coverage[hourOfWeek(t)];
        if (cov > 0) {
            const float ch = plotH * static_cast<float>(cov) / static_cast<float>(maxCov);
            dl->AddRectFilled(ImVec2(x, y1 - ch), ImVec2(x + bw, y1), IM_COL32(110, 110, 200, 70));
        }
        // Midnight lines and labels.
        if (t % kDay == 0) dl->AddLine(ImVec2(x, y0), ImVec2(x, y1 + 4), IM_COL32(110, 110, 120, 255));
        const int labelEvery = span <= 24 ? 3 : (span <= 72 ? 12 : 24);
        if ((t / kHour) % labelEvery == 0) {
            std::string ts = formatRfc3339(t);  // 2026-01-05T10:00:00Z
            std::string label = (t % kDay == 0) ? ts.substr(5, 5) : ts.substr(11, 5);
            dl->AddText(ImVec2(x + 2, y1 + 1), IM_COL32(170, 170, 180, 255), label.c_str());
        }
        if (h >= static_cast<int>(hourly.size())) continue;
        const auto& hs = hourly[h];
        const float half = std::max(1.0f, bw * 0.45f);
        const float hs1 = plotH * static_cast<float>(hs.started) / static_cast<float>(maxCount);
        const float hf = plotH * static_cast<float>(hs.finished) / static_cast<float>(maxCount);
        if (hs.started) dl->AddRectFilled(ImVec2(x, y1 - hs1), ImVec2(x + half, y1), IM_COL32(100, 158, 255, 255));
        if (hs.finished) dl->AddRectFilled(ImVec2(x + half, y1 - hf), ImVec2(x + 2 * half, y1), IM_COL32(76, 190, 108, 255));
        ImVec2 p(x + bw * 0.5f, y1 - (plotH - 4) * static_cast<float>(hs.peakWorkers) / static_cast<float>(maxWorkers));
        if (havePrev) dl->AddLine(prev, p, IM_COL32(255, 150, 50, 255), 2.0f);
        prev = p;
        havePrev = true;
    }
    // Blackouts: no operation starts inside them (SPEC 10). Shaded over the whole plot height.
    const Millis viewFrom = start + static_cast<Millis>(first) * kHour, viewTo = start + static_cast<Millis>(last) * kHour;
    auto xOf = [&](Millis t) {
        return x0 + static_cast<float>(static_cast<double>(t - viewFrom) / static_cast<double>(kHour)) * bw;
    };
    app.shownBlackouts = 0;
    for (const BlackoutSpan& b : app.blackouts()) {
        if (b.to <= viewFrom || b.from >= viewTo) continue;
        const float bx0 = xOf(std::max(b.from, viewFrom)), bx1 = std::max(bx0 + 1.0f, xOf(std::min(b.to, viewTo)));
        dl->AddRectFilled(ImVec2(bx0, y0), ImVec2(bx1, y1), IM_COL32(220, 60, 60, 55));
        dl->AddLine(ImVec2(bx0, y0), ImVec2(bx0, y1), IM_COL32(230, 80, 80, 200));
        dl->AddLine(ImVec2(bx1, y0), ImVec2(bx1, y1), IM_COL32(230, 80, 80, 200));
        if (bx1 - bx0 > 40 && !b.reason.empty()) {
            dl->PushClipRect(ImVec2(bx0, y0), ImVec2(bx1, y1), true);
            dl->AddText(ImVec2(bx0 + 3, y1 - 16), IM_COL32(255, 150, 150, 255), b.reason.c_str());
            dl->PopClipRect();
        }
        ++app.shownBlackouts;
    }
    // Stage boundaries and pauses (from the event log): a line each, labelled at the top.
    app.shownMarks = 0;
    // Labels go on the first of kRows rows where they do not overlap the previous label.
    constexpr int kRows = 5;
    float rowEnd[kRows];
    for (float& e : rowEnd) e = -1e9f;
    for (const StageMark& m : app.stageMarks.marks()) {
        if (m.at < viewFrom || m.at > viewTo) continue;
        const float mx = xOf(m.at);
        const ImU32 c = markColor(m.kind);
        if (m.kind == MarkKind::StageSoaking) {
            for (float y = y0; y < y1; y += 6) dl->AddLine(ImVec2(mx, y), ImVec2(mx, std::min(y + 3, y1)), c, 1.5f);
        } else {
            dl->AddLine(ImVec2(mx, y0), ImVec2(mx, y1), c, m.kind == MarkKind::Paused ? 2.5f : 1.5f);
        }
        const std::string label = markLabel(m);
        int row = 0;
        for (int r = 0; r < kRows; ++r) {
            if (rowEnd[r] <= mx) {
                row = r;
                break;
            }
            if (rowEnd[r] < rowEnd[row]) row = r;
        }
        rowEnd[row] = mx + 6 + ImGui::CalcTextSize(label.c_str()).x;
        dl->AddText(ImVec2(mx + 2, y0 + 16 + 13 * static_cast<float>(row)), c, label.c_str());
        ++app.shownMarks;
    }
    // Now marker.
    const float nx = x0 + static_cast<float>(static_cast<double>(sim->now() - start - first * kHour) / kHour) * bw;
    dl->AddLine(ImVec2(nx, y0), ImVec2(nx, y1), IM_COL32(255, 255, 255, 200), 1.5f);
    char scale[96];
    std::snprintf(scale, sizeof scale, "max %lld ops/h, %d workers", static_cast<long long>(maxCount), maxWorkers);
    dl->AddText(ImVec2(x0 + 4, y0 + 2), IM_COL32(200, 200, 200, 255), scale);

    if (hovered) {
        float mx = ImGui::GetIO().MousePos.x;
        int h = first + static_cast<int>((mx - x0) / bw);
        if (h >= first && h < last) {
            const Millis t = start + static_cast<Millis>(h) * kHour;
            ImGui::BeginTooltip();
            ImGui::Text("%s .. +1h", formatRfc3339(t).c_str());
            if (h < static_cast<int>(hourly.size()))
                ImGui::Text("started %lld, finished %lld, peak workers %d", static_cast<long long>(hourly[h].started),
                            static_cast<long long>(hourly[h].finished), hourly[h].peakWorkers);
            ImGui::Text("maintenance windows open: %d shoots", coverage[hourOfWeek(t)]);
            for (const BlackoutSpan& b : app.blackouts())
                if (b.from < t + kHour && b.to > t)
                    ImGui::TextColored(ImVec4(1, 0.5f, 0.5f, 1), "blackout %s .. %s (%s)%s%s", formatRfc3339(b.from).c_str(),
                                       formatRfc3339(b.to).c_str(), b.source == "engine" ? "server-wide" : b.source.c_str(),
                                       b.reason.empty() ? "" : ": ", b.reason.c_str());
            for (const StageMark& m : app.stageMarks.marks())
                if (m.at >= t && m.at < t + kHour)
                    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(markColor(m.kind)), "%s %s %s (%s)%s%s",
                                       formatRfc3339(m.at).substr(11, 8).c_str(), markKindName(m.kind), m.stage.c_str(),
                                       m.orchestrationID.substr(0, 8).c_str(), m.detail.empty() ? "" : ": ", m.detail.c_str());
            ImGui::EndTooltip();
        }
    }

    ImGui::TextDisabled("did not run (recent log): %zu superseded by a newer orchestration, %zu skipped, %zu waited",
                        notes.superseded, notes.skipped, notes.waiting);
    app.widgets.recordLastItem("timeline.why");
    for (const EventNote& n : notes.latest)
        ImGui::TextDisabled("  %s %s %s: %s", n.at.size() > 16 ? n.at.substr(5, 11).c_str() : n.at.c_str(),
                            n.kind.c_str(), n.runtime.c_str(), n.detail.c_str());
}

}  // namespace keb::web
