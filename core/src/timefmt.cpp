// RFC 3339 and duration text <-> integer milliseconds. Pure arithmetic (days from
// civil date and back), no libc time zone functions, so native and wasm agree.
#include "keb/timefmt.h"

#include <algorithm>
#include <cstring>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <string_view>

namespace keb {
namespace {

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

// Days since 1970-01-01 for a proleptic Gregorian date (m 1..12, d 1..31).
std::int64_t daysFromCivil(std::int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = floorDiv(y, 400);
    const std::int64_t yoe = y - era * 400;                                    // [0, 399]
    const std::int64_t mp = (m + 9) % 12;                                      // March = 0
    const std::int64_t doy = (153 * mp + 2) / 5 + d - 1;                       // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
    return era * 146097 + doe - 719468;
}

struct Civil {
    std::int64_t y;
    int m;
    int d;
};

Civil civilFromDays(std::int64_t z) {
    z += 719468;
    const std::int64_t era = floorDiv(z, 146097);
    const std::int64_t doe = z - era * 146097;                                 // [0, 146096]
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);          // [0, 365]
    const std::int64_t mp = (5 * doy + 2) / 153;                               // [0, 11]
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return Civil{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool isLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int daysInMonth(std::int64_t y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && isLeap(y) ? 29 : kDays[m - 1];
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

}  // namespace

std::string formatRfc3339(Millis t) {
    char buf[kRfc3339Max];
    return std::string(buf, formatRfc3339To(t, buf));
}

std::size_t formatRfc3339To(Millis t, char* out) {
    const std::int64_t days = floorDiv(t, kDay);
    const std::int64_t msOfDay = t - days * kDay;
    // The civil date of the last day formatted on this thread (events come in time order).
    thread_local std::int64_t lastDays = std::numeric_limits<std::int64_t>::min();
    thread_local Civil lastCivil{};
    if (days != lastDays) {
        lastCivil = civilFromDays(days);
        lastDays = days;
    }
    const Civil c = lastCivil;
    const int h = static_cast<int>(msOfDay / kHour);
    const int mi = static_cast<int>((msOfDay / kMinute) % 60);
    const int s = static_cast<int>((msOfDay / kSecond) % 60);
    const int ms = static_cast<int>(msOfDay % 1000);
    // Written by hand (no snprintf): the engine formats times for events of every operation.
    if (c.y < 0 || c.y > 9999) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<long long>(c.y), c.m, c.d,
                      h, mi, s, ms);
        std::string text = buf;
        if (ms == 0) text.erase(text.size() - 5, 4);  // drop ".000"
        const std::size_t len = std::min(text.size(), kRfc3339Max);
        std::memcpy(out, text.data(), len);
        return len;
    }
    char* buf = out;
    auto two = [&](int at, int v) {
        buf[at] = static_cast<char>('0' + v / 10);
        buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    const int y = static_cast<int>(c.y);
    two(0, y / 100);
    two(2, y % 100);
    buf[4] = '-';
    two(5, c.m);
    buf[7] = '-';
    two(8, c.d);
    buf[10] = 'T';
    two(11, h);
    buf[13] = ':';
    two(14, mi);
    buf[16] = ':';
    two(17, s);
    std::size_t n = 19;
    if (ms != 0) {
        buf[n++] = '.';
        buf[n++] = static_cast<char>('0' + ms / 100);
        buf[n++] = static_cast<char>('0' + ms / 10 % 10);
        buf[n++] = static_cast<char>('0' + ms % 10);
    }
    buf[n++] = 'Z';
    return n;
}

// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm). Fractions beyond milliseconds are
// truncated. 't'/'z' are accepted in lower case as RFC 3339 allows.
std::optional<Millis> parseRfc3339(std::string_view s) {
    int y, mo, d, h, mi, sec;
    if (!digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, &mo) || s[7] != '-' ||
        !digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, &h) || s[13] != ':' ||
        !digits(s, 14, 2, &mi) || s[16] != ':' || !digits(s, 17, 2, &sec))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || sec > 59) return std::nullopt;
    std::size_t pos = 19;
    int ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 3) ms = ms * 10 + (s[pos] - '0');
            ++n;
            ++pos;
        }
        if (n == 0) return std::nullopt;
        for (std::size_t i = n; i < 3; ++i) ms *= 10;
    }
    if (pos >= s.size()) return std::nullopt;
    std::int64_t offsetMin = 0;
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh, om;
        if (!digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, &om))
            return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offsetMin = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    const std::int64_t days = daysFromCivil(y, mo, d);
    return days * kDay + h * kHour + mi * kMinute + sec * kSecond + ms - offsetMin * kMinute;
}

int weekdayUtc(Millis t) {
    // 1970-01-01 was a Thursday (3 with Monday = 0).
    const std::int64_t days = floorDiv(t, kDay);
    return static_cast<int>(((days % 7) + 7 + 3) % 7);
}

// A sequence of <integer><unit>, units d, h, m, s, ms; each unit at most once, in
// decreasing order ("1h30m", "2s500ms", "2d12h"). "0" alone is zero.
std::optional<Millis> parseDuration(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (s == "0") return Millis{0};
    Millis total = 0;
    int lastRank = 100;
    std::size_t pos = 0;
    constexpr Millis kMax = std::numeric_limits<Millis>::max() / 2;
    while (pos < s.size()) {
        std::size_t start = pos;
        Millis v = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (v > (kMax - 9) / 10) return std::nullopt;
            v = v * 10 + (s[pos] - '0');
            ++pos;
        }
        if (pos == start) return std::nullopt;
        Millis unit;
        int rank;
        if (s.substr(pos, 2) == "ms") {
            unit = 1, rank = 0, pos += 2;
        } else if (pos < s.size() && s[pos] == 's') {
            unit = kSecond, rank = 1, ++pos;
        } else if (pos < s.size() && s[pos] == 'm') {
            unit = kMinute, rank = 2, ++pos;
        } else if (pos < s.size() && s[pos] == 'h') {
            unit = kHour, rank = 3, ++pos;
        } else if (pos < s.size() && s[pos] == 'd') {
            unit = kDay, rank = 4, ++pos;
        } else {
            return std::nullopt;
        }
        if (rank >= lastRank) return std::nullopt;
        lastRank = rank;
        if (v > kMax / unit) return std::nullopt;
        total += v * unit;
        if (total > kMax) return std::nullopt;
    }
    return total;
}

std::string formatDuration(Millis d) {
    if (d == 0) return "0s";
    // Written into a buffer (the simulator formats one per started upgrade): the same text as
    // appending std::to_string(part) + unit for each non-zero part.
    char buf[64];
    char* out = buf;
    std::uint64_t u;
    if (d < 0) {
        *out++ = '-';
        u = static_cast<std::uint64_t>(-(d + 1)) + 1;
    } else {
        u = static_cast<std::uint64_t>(d);
    }
    auto part = [&out](std::uint64_t v, std::string_view unit) {
        if (!v) return;
        char digits[20];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (n) *out++ = digits[--n];
        for (char c : unit) *out++ = c;
    };
    part(u / kHour, "h");
    part((u / kMinute) % 60, "m");
    part((u / kSecond) % 60, "s");
    part(u % 1000, "ms");
    return std::string(buf, static_cast<std::size_t>(out - buf));
}

}  // namespace keb
