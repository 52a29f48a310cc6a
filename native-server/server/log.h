// Structured logs: one JSON object per line on stderr, one line per event.
#pragma once
#include <string_view>

#include "keb/wire.h"

namespace keb::server {

// {"ts":"<RFC 3339 wall clock>","level":level,"event":event, ...fields}
void logEvent(std::string_view level, std::string_view event, const Json& fields = Json::object());

}  // namespace keb::server
