// Structured logs: one JSON object per line on stderr, one line per event.
#pragma once
#include <string_view>

#include "keb/wire.h"

namespace keb::server {

// {"ts":"<RFC 3339 wall clock>","level":level,"event":event, ...fields}
void logEvent(std::string_view level, std::string_view event, const Json& fields = Json::object());

// The per-request line ("http.request"), formatted without building a JSON object: it is
// written for every request, so it must cost little next to serving the request.
void logAccess(std::string_view method, std::string_view path, int status, std::size_t bytes, double durationMs,
               std::string_view remote, std::string_view note);
// Writes out buffered access lines (at shutdown).
void flushAccessLog();

}  // namespace keb::server
