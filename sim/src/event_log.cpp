// The event log (see event_log.h): JSON lines written into one reused buffer and hashed.
#include "keb/sim/event_log.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "keb/world/random.h"
#include "keb/timefmt.h"

namespace keb::sim {
namespace {


// True when one of the 8 bytes of w is < 0x20, '"' or '\\' (needs escaping in JSON). Per byte
// x, (x - c) & ~x has its high bit set exactly when x < c (c <= 0x80) with no borrow coming in;
// the borrows only start at a byte that already qualifies, so "some byte" is exact. x ^ '"' and
// x ^ '\\' keep the high bit of x, so the three tests share one ~w mask.
inline bool wordNeedsEscape(std::uint64_t w) {
    constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    const std::uint64_t below20 = w - ones * 0x20;
    const std::uint64_t quote = (w ^ (ones * '"')) - ones;
    const std::uint64_t backslash = (w ^ (ones * '\\')) - ones;
    return ((below20 | quote | backslash) & ~w & highs) != 0;
}

constexpr char kHexDigits[] = "0123456789abcdef";

// Writes the n bytes at p JSON-escaped (no quotes) at d; returns the new end. Room: 6 bytes per byte.
char* writeEscaped(char* d, const unsigned char* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *d++ = static_cast<char>(c);
            continue;
        }
        *d++ = '\\';
        switch (c) {
            case '"': *d++ = '"'; break;
            case '\\': *d++ = '\\'; break;
            case '\n': *d++ = 'n'; break;
            case '\r': *d++ = 'r'; break;
            case '\t': *d++ = 't'; break;
            default:  // \u00XX, lower-case hex (what "\\u%04x" printed)
                *d++ = 'u';
                *d++ = '0';
                *d++ = '0';
                *d++ = kHexDigits[c >> 4];
                *d++ = kHexDigits[c & 15];
        }
    }
    return d;
}

// The body of a JSON string for v at d (no quotes); returns the new end. Room: 6 bytes per byte
// of v. Plain text (ids, times, states: nearly everything) is checked and copied 8 bytes at a time,
// the last partial word as an overlapping one.
inline char* writeValue(char* d, std::string_view v) {
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    const std::size_t n = v.size();
    if (n < 8) {
        if (n < 4) return writeEscaped(d, p, n);
        // 4..7 bytes ("pending", "failed"): the first and the last four, overlapping, as one word.
        std::uint32_t head, tail;
        std::memcpy(&head, p, 4);
        std::memcpy(&tail, p + n - 4, 4);
        if (wordNeedsEscape(head | std::uint64_t{tail} << 32)) return writeEscaped(d, p, n);
        std::memcpy(d, &head, 4);
        std::memcpy(d + n - 4, &tail, 4);
        return d + n;
    }
    std::size_t i = 0;
#if defined(__SSE2__)
    if (n >= 16) {  // 16 bytes at a time (a UUID: three loads, the last one overlapping)
        auto needsEscape = [](__m128i x) {
            const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                                 _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
            const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);  // x <= 0x1f
            return _mm_movemask_epi8(_mm_or_si128(special, control)) != 0;
        };
        for (; i + 16 <= n; i += 16) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
            if (needsEscape(x)) return writeEscaped(d + i, p + i, n - i);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), x);
        }
        if (i < n) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16));
            if (needsEscape(x)) return writeEscaped(d + i, p + i, n - i);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(d + n - 16), x);
        }
        return d + n;
    }
#endif
    for (; i + 8 <= n; i += 8) {
        if (wordNeedsEscape(world::loadLittleEndian64(p + i))) return writeEscaped(d + i, p + i, n - i);
        std::memcpy(d + i, p + i, 8);
    }
    if (i < n) {
        if (wordNeedsEscape(world::loadLittleEndian64(p + n - 8))) return writeEscaped(d + i, p + i, n - i);
        std::memcpy(d + n - 8, p + n - 8, 8);
    }
    return d + n;
}

// prefix (`,"key":"`, a literal) then v JSON-escaped and the closing quote.
template <std::size_t N>
inline void field(LineBuffer& out, const char (&prefix)[N], std::string_view v) {
    char* d = out.reserve(N - 1 + 6 * v.size() + 1);
    std::memcpy(d, prefix, N - 1);
    d = writeValue(d + N - 1, v);
    *d++ = '"';
    out.commit(d);
}

// ,"key":"value" for a key known only at run time.
void namedField(LineBuffer& out, std::string_view key, std::string_view v) {
    char* d = out.reserve(key.size() + 5 + 6 * v.size() + 1);
    *d++ = ',';
    *d++ = '"';
    std::memcpy(d, key.data(), key.size());
    d += key.size();
    *d++ = '"';
    *d++ = ':';
    *d++ = '"';
    d = writeValue(d, v);
    *d++ = '"';
    out.commit(d);
}

}  // namespace

