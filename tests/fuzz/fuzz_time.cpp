// Fuzz target: the time, duration and maintenance-window parsers (core/include/keb/timefmt.h,
// windows.h). The whole input is tried as an RFC 3339 time, a duration, a Gardener window time,
// a day name and a maintenance policy (JSON); its lines are also tried one by one.
// Checks (beyond "no crash, no UB"):
//  - parseRfc3339 -> formatRfc3339 -> parseRfc3339 gives the same instant; formatRfc3339To agrees;
//  - parseDuration -> formatDuration -> parseDuration gives the same length;
//  - parseWindowTime gives a second of the day (0..86399);
//  - for windows built from the input: nextWindow(w, t) ends after t, has the window's length,
//    begins on an allowed day, and insideWindow(w, t) == (begin <= t < end); no earlier occurrence
//    that contains or follows t was skipped.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "keb/timefmt.h"
#include "keb/windows.h"

using namespace keb;

namespace {
[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail = "") {
    std::fprintf(stderr, "fuzz_time: %s\n  %s\n  input: %.*s\n", what, detail.c_str(),
                 static_cast<int>(std::min<std::size_t>(input.size(), 400)), input.data());
    std::abort();
}

std::uint64_t mix(std::string_view s) {  // FNV-1a: a time derived from the input
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
}

void checkWindow(const WindowSpec& w, Millis t, std::string_view input) {
    const WindowInstance inst = nextWindow(w, t);
    const std::string where = "begin=" + std::to_string(w.beginSec) + " end=" + std::to_string(w.endSec) +
                              " days=" + std::to_string(w.days) + " t=" + std::to_string(t);
    if (inst.end <= t) fail("nextWindow ends before t", input, where);
    if (inst.end - inst.begin != w.length()) fail("nextWindow has the wrong length", input, where);
    if (((inst.begin % kDay) + kDay) % kDay != static_cast<Millis>(w.beginSec) * kSecond)
        fail("nextWindow begins at the wrong time of day", input, where);
    const std::uint8_t days = (w.days & 0x7f) ? (w.days & 0x7f) : 0x7f;
    if (!((days >> weekdayUtc(inst.begin)) & 1)) fail("nextWindow begins on a day not allowed", input, where);
    // No allowed occurrence between: the one a day earlier must be over by t or not allowed.
    const Millis prev = inst.begin - kDay;
    if (prev + w.length() > t && ((days >> weekdayUtc(prev)) & 1)) fail("nextWindow skipped an occurrence", input, where);
    const bool inside = inst.begin <= t && t < inst.end;
    if (insideWindow(w, t) != inside) fail("insideWindow disagrees with nextWindow", input, where);
}

void tryText(std::string_view s, std::string_view input) {
    if (auto t = parseRfc3339(s)) {
        const std::string text = formatRfc3339(*t);
        char buf[kRfc3339Max];
        const std::size_t n = formatRfc3339To(*t, buf);
        if (n > kRfc3339Max || std::string_view(buf, n) != text) fail("formatRfc3339To != formatRfc3339", input, text);
        auto back = parseRfc3339(text);
        if (!back || *back != *t) fail("RFC 3339 does not round-trip", input, text);
        const int wd = weekdayUtc(*t);
        if (wd < 0 || wd > 6) fail("weekdayUtc out of range", input, text);
    }
    if (auto d = parseDuration(s)) {
        if (*d < 0) fail("negative duration", input);
        const std::string text = formatDuration(*d);
        auto back = parseDuration(text);
        if (!back || *back != *d) fail("duration does not round-trip", input, text);
    }
    if (auto w = parseWindowTime(s)) {
        if (*w < 0 || *w > 86399) fail("window time out of range", input, std::to_string(*w));
    }
    (void)parseDays({std::string(s)});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 16 * 1024) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    tryText(input, input);

    std::vector<std::string_view> lines;
    for (std::size_t pos = 0; pos <= input.size() && lines.size() < 16;) {
        std::size_t nl = input.find('\n', pos);
        lines.push_back(input.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    if (lines.size() > 1)
        for (std::string_view l : lines) tryText(l, input);

    // A window from the first two lines (Gardener begin/end) and days from the third.
    const std::uint64_t h = mix(input);
    const Millis base = *parseRfc3339("2026-11-23T00:00:00Z");
    const Millis t = base + static_cast<Millis>(h % (60ull * kDay)) - 30 * kDay;
    if (lines.size() >= 2) {
        auto b = parseWindowTime(lines[0]), e = parseWindowTime(lines[1]);
        if (b && e) {
            WindowSpec w;
            w.beginSec = *b;
            w.endSec = *e;
            w.days = static_cast<std::uint8_t>(h >> 56);
            checkWindow(w, t, input);
            checkWindow(w, t - t % kDay + static_cast<Millis>(w.beginSec) * kSecond, input);  // exactly at a begin
        }
    }

    // A maintenance policy, applied to runtimes whose windows come from the lines.
    std::string err;
    if (auto policy = parseMaintenancePolicy(input, &err)) {
        Runtime r;
        r.globalAccountID = "ga-1";
        r.planName = "azure";
        r.region = "westeurope";
        r.windowBegin = "010000+0000";
        r.windowEnd = "030000+0100";
        for (int i = 0; i < 3; ++i) {
            if (i == 1) r = Runtime{};
            if (i == 2) r.planName = "aws", r.region = "eastus", r.windowBegin = "220000-0200", r.windowEnd = "000000-0200";
            std::string werr;
            if (auto w = effectiveWindow(r, *policy, &werr)) {
                checkWindow(*w, t, input);
            } else if (werr.empty()) {
                fail("effectiveWindow failed without a message", input);
            }
        }
    } else if (err.empty()) {
        fail("parseMaintenancePolicy failed without a message", input);
    }
    return 0;
}
