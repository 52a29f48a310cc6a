// The repository's scenarios/*.json, compiled into the page (see web/embed_scenarios.cmake).
#pragma once
#include <string_view>
#include <vector>

namespace keb::web {

struct BundledScenario {
    std::string_view name;  // file name, e.g. "basic-rollout.json"
    std::string_view text;  // JSON text
};

const std::vector<BundledScenario>& bundledScenarios();

}  // namespace keb::web
