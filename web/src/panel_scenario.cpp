// Scenario panel: pick a bundled scenario, load one from a file or the clipboard, paste
// JSON; fleet size and seed. Errors are shown here, never a crash.
#include <emscripten.h>

#include "bundled_scenarios.h"
#include "imgui.h"
#include "imgui_stdlib.h"
#include "keb/timefmt.h"
#include "panels.h"

// Browser file picker / clipboard: the text comes back through keb_ui_text_arrived (js_api.cpp).
EM_JS(void, keb_js_pick_file, (), {
    var input = document.createElement('input');
    input.type = 'file';
    input.accept = '.json,application/json';
    input.onchange = function () {
        var f = input.files && input.files[0];
        if (!f) return;
        f.text().then(function (text) { window.kebSim && window.kebSim._textArrived(text, f.name, 1); },
                      function (e) { window.kebSim && window.kebSim._textArrived(String(e), f.name, 0); });
    };
    input.click();
});

EM_JS(void, keb_js_read_clipboard, (), {
    if (!navigator.clipboard || !navigator.clipboard.readText) {
        window.kebSim && window.kebSim._textArrived('the browser does not allow reading the clipboard here', String(), 0);
        return;
    }
    navigator.clipboard.readText().then(function (text) { window.kebSim && window.kebSim._textArrived(text, 'clipboard', 2); },
                                        function (e) { window.kebSim && window.kebSim._textArrived(String(e), String(), 0); });
});

namespace keb::web {

static void loadFromPanel(App& app, const std::string& text, const std::string& name) {
    app.loadError.clear();
    app.loadMessage.clear();
    std::string err;
    auto seed = parseSeed(app.seedText, &err);
    if (!err.empty()) {
        app.loadError = err;
        return;
    }
    std::optional<int> size;
    if (app.fleetSizeOverride > 0) size = app.fleetSizeOverride;
    app.startLoad(text, name, seed, size);  // over the next frames, with a progress overlay
}

void drawScenarioPanel(App& app) {
    if (app.liveAvailable) {
        // SPEC 12: the page came from keb-server: its real orchestrations instead of a scenario.
        if (trackedButton(app, "Live mode (this keb-server)", "mode.live")) {
            app.enterLive();
            return;
        }
        ImGui::Separator();
    }
    const auto& bundled = bundledScenarios();
    if (bundled.empty()) {
        ImGui::TextDisabled("No bundled scenarios (scenarios/*.json)");
    } else {
        app.selectedScenario = std::clamp(app.selectedScenario, 0, static_cast<int>(bundled.size()) - 1);
        std::string current(bundled[app.selectedScenario].name);
        if (app.pickerShowsLoaded && app.loaded()) current = app.scenarioName() + " (loaded)";
        app.shownPickerName = current;
        ImGui::SetNextItemWidth(-80);
        if (ImGui::BeginCombo("##bundled", current.c_str())) {
            for (int i = 0; i < static_cast<int>(bundled.size()); ++i) {
                std::string n(bundled[i].name);
                if (ImGui::Selectable(n.c_str(), i == app.selectedScenario && !app.pickerShowsLoaded)) {
                    app.selectedScenario = i;
                    app.pickerShowsLoaded = false;
                }
            }
            ImGui::EndCombo();
        }
        app.widgets.recordLastItem("scenario.pick");
        ImGui::SameLine();
        if (trackedButton(app, "Load", "scenario.load")) {
            const auto& s = bundled[app.selectedScenario];
            loadFromPanel(app, std::string(s.text), std::string(s.name));
        }
    }
    ImGui::SetNextItemWidth(120);
    ImGui::InputInt("fleet size", &app.fleetSizeOverride, 1000, 10000);
    app.widgets.recordLastItem("scenario.fleetSize");
    if (app.fleetSizeOverride < 0) app.fleetSizeOverride = 0;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("0: the scenario's own fleet size");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(90);
    ImGui::InputTextWithHint("seed", "scenario's", &app.seedText, ImGuiInputTextFlags_CharsDecimal);

    if (trackedButton(app, "Load file...", "scenario.file")) keb_js_pick_file();
    ImGui::SameLine();
    if (trackedButton(app, "Paste clipboard", "scenario.clipboard")) keb_js_read_clipboard();
    ImGui::SameLine();
    if (trackedButton(app, "Load pasted JSON", "scenario.loadPasted")) {
        if (app.pasteBuffer.empty())
            app.loadError = "nothing pasted: paste a scenario's JSON into the box below first";
        else
            loadFromPanel(app, app.pasteBuffer, "pasted.json");
    }
    ImGui::InputTextMultiline("##paste", &app.pasteBuffer, ImVec2(-1, 56));
    app.widgets.recordLastItem("scenario.paste");

    if (!app.loadError.empty()) textWrappedColored(IM_COL32(255, 110, 110, 255), "Error: " + app.loadError);
    if (!app.loadMessage.empty()) textWrappedColored(IM_COL32(120, 220, 140, 255), app.loadMessage);
    if (auto* sim = app.sim()) {
        // Name and span on their own wrapped lines: a long name must not push the span out of the panel.
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        ImGui::TextWrapped("%s (%zu shoots)", app.scenarioName().c_str(), sim->fleet().size());
        ImGui::TextWrapped("%s .. %s", formatRfc3339(sim->startTime()).c_str(), formatRfc3339(sim->endTime()).c_str());
        ImGui::PopStyleColor();
        app.widgets.recordLastItem("scenario.span");
    } else if (app.loadError.empty()) {
        ImGui::TextDisabled("Pick a scenario and press Load.");
    }
}

// Text from the file picker (kind 1), the clipboard (kind 2) or an error (kind 0).
void onTextArrived(App& app, const std::string& text, const std::string& name, int kind) {
    if (kind == 0) {
        app.loadError = "could not read " + (name.empty() ? std::string("the input") : name) + ": " + text;
        return;
    }
    app.pasteBuffer = text;
    if (kind == 1) loadFromPanel(app, text, name);
}

}  // namespace keb::web
