// Maintenance windows (SPEC 5).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"

namespace keb {

// Parses Gardener's HHMMSS+HHMM / HHMMSS-HHMM and returns the UTC second of day
// (0..86399). nullopt when unparsable (bad digits, hour > 23, offset > 14h, ...).
std::optional<int> parseWindowTime(std::string_view s);

// A daily window in UTC clock time with the weekdays on which it may begin.
struct WindowSpec {
    int beginSec = 0;          // UTC second of day
    int endSec = 0;            // UTC second of day; end <= begin means it crosses midnight UTC
    std::uint8_t days = 0x7f;  // bit 0 = Monday .. bit 6 = Sunday (UTC weekday of the begin)
    bool crossesMidnight() const { return endSec <= beginSec; }
    Millis length() const;     // in ms (end - begin, +24h when crossing midnight)
};

// One concrete occurrence of a window.
struct WindowInstance {
    Millis begin = 0;
    Millis end = 0;
};

// Days "Mon".."Sun" -> bit mask. nullopt on an unknown name.
std::optional<std::uint8_t> parseDays(const std::vector<std::string>& days);

struct PolicyOverride {
    std::optional<std::string> globalAccountID;  // regex (rules only)
    std::optional<std::string> plan;             // regex (rules only)
    std::optional<std::string> region;           // regex (rules only)
    std::optional<std::vector<std::string>> days;
    std::optional<std::string> timeBegin;
    std::optional<std::string> timeEnd;
};

// {"rules":[{"match":{...},"days":[...],"timeBegin":..,"timeEnd":..}],"default":{...}}
struct MaintenancePolicy {
    std::vector<PolicyOverride> rules;
    PolicyOverride defaults;
};

// Parses a policy from JSON text; nullopt and *error naming the field on failure.
std::optional<MaintenancePolicy> parseMaintenancePolicy(std::string_view jsonText, std::string* error);

// The window that applies to a runtime: its Shoot window with the first matching
// rule (else the default) overriding only the fields it sets. nullopt and *error
// when the resulting window is unparsable.
std::optional<WindowSpec> effectiveWindow(const Runtime& runtime, const MaintenancePolicy& policy,
                                          std::string* error = nullptr);

// Earliest window with begin on an allowed day such that n is inside it (then
// that occurrence, which may have begun before n) or begins after n.
WindowInstance nextWindow(const WindowSpec& window, Millis n);

// True when t lies in [begin, end) of an occurrence on an allowed day.
bool insideWindow(const WindowSpec& window, Millis t);

}  // namespace keb
