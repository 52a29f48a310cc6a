// Maintenance windows (SPEC 5): Gardener times, policy, next occurrence on allowed days.
#include "keb/windows.h"

#include <gtest/gtest.h>

#include "keb/timefmt.h"

namespace keb {
namespace {

const Millis kMon = *parseRfc3339("2026-11-30T00:00:00Z");  // a Monday, 00:00 UTC
constexpr std::uint8_t kMonBit = 1, kTueBit = 2, kWedBit = 4, kSunBit = 64;

Millis at(int dayOffset, int h, int m = 0) { return kMon + dayOffset * kDay + h * kHour + m * kMinute; }

WindowSpec spec(int beginH, int endH, std::uint8_t days = 0x7f) {
    WindowSpec w;
    w.beginSec = beginH * 3600;
    w.endSec = endH * 3600;
    w.days = days;
    return w;
}

TEST(Windows, ParseWindowTimeToUtcSecondOfDay) {
    EXPECT_EQ(parseWindowTime("220000+0000"), 22 * 3600);
    EXPECT_EQ(parseWindowTime("013000+0530"), 72000);  // 20:00 UTC the previous day
    EXPECT_EQ(parseWindowTime("220000-0800"), 6 * 3600);  // 06:00 UTC the next day
    EXPECT_EQ(parseWindowTime("000000+1400"), 10 * 3600);
    EXPECT_EQ(parseWindowTime("235959-1400"), 13 * 3600 + 59 * 60 + 59);
    EXPECT_EQ(parseWindowTime("123456+0000"), 12 * 3600 + 34 * 60 + 56);
    for (const char* bad : {"", "220000", "220000+000", "2200+0000", "220000 0000", "240000+0000", "126000+0000",
                            "120060+0000", "000000+1401", "000000+1500", "000000+0060", "ab0000+0000",
                            "220000+00a0", "220000+00000", "-10000+0000"})
        EXPECT_FALSE(parseWindowTime(bad).has_value()) << bad;
}

TEST(Windows, ParseDays) {
    EXPECT_EQ(parseDays({"Mon"}), kMonBit);
    EXPECT_EQ(parseDays({"Sun", "Tue"}), kSunBit | kTueBit);
    EXPECT_EQ(parseDays({"mon", "WEDNESDAY"}), kMonBit | kWedBit);
    EXPECT_EQ(parseDays({}), 0);
    EXPECT_FALSE(parseDays({"Mon", "Funday"}).has_value());
}

TEST(Windows, LengthAndMidnightCrossing) {
    EXPECT_EQ(spec(3, 4).length(), kHour);
    EXPECT_FALSE(spec(3, 4).crossesMidnight());
    EXPECT_TRUE(spec(22, 2).crossesMidnight());
    EXPECT_EQ(spec(22, 2).length(), 4 * kHour);
    EXPECT_EQ(spec(5, 5).length(), kDay);  // end == begin: a whole day
}

TEST(Windows, NextWindowSameDayLaterOrInside) {
    const WindowSpec w = spec(3, 4);
    EXPECT_EQ(nextWindow(w, at(0, 1)).begin, at(0, 3));
    EXPECT_EQ(nextWindow(w, at(0, 1)).end, at(0, 4));
    // Inside: the running occurrence, which began before n.
    EXPECT_EQ(nextWindow(w, at(0, 3, 30)).begin, at(0, 3));
    EXPECT_EQ(nextWindow(w, at(0, 3)).begin, at(0, 3));  // begin is inside
    EXPECT_EQ(nextWindow(w, at(0, 4)).begin, at(1, 3));  // end is not
    EXPECT_EQ(nextWindow(w, at(0, 5)).begin, at(1, 3));
    EXPECT_TRUE(insideWindow(w, at(0, 3, 59)));
    EXPECT_FALSE(insideWindow(w, at(0, 4)));
}

TEST(Windows, NextWindowAcrossMidnight) {
    const WindowSpec w = spec(22, 2);
    // 01:00 Tuesday is inside the occurrence that began Monday 22:00.
    EXPECT_EQ(nextWindow(w, at(1, 1)).begin, at(0, 22));
    EXPECT_EQ(nextWindow(w, at(1, 1)).end, at(1, 2));
    EXPECT_EQ(nextWindow(w, at(1, 2)).begin, at(1, 22));
    EXPECT_EQ(nextWindow(w, at(1, 23)).begin, at(1, 22));
    EXPECT_TRUE(insideWindow(w, at(1, 0)));
    EXPECT_FALSE(insideWindow(w, at(1, 12)));
}

TEST(Windows, DayRulesUseTheWeekdayOfTheBegin) {
    // Sunday 23:00 .. Monday 01:00, allowed on Sunday only.
    const WindowSpec w = spec(23, 1, kSunBit);
    const Millis sunday = at(-1, 0);
    EXPECT_EQ(weekdayUtc(sunday), 6);
    // Monday 00:30 is inside the Sunday occurrence: allowed.
    EXPECT_EQ(nextWindow(w, at(0, 0, 30)).begin, at(-1, 23));
    EXPECT_TRUE(insideWindow(w, at(0, 0, 30)));
    // After it ends, the next one is the following Sunday.
    EXPECT_EQ(nextWindow(w, at(0, 1, 30)).begin, at(6, 23));
    // Monday 23:00 begins on a Monday: not allowed, not inside.
    EXPECT_FALSE(insideWindow(w, at(0, 23, 30)));
    EXPECT_FALSE(insideWindow(w, at(1, 0, 30)));

    // Mon and Wed at 03:00; asked on Tuesday -> Wednesday.
    const WindowSpec mw = spec(3, 4, kMonBit | kWedBit);
    EXPECT_EQ(nextWindow(mw, at(1, 10)).begin, at(2, 3));
    EXPECT_EQ(nextWindow(mw, at(2, 5)).begin, at(7, 3));  // next Monday
    // One allowed day a week: the search covers a full week ahead.
    const WindowSpec tue = spec(3, 4, kTueBit);
    EXPECT_EQ(nextWindow(tue, at(1, 4)).begin, at(8, 3));
}

TEST(Windows, NoDaysMeansAllDays) {
    const WindowSpec w = spec(3, 4, 0);
    EXPECT_EQ(nextWindow(w, at(0, 5)).begin, at(1, 3));
}

TEST(Windows, OffsetsEndToEnd) {
    Runtime r;
    r.windowBegin = "013000+0530";  // 20:00 UTC
    r.windowEnd = "023000+0530";    // 21:00 UTC
    auto w = effectiveWindow(r, MaintenancePolicy{});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 72000);
    EXPECT_EQ(w->endSec, 75600);
    EXPECT_EQ(nextWindow(*w, at(0, 10)).begin, at(0, 20));
    // Tuesday 01:30 +05:30 is Monday 20:00 UTC: its weekday is Monday.
    w->days = kMonBit;
    EXPECT_EQ(nextWindow(*w, at(0, 21)).begin, at(7, 20));

