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
    Json line = Json::object();
    line["ts"] = formatRfc3339(now);
    line["level"] = level;
    line["event"] = event;
    if (fields.is_object())
        for (auto it = fields.begin(); it != fields.end(); ++it) line[it.key()] = it.value();
    std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
    text += '\n';
    std::lock_guard<std::mutex> lock(mu);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

}  // namespace keb::server
