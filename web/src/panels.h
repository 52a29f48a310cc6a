// The panels of the simulator. Each one is a function that draws from App state every
// frame (Dear ImGui immediate mode) and acts only through App.
#pragma once
#include "app.h"

namespace keb::web {

void drawUi(App& app);  // lays the panels out over the whole canvas

void drawScenarioPanel(App& app);
void drawPlaybackPanel(App& app);
void drawNewOrchestrationPanel(App& app);
void drawFleetMapPanel(App& app);
void drawTimelinePanel(App& app);
void drawOrchestrationsPanel(App& app);
void drawLivePanel(App& app);      // live mode: token, connect, status (panel_live.cpp)
void drawLiveTimeline(App& app);   // live mode: the preview's prediction

// Small helpers shared by the panels.
// A button whose screen rectangle is recorded under `id` (kebSim.widgetRect(id)).
bool trackedButton(App& app, const char* label, const char* id);
void textWrappedColored(unsigned color, const std::string& text);
// Text from the browser (file picker: kind 1, clipboard: kind 2, error: kind 0).
void onTextArrived(App& app, const std::string& text, const std::string& name, int kind);

}  // namespace keb::web