    r.windowBegin = "220000-0800";  // 06:00 UTC
    r.windowEnd = "020000-0800";    // 10:00 UTC
    w = effectiveWindow(r, MaintenancePolicy{});
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 6 * 3600);
    EXPECT_EQ(w->endSec, 10 * 3600);
    EXPECT_FALSE(w->crossesMidnight());
    EXPECT_EQ(w->length(), 4 * kHour);
}

TEST(Windows, PolicyFirstMatchingRuleOverridesOnlySetFields) {
    std::string err;
    auto policy = parseMaintenancePolicy(R"({
      "rules": [
        {"match": {"globalAccountID": "^GA-1", "region": "eu"}, "days": ["Sat", "Sun"]},
        {"match": {"plan": "trial"}, "timeBegin": "010000+0000", "timeEnd": "020000+0000", "days": ["Mon"]},
        {"match": {"region": "eu"}, "timeBegin": "050000+0000"}
      ],
      "default": {"days": ["Tue"]}
    })",
                                         &err);
    ASSERT_TRUE(policy) << err;
    ASSERT_EQ(policy->rules.size(), 3u);
    Runtime r;
    r.globalAccountID = "GA-123";
    r.region = "eu-west-1";
    r.planName = "trial";
    r.windowBegin = "220000+0000";
    r.windowEnd = "230000+0000";
    // Rule 0 matches (rule 1 and 2 match too, but the first wins): days only.
    auto w = effectiveWindow(r, *policy);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 22 * 3600);
    EXPECT_EQ(w->endSec, 23 * 3600);
    EXPECT_EQ(w->days, 32 | 64);
    // Not GA-1: rule 1 (plan trial) wins.
    r.globalAccountID = "GA-2";
    w = effectiveWindow(r, *policy);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 3600);
    EXPECT_EQ(w->endSec, 7200);
    EXPECT_EQ(w->days, kMonBit);
    // Rule 2: begin only; end and days (all) from the Shoot.
    r.planName = "aws";
    w = effectiveWindow(r, *policy);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 5 * 3600);
    EXPECT_EQ(w->endSec, 23 * 3600);
    EXPECT_EQ(w->days, 0x7f);
    // Nothing matches: the default.
    r.region = "us-east-1";
    w = effectiveWindow(r, *policy);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->beginSec, 22 * 3600);
    EXPECT_EQ(w->days, kTueBit);
}

