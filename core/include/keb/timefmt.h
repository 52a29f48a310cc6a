// RFC 3339 UTC formatting/parsing. Inside the core times are integer milliseconds.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "keb/model.h"

namespace keb {

// "2026-11-27T17:05:25Z" (milliseconds appended as ".123" only when non-zero).
std::string formatRfc3339(Millis t);
// The same text into out (at least kRfc3339Max bytes, not terminated); returns its length.
inline constexpr std::size_t kRfc3339Max = 40;
std::size_t formatRfc3339To(Millis t, char* out);
// Accepts RFC 3339 with 'Z' or a numeric offset, optional fractional seconds.
std::optional<Millis> parseRfc3339(std::string_view s);
// UTC weekday of t: 0 = Monday .. 6 = Sunday.
int weekdayUtc(Millis t);
// Durations written like "500ms", "2s", "5m", "1h", "1h30m"; nullopt when invalid.
std::optional<Millis> parseDuration(std::string_view s);
std::string formatDuration(Millis d);

}  // namespace keb
