// Playback panel: play, pause, step, speed (1x .. 100,000x), jump to a time; inject a broker
// restart, a Gardener outage or a failure burst at the current simulated time.
#include <cmath>

#include "imgui.h"
#include "imgui_stdlib.h"
#include "keb/timefmt.h"
#include "panels.h"

namespace keb::web {

void drawPlaybackPanel(App& app) {
    sim::Simulation* sim = app.sim();
    if (!sim) {
        ImGui::TextDisabled("Load a scenario first.");
        return;
    }
    const Millis now = sim->now(), start = sim->startTime(), end = sim->endTime();
    ImGui::Text("%s", formatRfc3339(now).c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("+%s", formatDuration(now - start).c_str());
    float progress = end > start ? static_cast<float>(static_cast<double>(now - start) / static_cast<double>(end - start)) : 1.0f;
    const char* status = sim->finished() ? "finished" : (app.playing ? (app.lagging ? "playing (lagging)" : "playing") : "paused");
    ImGui::ProgressBar(progress, ImVec2(-1, 0), status);

    if (app.playing) {
        if (trackedButton(app, "Pause", "playback.pause")) app.pause();
    } else {
        if (trackedButton(app, "Play", "playback.play")) app.play();
    }
    ImGui::SameLine();
    if (trackedButton(app, "Step", "playback.step")) app.stepOnce();
    ImGui::SameLine();
    if (trackedButton(app, "+1h", "playback.plus1h")) app.jumpTo(now + kHour, &app.playbackError);
    ImGui::SameLine();
    if (trackedButton(app, "+1d", "playback.plus1d")) app.jumpTo(now + kDay, &app.playbackError);
    ImGui::SameLine();
    if (trackedButton(app, "End", "playback.end")) app.jumpTo(end, &app.playbackError);

    // Speed: presets and a logarithmic slider.
    static const double kPresets[] = {1, 10, 100, 1000, 10000, 100000};
    static const char* kLabels[] = {"1x", "10x", "100x", "1k", "10k", "100k"};
    for (int i = 0; i < 6; ++i) {
        if (i) ImGui::SameLine();
        bool on = std::abs(app.speed - kPresets[i]) < 0.5;
        if (on) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
        std::string id = std::string("speed.") + kLabels[i];
        if (trackedButton(app, kLabels[i], id.c_str())) app.setSpeed(kPresets[i]);
        if (on) ImGui::PopStyleColor();
    }
    float speed = static_cast<float>(app.speed);
    ImGui::SetNextItemWidth(-60);
    if (ImGui::SliderFloat("speed", &speed, 1.0f, 100000.0f, "%.0fx", ImGuiSliderFlags_Logarithmic)) app.setSpeed(speed);

    ImGui::SetNextItemWidth(-60);
    ImGui::InputText("##jump", &app.jumpText);
    ImGui::SameLine();
    if (trackedButton(app, "Jump", "playback.jump")) {
        app.playbackError.clear();
        if (auto t = parseRfc3339(app.jumpText)) {
            app.jumpTo(*t, &app.playbackError);
        } else {
            app.playbackError = "jump: '" + app.jumpText + "' is not an RFC 3339 time (e.g. 2026-01-05T10:00:00Z)";
        }
    }

    ImGui::Separator();
    if (trackedButton(app, "Broker restart", "inject.restart")) app.injectRestart();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(70);
    ImGui::InputInt("##outmin", &app.outageMinutes, 0);
    app.outageMinutes = std::clamp(app.outageMinutes, 1, 7 * 24 * 60);
    ImGui::SameLine();
    if (trackedButton(app, "min Gardener outage", "inject.outage")) app.injectOutage(app.outageMinutes * kMinute);

    ImGui::SetNextItemWidth(70);
    ImGui::InputInt("##burstmin", &app.burstMinutes, 0);
    app.burstMinutes = std::clamp(app.burstMinutes, 1, 7 * 24 * 60);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(70);
    ImGui::SliderFloat("##burstp", &app.burstProbability, 0.0f, 1.0f, "p=%.2f");
    ImGui::SameLine();
    if (trackedButton(app, "min failure burst", "inject.burst"))
        app.injectFailureBurst(app.burstMinutes * kMinute, app.burstProbability);

    ImGui::TextDisabled("workers in use %d (peak %d) | restarts %d | events %llu", sim->workersInUse(),
                        sim->peakWorkersInUse(), sim->restarts(),
                        static_cast<unsigned long long>(sim->eventsProcessed()));
    if (!app.playbackError.empty()) textWrappedColored(IM_COL32(255, 110, 110, 255), app.playbackError);
}

}  // namespace keb::web
