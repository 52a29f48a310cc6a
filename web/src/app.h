// State of the browser simulator. Panels draw from it every frame and own no state.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frame_stats.h"
#include "widget_registry.h"

namespace keb::web {

class App {
public:
    static App& instance();
    void init();
    // Called once per frame with the real time since the previous frame (ms).
    void advance(double realMs);

    FrameStats frames;
    WidgetRegistry widgets;
    std::string lastError;
};

}  // namespace keb::web
