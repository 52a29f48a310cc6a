#include "event_notes.h"

#include <nlohmann/json.hpp>
#include <string_view>

namespace keb::web {

EventNotes collectEventNotes(const std::deque<std::string>& recent, std::size_t max) {
    static constexpr std::string_view kKinds[] = {"operation.superseded", "operation.skipped", "operation.waiting"};
    // The needles once, not three strings built per line per call (2,000 lines per frame).
    static const std::string kNeedles[] = {std::string("\"kind\":\"").append(kKinds[0]).append("\""),
                                           std::string("\"kind\":\"").append(kKinds[1]).append("\""),
                                           std::string("\"kind\":\"").append(kKinds[2]).append("\"")};
    EventNotes n;
    for (auto it = recent.rbegin(); it != recent.rend(); ++it) {
        const std::string& line = *it;
        int which = -1;
        for (int k = 0; k < 3; ++k)
            if (line.find(kNeedles[k]) != std::string::npos) which = k;
        if (which < 0) continue;
        (which == 0 ? n.superseded : which == 1 ? n.skipped : n.waiting)++;
        if (n.latest.size() >= max) continue;
        const auto j = nlohmann::json::parse(line, nullptr, false);
        if (!j.is_object()) continue;
        EventNote e;
        e.at = j.value("at", "");
        e.kind = std::string(kKinds[which].substr(kKinds[which].find('.') + 1));
        e.runtime = j.value("runtimeID", "");
        e.detail = j.value("detail", "");
        n.latest.push_back(std::move(e));
    }
    return n;
}

}  // namespace keb::web