TEST(Windows, UnparsableShootWindowIsAnError) {
    Runtime r;
    r.windowBegin = "25:00";
    r.windowEnd = "230000+0000";
    std::string err;
    EXPECT_FALSE(effectiveWindow(r, MaintenancePolicy{}, &err));
    EXPECT_EQ(err, "invalid maintenance window begin \"25:00\" (want HHMMSS+HHMM)");
    r.windowBegin = "220000+0000";
    r.windowEnd = "";
    EXPECT_FALSE(effectiveWindow(r, MaintenancePolicy{}, &err));
    EXPECT_EQ(err, "invalid maintenance window end \"\" (want HHMMSS+HHMM)");
    // A policy that sets both times makes the Shoot's own window irrelevant.
    MaintenancePolicy p;
    p.defaults.timeBegin = "010000+0000";
    p.defaults.timeEnd = "020000+0000";
    EXPECT_TRUE(effectiveWindow(r, p, &err));
}

TEST(Windows, PolicyErrorsNameTheField) {
    auto error = [](const char* text) {
        std::string err;
        EXPECT_FALSE(parseMaintenancePolicy(text, &err).has_value()) << text;
        return err;
    };
    EXPECT_EQ(error(R"({"rules":[{},{"match":{"region":"(eu"}}]})"),
              "rules[1].match.region: invalid regex: missing closing )");
    EXPECT_EQ(error(R"({"default":{"days":["Mon","Fri2"]}})"), "default.days[1]: unknown day \"Fri2\" (want Mon..Sun)");
    EXPECT_EQ(error(R"({"default":{"days":"Mon"}})"), "default.days must be an array of day names (Mon..Sun)");
    EXPECT_EQ(error(R"({"rules":[{"timeBegin":"2200"}]})"),
              "rules[0].timeBegin: invalid window time \"2200\" (want HHMMSS+HHMM)");
    EXPECT_EQ(error(R"({"rules":[{"timeEnd":5}]})"), "rules[0].timeEnd must be a string");
    EXPECT_EQ(error(R"({"rules":{}})"), "rules must be an array");
    EXPECT_EQ(error(R"({"rules":[{"match":{"plan":1}}]})"), "rules[0].match.plan must be a string");
    EXPECT_EQ(error(R"({"rules":[3]})"), "rules[0] must be an object");
    EXPECT_EQ(error("[]"), "policy must be a JSON object");
    EXPECT_EQ(error(std::string(10000, '[').c_str()), "policy is nested too deeply");
    EXPECT_EQ(error("{").rfind("policy is not valid JSON: ", 0), 0u);
    std::string err;
    auto empty = parseMaintenancePolicy("{}", &err);
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->rules.empty());
}

}  // namespace
}  // namespace keb
