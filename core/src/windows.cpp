// Maintenance windows (SPEC 5): Gardener window times, the maintenance policy, and
// the next occurrence of a window on an allowed UTC weekday.
#include "keb/windows.h"

#include <unordered_map>

#include "keb/wire.h"

#include <nlohmann/json.hpp>

#include "keb/regex.h"
#include "keb/timefmt.h"

namespace keb {
namespace {

constexpr int kSecondsPerDay = 86400;
constexpr std::uint8_t kAllDays = 0x7f;

bool twoDigits(std::string_view s, std::size_t pos, int* out) {
    const char a = s[pos], b = s[pos + 1];
    if (a < '0' || a > '9' || b < '0' || b > '9') return false;
    *out = (a - '0') * 10 + (b - '0');
    return true;
}

std::int64_t floorDivMs(Millis a, Millis b) {
    Millis q = a / b;
    if (a % b != 0 && (a < 0) != (b < 0)) --q;
    return q;
}


bool parseOverride(const nlohmann::json& j, const std::string& path, bool isRule, PolicyOverride* out,
                   std::string* error) {
    auto fail = [&](const std::string& msg) {
        if (error) *error = msg;
        return false;
    };
    if (!j.is_object()) return fail(path + " must be an object");
    if (isRule && j.contains("match") && !j["match"].is_null()) {
        const auto& m = j["match"];
        if (!m.is_object()) return fail(path + ".match must be an object");
        for (const char* key : {"globalAccountID", "plan", "region"}) {
            if (!m.contains(key) || m[key].is_null()) continue;
            const std::string field = path + ".match." + key;
            if (!m[key].is_string()) return fail(field + " must be a string");
            const std::string pattern = m[key].get<std::string>();
            std::string reErr;
            if (!Regex::compile(pattern, &reErr)) return fail(field + ": invalid regex: " + reErr);
            std::optional<std::string>* dst = key[0] == 'g' ? &out->globalAccountID
                                              : key[0] == 'p' ? &out->plan
                                                              : &out->region;
            *dst = pattern;
        }
    }
    if (j.contains("days") && !j["days"].is_null()) {
        const auto& d = j["days"];
        if (!d.is_array()) return fail(path + ".days must be an array of day names (Mon..Sun)");
        std::vector<std::string> days;
        for (std::size_t i = 0; i < d.size(); ++i) {
            const std::string field = path + ".days[" + std::to_string(i) + "]";
            if (!d[i].is_string()) return fail(field + " must be a string");
            days.push_back(d[i].get<std::string>());
            if (!parseDays({days.back()})) return fail(field + ": unknown day \"" + days.back() + "\" (want Mon..Sun)");
        }
        out->days = std::move(days);
    }
    for (const char* key : {"timeBegin", "timeEnd"}) {
        if (!j.contains(key) || j[key].is_null()) continue;
        const std::string field = path + "." + key;
        if (!j[key].is_string()) return fail(field + " must be a string");
        const std::string v = j[key].get<std::string>();
        if (!parseWindowTime(v)) return fail(field + ": invalid window time \"" + v + "\" (want HHMMSS+HHMM)");
        (key[4] == 'B' ? out->timeBegin : out->timeEnd) = v;
    }
    return true;
}

// Policy patterns compiled once per thread (a policy has a handful; effectiveWindow runs for
// every operation that starts).
const std::optional<Regex>& compiledPattern(const std::string& pattern) {
    thread_local std::unordered_map<std::string, std::optional<Regex>> cache;
    auto it = cache.find(pattern);
    if (it == cache.end()) {
        if (cache.size() > 256) cache.clear();
        it = cache.emplace(pattern, Regex::compile(pattern)).first;
    }
    return it->second;
}

bool overrideMatches(const PolicyOverride& rule, const Runtime& r) {
    auto ok = [](const std::optional<std::string>& pattern, const std::string& value) {
        if (!pattern) return true;
        const auto& re = compiledPattern(*pattern);
        return re && re->search(value);
    };
    return ok(rule.globalAccountID, r.globalAccountID) && ok(rule.plan, r.planName) && ok(rule.region, r.region);
}

bool dayAllowed(std::uint8_t days, Millis begin) { return (days >> weekdayUtc(begin)) & 1; }

std::uint8_t effectiveDays(const WindowSpec& w) {
    const std::uint8_t d = w.days & kAllDays;
    return d == 0 ? kAllDays : d;
}

}  // namespace

std::optional<int> parseWindowTime(std::string_view s) {
    if (s.size() != 11) return std::nullopt;
    int hh, mm, ss, oh, om;
    if (!twoDigits(s, 0, &hh) || !twoDigits(s, 2, &mm) || !twoDigits(s, 4, &ss)) return std::nullopt;
    if (s[6] != '+' && s[6] != '-') return std::nullopt;
    if (!twoDigits(s, 7, &oh) || !twoDigits(s, 9, &om)) return std::nullopt;
    if (hh > 23 || mm > 59 || ss > 59 || om > 59) return std::nullopt;
    const int offset = oh * 3600 + om * 60;
    if (offset > 14 * 3600) return std::nullopt;
    const int local = hh * 3600 + mm * 60 + ss;
    const int utc = local - (s[6] == '+' ? offset : -offset);
    return ((utc % kSecondsPerDay) + kSecondsPerDay) % kSecondsPerDay;
}

Millis WindowSpec::length() const {
    const int secs = crossesMidnight() ? endSec + kSecondsPerDay - beginSec : endSec - beginSec;
    return static_cast<Millis>(secs) * kSecond;
}

std::optional<std::uint8_t> parseDays(const std::vector<std::string>& days) {
    static constexpr const char* kShort[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    static constexpr const char* kLong[7] = {"monday", "tuesday", "wednesday", "thursday",
                                             "friday", "saturday", "sunday"};
    std::uint8_t mask = 0;
    for (const auto& d : days) {
        std::string lower;
        for (char c : d) lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
        int found = -1;
        for (int i = 0; i < 7; ++i)
            if (lower == kShort[i] || lower == kLong[i]) found = i;
        if (found < 0) return std::nullopt;
        mask |= static_cast<std::uint8_t>(1u << found);
    }
    return mask;
}

std::optional<MaintenancePolicy> parseMaintenancePolicy(std::string_view jsonText, std::string* error) {
    auto fail = [&](const std::string& msg) -> std::optional<MaintenancePolicy> {
        if (error) *error = msg;
        return std::nullopt;
    };
    if (jsonNestedDeeperThan(jsonText)) return fail("policy is nested too deeply");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(jsonText);
    } catch (const std::exception& e) {
        return fail(std::string("policy is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) return fail("policy must be a JSON object");
    MaintenancePolicy policy;
    std::string err;
    if (j.contains("rules") && !j["rules"].is_null()) {
        const auto& rules = j["rules"];
        if (!rules.is_array()) return fail("rules must be an array");
        for (std::size_t i = 0; i < rules.size(); ++i) {
            PolicyOverride rule;
            if (!parseOverride(rules[i], "rules[" + std::to_string(i) + "]", true, &rule, &err)) return fail(err);
            policy.rules.push_back(std::move(rule));
        }
    }
    if (j.contains("default") && !j["default"].is_null()) {
        if (!parseOverride(j["default"], "default", false, &policy.defaults, &err)) return fail(err);
    }
    return policy;
}

std::optional<WindowSpec> effectiveWindow(const Runtime& runtime, const MaintenancePolicy& policy, std::string* error) {
    const PolicyOverride* chosen = &policy.defaults;
    for (const auto& rule : policy.rules) {
        if (overrideMatches(rule, runtime)) {
            chosen = &rule;
            break;
        }
    }
    const std::string& beginText = chosen->timeBegin ? *chosen->timeBegin : runtime.windowBegin;
    const std::string& endText = chosen->timeEnd ? *chosen->timeEnd : runtime.windowEnd;
    auto fail = [&](const std::string& msg) -> std::optional<WindowSpec> {
        if (error) *error = msg;
        return std::nullopt;
    };
    const auto begin = parseWindowTime(beginText);
    if (!begin) return fail("invalid maintenance window begin \"" + beginText + "\" (want HHMMSS+HHMM)");
    const auto end = parseWindowTime(endText);
    if (!end) return fail("invalid maintenance window end \"" + endText + "\" (want HHMMSS+HHMM)");
    WindowSpec spec;
    spec.beginSec = *begin;
    spec.endSec = *end;
    if (chosen->days) {
        const auto mask = parseDays(*chosen->days);
        if (!mask) return fail("invalid maintenance policy days");
        spec.days = *mask == 0 ? kAllDays : *mask;
    }
    return spec;
}

WindowInstance nextWindow(const WindowSpec& window, Millis n) {
    const std::uint8_t days = effectiveDays(window);
    const Millis len = window.length();
    const Millis firstDay = floorDivMs(n, kDay) - 1;  // the occurrence that began yesterday may still run
    for (Millis d = firstDay; d <= firstDay + 9; ++d) {
        const Millis begin = d * kDay + static_cast<Millis>(window.beginSec) * kSecond;
        const Millis end = begin + len;
        if (end <= n || !dayAllowed(days, begin)) continue;
        return WindowInstance{begin, end};  // begin <= n: n is inside; else the next one
    }
    return WindowInstance{};  // unreachable: some day within 8 days is allowed
}

bool insideWindow(const WindowSpec& window, Millis t) {
    const WindowInstance w = nextWindow(window, t);
    return w.begin <= t && t < w.end;
}

}  // namespace keb
