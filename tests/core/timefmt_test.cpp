// RFC 3339 and durations: pure arithmetic, checked against known instants.
#include "keb/timefmt.h"

#include <gtest/gtest.h>

#include <limits>

#include <cstdio>
#include <ctime>
#include <string>

namespace keb {
namespace {

// 2026-11-27T17:05:25Z, computed independently: 20784 days after the epoch.
constexpr Millis kRef = 20784LL * kDay + 17 * kHour + 5 * kMinute + 25 * kSecond;

TEST(TimeFmt, FormatsUtc) {
    EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(formatRfc3339(kRef), "2026-11-27T17:05:25Z");
    EXPECT_EQ(formatRfc3339(kRef + 123), "2026-11-27T17:05:25.123Z");
    EXPECT_EQ(formatRfc3339(kRef + 5), "2026-11-27T17:05:25.005Z");
    EXPECT_EQ(formatRfc3339(-1), "1969-12-31T23:59:59.999Z");
    EXPECT_EQ(formatRfc3339(951782400000LL), "2000-02-29T00:00:00Z");  // leap day of a /400 year
    EXPECT_EQ(formatRfc3339(4107542399000LL), "2100-02-28T23:59:59Z");
    EXPECT_EQ(formatRfc3339(4107542400000LL), "2100-03-01T00:00:00Z");  // 2100 is not a leap year
}

TEST(TimeFmt, ParsesZuluAndOffsets) {
    EXPECT_EQ(parseRfc3339("2026-11-27T17:05:25Z"), kRef);
    EXPECT_EQ(parseRfc3339("2026-11-27t17:05:25z"), kRef);
    EXPECT_EQ(parseRfc3339("2026-11-27T22:35:25+05:30"), kRef);
    EXPECT_EQ(parseRfc3339("2026-11-27T09:05:25-08:00"), kRef);
    EXPECT_EQ(parseRfc3339("2026-11-28T01:05:25+08:00"), kRef);  // previous UTC day
    EXPECT_EQ(parseRfc3339("2026-11-27T17:05:25.5Z"), kRef + 500);
    EXPECT_EQ(parseRfc3339("2026-11-27T17:05:25.123456789Z"), kRef + 123);  // truncated to ms
    EXPECT_EQ(parseRfc3339("1969-12-31T23:59:59.999Z"), -1);
    EXPECT_EQ(parseRfc3339("2024-02-29T00:00:00Z"), 1709164800000LL);
}

TEST(TimeFmt, RoundTrips) {
    for (Millis t : {Millis{0}, kRef, kRef + 1, Millis{-86400001}, Millis{253402300799999LL}, Millis{1709164800000LL}}) {
        EXPECT_EQ(parseRfc3339(formatRfc3339(t)), t) << formatRfc3339(t);
    }
    for (Millis t = -400LL * 366 * kDay; t < 400LL * 366 * kDay; t += 7 * kDay + 3 * kHour + 17 * kSecond + 1)
        ASSERT_EQ(parseRfc3339(formatRfc3339(t)), t) << formatRfc3339(t);
}

TEST(TimeFmt, RejectsInvalid) {
    for (const char* s : {"", "2026-11-27", "2026-11-27T17:05:25", "2026-11-27 17:05:25Z", "2026-13-01T00:00:00Z",
                          "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-27T24:00:00Z",
                          "2026-11-27T17:60:00Z", "2026-11-27T17:05:60Z", "2026-11-27T17:05:25.Z",
                          "2026-11-27T17:05:25+0530", "2026-11-27T17:05:25+05:3", "2026-11-27T17:05:25+24:00",
                          "2026-11-27T17:05:25Zx", "tomorrow", "2026-1a-27T17:05:25Z", "2026-00-10T00:00:00Z",
                          "2026-11-00T00:00:00Z"})
        EXPECT_FALSE(parseRfc3339(s).has_value()) << s;
}

TEST(TimeFmt, WeekdayIsUtcMondayZero) {
    EXPECT_EQ(weekdayUtc(0), 3);                 // 1970-01-01 was a Thursday
    EXPECT_EQ(weekdayUtc(kRef), 4);              // 2026-11-27 is a Friday
    EXPECT_EQ(weekdayUtc(*parseRfc3339("2026-11-29T23:59:59Z")), 6);  // Sunday
    EXPECT_EQ(weekdayUtc(*parseRfc3339("2026-11-30T00:00:00Z")), 0);  // Monday
    EXPECT_EQ(weekdayUtc(-1), 2);                // 1969-12-31, a Wednesday
    // The same instant written with an offset is still a UTC weekday.
    EXPECT_EQ(weekdayUtc(*parseRfc3339("2026-11-30T01:00:00+05:30")), 6);
}

TEST(TimeFmt, Durations) {
    EXPECT_EQ(parseDuration("500ms"), 500);
    EXPECT_EQ(parseDuration("2s"), 2000);
    EXPECT_EQ(parseDuration("5m"), 5 * kMinute);
    EXPECT_EQ(parseDuration("1h"), kHour);
    EXPECT_EQ(parseDuration("1h30m"), 90 * kMinute);
    EXPECT_EQ(parseDuration("3h0m5s250ms"), 3 * kHour + 5 * kSecond + 250);
    EXPECT_EQ(parseDuration("0"), 0);
    EXPECT_EQ(parseDuration("90s"), 90 * kSecond);
    for (const char* bad : {"", "h", "5", "5x", "1m1h", "1h1h", "-5s", "1.5h", "5 s", "s5", "99999999999999999999h"})
        EXPECT_FALSE(parseDuration(bad).has_value()) << bad;
    EXPECT_EQ(formatDuration(0), "0s");
    EXPECT_EQ(formatDuration(90 * kMinute), "1h30m");
    EXPECT_EQ(formatDuration(500), "500ms");
    EXPECT_EQ(formatDuration(-2 * kSecond), "-2s");
    for (Millis d : {Millis{1}, Millis{999}, kHour + 1, 3 * kDay + 7 * kSecond, Millis{123456789}})
        EXPECT_EQ(parseDuration(formatDuration(d)), d) << formatDuration(d);
}

// formatDuration writes its digits into a buffer: the same text as "<n>h<n>m<n>s<n>ms" built
// with std::to_string (non-zero parts only, "-" first when negative), over many durations and the
// extremes.
TEST(TimeFormat, DurationTextMatchesToString) {
    auto expected = [](Millis d) {
        if (d == 0) return std::string("0s");
        std::string out = d < 0 ? "-" : "";
        const std::uint64_t u = d < 0 ? static_cast<std::uint64_t>(-(d + 1)) + 1 : static_cast<std::uint64_t>(d);
        const std::uint64_t parts[] = {u / kHour, (u / kMinute) % 60, (u / kSecond) % 60, u % 1000};
        const char* units[] = {"h", "m", "s", "ms"};
        for (int k = 0; k < 4; ++k)
            if (parts[k]) out += std::to_string(parts[k]) + units[k];
        return out;
    };
    std::uint64_t x = 777;
    for (int i = 0; i < 20000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        const Millis d = static_cast<Millis>(x >> (i % 64));  // every magnitude, both signs
        ASSERT_EQ(formatDuration(d), expected(d)) << d;
    }
    for (Millis d : {std::numeric_limits<Millis>::min(), std::numeric_limits<Millis>::max(), Millis{-1}, Millis{1000},
                     kHour, 10 * kHour + 1})
        EXPECT_EQ(formatDuration(d), expected(d)) << d;
    EXPECT_EQ(formatDuration(kHour + 2 * kMinute + 3 * kSecond + 4), "1h2m3s4ms");
}

// formatRfc3339 writes digits by hand; check it against snprintf over many instants, and the
// years it hands back to snprintf (before 0000, after 9999).
TEST(TimeFormat, HandWrittenDigitsMatchPrintf) {
    std::uint64_t x = 12345;
    for (int i = 0; i < 20000; ++i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        // 1970 .. ~2223 (the reference gmtime_r needs a 64-bit time_t; wasm's is 32-bit: up to 2038)
        const std::uint64_t range = sizeof(std::time_t) >= 8 ? 8000000000000ULL : 2147483647000ULL;
        const Millis t = static_cast<Millis>(x % range);
        const Millis ms = i % 3 == 0 ? t - t % 1000 : t;            // whole seconds a third of the time
        const std::time_t secs = static_cast<std::time_t>(ms / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char want[64];
        std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        std::string w = want;
        if (ms % 1000) {
            char frac[8];
            std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms % 1000));
            w += frac;
        }
        w += "Z";
        ASSERT_EQ(formatRfc3339(ms), w) << ms;
    }
    EXPECT_EQ(formatRfc3339(253402300800000LL), "10000-01-01T00:00:00Z");
    EXPECT_EQ(formatRfc3339(253402300800001LL), "10000-01-01T00:00:00.001Z");
}

}  // namespace
}  // namespace keb
