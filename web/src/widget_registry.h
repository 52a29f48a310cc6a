// Screen rectangles of named widgets from the last frame, so tests (and kebSim.widgetRect)
// can click into the ImGui canvas without hard-coding coordinates.
#pragma once
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace keb::web {

struct WidgetRect {
    float x = 0, y = 0, w = 0, h = 0;
};

class WidgetRegistry {
public:
    // Records the last submitted ImGui item under `label`.
    void recordLastItem(const std::string& label);
    void record(const std::string& label, WidgetRect r) { rects_[label] = r; }
    const WidgetRect* find(const std::string& label) const;
    nlohmann::json toJson() const;

private:
    std::map<std::string, WidgetRect> rects_;
};

}  // namespace keb::web
