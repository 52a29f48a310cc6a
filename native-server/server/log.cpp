#include "log.h"

#include <chrono>
#include <cstdio>
#include <mutex>

#include "keb/timefmt.h"

namespace keb::server {

void logEvent(std::string_view level, std::string_view event, const Json& fields) {
    static std::mutex mu;
    const Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    // ts, level and event first, then the fields (sorted), on one line.
    std::string text = "{\"ts\":" + Json(formatRfc3339(now)).dump() + ",\"level\":" + Json(level).dump() +
                       ",\"event\":" + Json(event).dump();
    if (fields.is_object() && !fields.empty()) {
        std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
        text += "," + rest.substr(1);
    } else {
        text += "}";
    }
    text += '\n';
    std::lock_guard<std::mutex> lock(mu);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

}  // namespace keb::server