void LineBuffer::grow(std::size_t extra) {
    std::size_t cap = cap_ == 0 ? 512 : cap_;
    while (cap - len_ < extra) cap *= 2;
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (len_ > 0) std::memcpy(bigger.get(), buf_.get(), len_);
    buf_ = std::move(bigger);
    cap_ = cap;
}

EventLog::EventLog() : hash_(kFnvOffset) {}

void EventLog::setTraceSink(std::function<void(const std::string&)> sink) {
    trace_ = std::move(sink);
    // Lines written before the sink was set (sim.start, ...) are replayed when still held.
    if (trace_ && recent_.size() == lines_)
        for (const auto& line : recent_) trace_(line);
}

void EventLog::setCapacity(std::size_t n) {
    capacity_ = n;
    while (recent_.size() > n) recent_.pop_front();
}

// {"at":"<time>","kind":"<kind>" with the time in keb::formatRfc3339's text, written without
// snprintf; the date part is cached per day and the whole time per instant.
void EventLog::beginLine(Millis t, std::string_view kind) {
    if (t != cachedTime_) {
        const Millis day = (t >= 0 ? t : t - (kDay - 1)) / kDay;
        if (day != cachedDay_) {
            cachedDay_ = day;
            const std::string date = formatRfc3339(day * kDay);
            cachedDateLen_ = std::min<std::size_t>(date.size(), 11);  // "YYYY-MM-DDT"
            std::memcpy(cachedDate_, date.data(), cachedDateLen_);
        }
        const Millis ms = t - day * kDay;
        const int h = static_cast<int>(ms / kHour), mi = static_cast<int>(ms / kMinute % 60),
                  sec = static_cast<int>(ms / kSecond % 60), frac = static_cast<int>(ms % 1000);
        char* d = cachedTimeText_;
        *d++ = '"';
        std::memcpy(d, cachedDate_, cachedDateLen_);
        d += cachedDateLen_;
        const char hms[8] = {char('0' + h / 10),   char('0' + h % 10),   ':', char('0' + mi / 10),
                             char('0' + mi % 10),  ':', char('0' + sec / 10), char('0' + sec % 10)};
        std::memcpy(d, hms, 8);
        d += 8;
        if (frac != 0) {
            *d++ = '.';
            *d++ = char('0' + frac / 100);
            *d++ = char('0' + frac / 10 % 10);
            *d++ = char('0' + frac % 10);
        }
        *d++ = 'Z';
        *d++ = '"';
        cachedTimeLen_ = static_cast<std::size_t>(d - cachedTimeText_);
        cachedTime_ = t;
    }
    line_.clear();
    static constexpr char kKind[] = ",\"kind\":\"";
    char* d = line_.reserve(6 + sizeof cachedTimeText_ + sizeof kKind + 6 * kind.size() + 1);
    std::memcpy(d, "{\"at\":", 6);
    std::memcpy(d + 6, cachedTimeText_, sizeof cachedTimeText_);  // fixed size: no call; the end is set below
    d += 6 + cachedTimeLen_;
    std::memcpy(d, kKind, sizeof kKind - 1);
    d = writeValue(d + sizeof kKind - 1, kind);
    *d++ = '"';
    line_.commit(d);
}

void EventLog::finishLine() {
    {
        char* d = line_.reserve(1);
        *d++ = '}';
        line_.commit(d);
    }
    const std::string_view line = line_.view();
    hash_ = world::hashWords(line, hash_);
    hash_ = world::hashWords("\n", hash_);
    ++lines_;
    if (!trace_ && capacity_ == 0) return;
    lineText_.assign(line);
    if (trace_) trace_(lineText_);
    if (capacity_ > 0) {
        if (recent_.size() >= capacity_) recent_.pop_front();
        recent_.push_back(lineText_);
    }
}

void EventLog::simEvent(Millis at, const char* kind,
                        std::initializer_list<std::pair<const char*, std::string_view>> fields) {
    beginLine(at, kind);
    for (const auto& [k, v] : fields) namedField(line_, k, v);
    finishLine();
}

void EventLog::engineEvent(const EngineEvent& e) {
    beginLine(e.at, e.kind);
    if (!e.orchestrationID.empty()) field(line_, ",\"orchestrationID\":\"", e.orchestrationID);
    if (!e.stage.empty()) field(line_, ",\"stage\":\"", e.stage);  // SPEC 10's stage events only
    if (!e.operationID.empty()) field(line_, ",\"operationID\":\"", e.operationID);
    if (!e.runtimeID.empty()) field(line_, ",\"runtimeID\":\"", e.runtimeID);
    if (!e.state.empty()) field(line_, ",\"state\":\"", e.state);
    if (!e.detail.empty()) field(line_, ",\"detail\":\"", e.detail);
    finishLine();
}

}  // namespace keb::sim

