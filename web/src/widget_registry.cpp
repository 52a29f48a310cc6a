#include "widget_registry.h"

#include "imgui.h"

namespace keb::web {

void WidgetRegistry::recordLastItem(const std::string& label) {
    ImVec2 a = ImGui::GetItemRectMin();
    ImVec2 b = ImGui::GetItemRectMax();
    rects_[label] = WidgetRect{a.x, a.y, b.x - a.x, b.y - a.y};
}

const WidgetRect* WidgetRegistry::find(const std::string& label) const {
    auto it = rects_.find(label);
    return it == rects_.end() ? nullptr : &it->second;
}

nlohmann::json WidgetRegistry::toJson() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, r] : rects_) out[k] = {{"x", r.x}, {"y", r.y}, {"w", r.w}, {"h", r.h}};
    return out;
}

}  // namespace keb::web
