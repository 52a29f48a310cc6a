// Live mode (SPEC 12): the server panel (token, connect, refresh, status) and the preview's
// prediction drawn on the timeline. The orchestration tables, the fleet map and the form are
// the simulator's own panels reading the server (App::cachedGet / App::request in live mode).
#include <algorithm>
#include <cstdio>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "keb/timefmt.h"
#include "panels.h"

namespace keb::web {

namespace {

constexpr ImU32 kRed = IM_COL32(255, 110, 110, 255);
constexpr ImU32 kGreen = IM_COL32(120, 220, 140, 255);

std::string str(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Millis timeOf(const Json& j, const char* key) {
    auto t = parseRfc3339(str(j, key));
    return t ? *t : 0;
}

std::string shortTime(Millis t) {
    if (!t) return "-";
    std::string s = formatRfc3339(t);
    return s.size() >= 16 ? s.substr(5, 11) : s;
}

// A number of a server answer, or def when absent or not a number (never throws).
double numOr(const Json& j, const char* key, double def = 0) {
    auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : def;
}
long long intOr(const Json& j, const char* key) { return static_cast<long long>(numOr(j, key)); }

}  // namespace

void drawLivePanel(App& app) {
    ImGui::TextWrapped("Live mode: the orchestrations, operations and fleet of the keb-server that served this page.");
    ImGui::SetNextItemWidth(-90);
    const bool enter = ImGui::InputTextWithHint("##token", "bearer token (JWT)", &app.tokenInput,
                                                ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
    app.widgets.recordLastItem("live.token");
    ImGui::SameLine();
    if (trackedButton(app, "Connect", "live.connect") || enter) app.connect();
    if (trackedButton(app, "Refresh", "live.refresh")) app.refreshLive();
    ImGui::SameLine();
    if (trackedButton(app, "Back to simulator", "live.leave")) {
        app.leaveLive();
        return;
    }
    ImGui::TextDisabled("The token is kept for this browser tab only (sessionStorage).");
    ImGui::Separator();
    if (!app.liveError.empty()) {
        // The server's own message (e.g. 401 token expired) in red, never a blank page.
        textWrappedColored(kRed, app.liveError);
        app.widgets.recordLastItem("live.error");
    } else if (app.token.empty()) {
        ImGui::TextDisabled("Enter a token and press Connect.");
    } else if (app.liveFleetAtMs > 0) {
        textWrappedColored(kGreen, "connected: " + std::to_string(app.liveFleet.size()) + " runtimes");
        app.widgets.recordLastItem("live.ok");
    } else {
        ImGui::TextDisabled("connecting...");
    }
    ImGui::TextDisabled("refreshed every %.0f s; requests in flight: %d", App::kLivePollMs / 1000, liveInFlight());
}

// The preview's prediction: starts per hour (bars), predicted start, end (median) and p90 end,
// and each stage's predicted span, with the assumptions it rests on.
void drawLiveTimeline(App& app) {
    app.shownPreviewBars = 0;
    if (!app.preview) {
        ImGui::TextDisabled("Fill the New orchestration form and press Preview: the server predicts the rollout");
        ImGui::TextDisabled("(POST ...?preview=true, nothing is stored or started) and it is drawn here.");
        return;
    }
    const ApiAnswer& p = *app.preview;
    if (p.status == 0) {
        ImGui::TextDisabled("preview: waiting for the server...");
        return;
    }
    if (p.status != 200) {
        textWrappedColored(kRed, "preview: " + std::to_string(p.status) + " " +
                                     (p.body.contains("error") ? str(p.body, "error") : p.body.dump()));
        app.widgets.recordLastItem("preview.error");
        return;
    }
    const Json& b = p.body;
    const Millis start = timeOf(b, "predictedStart"), end = timeOf(b, "predictedEnd"), p90 = timeOf(b, "predictedEndP90");
    const Json assumptions = b.contains("assumptions") && b["assumptions"].is_object() ? b["assumptions"] : Json::object();
    ImGui::Text("preview: %lld runtimes (%lld skipped), peak workers %lld", intOr(b, "runtimes"), intOr(b, "skippedCount"),
                intOr(b, "peakWorkers"));
    app.widgets.recordLastItem("preview.summary");
    ImGui::Text("start %s   end %s   p90 end %s (UTC)", shortTime(start).c_str(), shortTime(end).c_str(), shortTime(p90).c_str());
    ImGui::TextDisabled("assumptions: upgrade median %s, p90 %s, failure rate %.1f%%, from %s (%lld operations)",
                        str(assumptions, "durationMedian").c_str(), str(assumptions, "durationP90").c_str(),
                        100.0 * numOr(assumptions, "failureRate"), str(assumptions, "source").c_str(),
                        intOr(assumptions, "historyOperations"));
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", assumptions.dump(2).c_str());

    // Hourly starts.
    std::vector<std::pair<Millis, std::int64_t>> hours;
    if (auto it = b.find("hourly"); it != b.end() && it->is_array())
        for (const Json& h : *it)
            if (h.is_object()) hours.push_back({timeOf(h, "hour"), static_cast<std::int64_t>(numOr(h, "starts"))});
    std::vector<std::tuple<std::string, Millis, Millis, std::int64_t>> stages;
    if (auto it = b.find("stages"); it != b.end() && it->is_array())
        for (const Json& s : *it)
            if (s.is_object())
                stages.emplace_back(str(s, "name"), timeOf(s, "predictedStart"), timeOf(s, "predictedEnd"),
                                    static_cast<std::int64_t>(numOr(s, "runtimes")));
    Millis t0 = start ? start / kHour * kHour : 0, t1 = std::max(end, p90);
    for (auto& [h, n] : hours) {
        if (!t0 || h < t0) t0 = h;
        t1 = std::max(t1, h + kHour);
    }
    if (!t0 || t1 <= t0) {
        ImGui::TextDisabled("nothing would start (no runtime matches, or all are busy)");
        return;
    }
    t1 = std::max(t1, t0 + kHour);
    std::int64_t maxStarts = 1;
    for (auto& [h, n] : hours) maxStarts = std::max(maxStarts, n);

    ImVec2 origin = ImGui::GetCursorScreenPos();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    avail.x = std::max(avail.x, 50.0f);
    avail.y = std::max(avail.y - 4, 40.0f);
    ImGui::InvisibleButton("previewplot", avail);
    app.widgets.recordLastItem("preview.plot");
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float top = origin.y + 16, bottom = origin.y + avail.y - 14;
    dl->AddRectFilled(origin, ImVec2(origin.x + avail.x, origin.y + avail.y), IM_COL32(24, 26, 30, 255));
    auto xOf = [&](Millis t) {
        return origin.x + static_cast<float>(static_cast<double>(t - t0) / static_cast<double>(t1 - t0)) * avail.x;
    };
    // Stage spans as bands.
    static const ImU32 bands[] = {IM_COL32(70, 110, 70, 90), IM_COL32(70, 90, 130, 90), IM_COL32(120, 90, 60, 90)};
    for (std::size_t i = 0; i < stages.size(); ++i) {
        auto& [name, a, z, n] = stages[i];
        if (!a || !z) continue;
        dl->AddRectFilled(ImVec2(xOf(a), top), ImVec2(std::max(xOf(z), xOf(a) + 2), bottom), bands[i % 3]);
        dl->AddText(ImVec2(xOf(a) + 3, top + 2 + 14 * static_cast<float>(i % 3)), IM_COL32(220, 220, 220, 255),
                    (name + " (" + std::to_string(n) + ")").c_str());
    }
    // Starts per hour.
    for (auto& [h, n] : hours) {
        const float xa = xOf(h), xb = std::max(xa + 1, xOf(h + kHour) - 1);
        const float y = bottom - (bottom - top) * static_cast<float>(n) / static_cast<float>(maxStarts);
        dl->AddRectFilled(ImVec2(xa, y), ImVec2(xb, bottom), IM_COL32(66, 135, 245, 255));
        ++app.shownPreviewBars;
    }
    auto vline = [&](Millis t, ImU32 c, const char* label) {
        if (!t) return;
        const float x = xOf(t);
        dl->AddLine(ImVec2(x, origin.y), ImVec2(x, bottom), c, 2);
        dl->AddText(ImVec2(std::min(x + 3, origin.x + avail.x - 60), origin.y), c, label);
    };
    vline(start, IM_COL32(120, 230, 140, 255), "start");
    vline(end, IM_COL32(240, 240, 240, 255), "end");
    vline(p90, IM_COL32(255, 160, 60, 255), "p90");
    dl->AddText(ImVec2(origin.x + 2, bottom + 1), IM_COL32(160, 160, 160, 255), shortTime(t0).c_str());
    const std::string last = shortTime(t1);
    dl->AddText(ImVec2(origin.x + avail.x - ImGui::CalcTextSize(last.c_str()).x - 2, bottom + 1), IM_COL32(160, 160, 160, 255),
                last.c_str());
    char peak[48];
    std::snprintf(peak, sizeof peak, "%lld starts/h", static_cast<long long>(maxStarts));
    dl->AddText(ImVec2(origin.x + 2, top), IM_COL32(120, 160, 250, 255), peak);
    if (hovered) {
        const Millis t = t0 + static_cast<Millis>((ImGui::GetIO().MousePos.x - origin.x) / avail.x * static_cast<float>(t1 - t0));
        for (auto& [h, n] : hours)
            if (t >= h && t < h + kHour) ImGui::SetTooltip("%s: %lld starts", formatRfc3339(h).c_str(), static_cast<long long>(n));
    }
}

}  // namespace keb::web
