// UUID text <-> 16 bytes, eight characters at a time (SWAR on 64-bit words): both directions run
// millions of times in a large simulated rollout (store records, engine slots, the fleet).
#include "keb/uuid.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace keb {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ull;
constexpr std::uint64_t kHighs = 0x8080808080808080ull;
constexpr std::uint64_t kLowNibbles16 = 0x000F000F000F000Full;  // low nibble of each 16-bit lane

// 8 bytes as a little-endian number (byte 0 lowest), on any host.
std::uint64_t load8(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
}
void store8(char* p, std::uint64_t w) {
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    std::memcpy(p, &w, 8);
}

// Bytes of x (all < 0x80) in [lo, hi]: 0x80 in each such byte, 0 elsewhere.
constexpr std::uint64_t bytesInRange(std::uint64_t x, unsigned lo, unsigned hi) {
    const std::uint64_t atLeastLo = x + kOnes * (0x80 - lo);  // high bit set where byte >= lo
    const std::uint64_t aboveHi = x + kOnes * (0x7F - hi);    // high bit set where byte > hi
    return atLeastLo & ~aboveHi & kHighs;
}

// 8 lower-case hex digits (little-endian word) into 4 bytes; false when one is not a digit.
[[gnu::always_inline]] inline bool decode8(std::uint64_t x, unsigned char* out) {
    if (x & kHighs) return false;
    const std::uint64_t digit = bytesInRange(x, '0', '9');
    const std::uint64_t letter = bytesInRange(x, 'a', 'f');
    if ((digit | letter) != kHighs) return false;
    const std::uint64_t v = (x & (kOnes * 0x0F)) + (letter >> 7) * 9;  // each byte: its value 0..15
    std::uint64_t t = ((v & kLowNibbles16) << 4) | ((v >> 8) & kLowNibbles16);  // 16-bit lanes: one byte
    t = (t | (t >> 8)) & 0x0000FFFF0000FFFFull;
    t = (t | (t >> 16)) & 0xFFFFFFFFull;
    out[0] = static_cast<unsigned char>(t);
    out[1] = static_cast<unsigned char>(t >> 8);
    out[2] = static_cast<unsigned char>(t >> 16);
    out[3] = static_cast<unsigned char>(t >> 24);
    return true;
}

// 4 bytes into 8 lower-case hex digits (little-endian word).
[[gnu::always_inline]] inline std::uint64_t encode8(const unsigned char* in) {
    const std::uint64_t x = std::uint64_t{in[0]} | std::uint64_t{in[1]} << 16 | std::uint64_t{in[2]} << 32 |
                            std::uint64_t{in[3]} << 48;
    const std::uint64_t n = ((x >> 4) & kLowNibbles16) | ((x & kLowNibbles16) << 8);  // one nibble per byte
    const std::uint64_t letters = ((n + kOnes * 6) >> 4) & kOnes;                       // 1 where nibble >= 10
    return n + kOnes * '0' + letters * ('a' - '0' - 10);
}

}  // namespace

bool packUuid(std::string_view s, unsigned char out[16]) {
    if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
    const char* p = s.data();
    char mid[8];  // the two 4-digit groups at 9 and 14, then the ones at 19 and 24
    std::memcpy(mid, p + 9, 4);
    std::memcpy(mid + 4, p + 14, 4);
    char mid2[8];
    std::memcpy(mid2, p + 19, 4);
    std::memcpy(mid2 + 4, p + 24, 4);
    return decode8(load8(p), out) & decode8(load8(mid), out + 4) & decode8(load8(mid2), out + 8) &
           decode8(load8(p + 28), out + 12);
}

void unpackUuid(const unsigned char in[16], std::string& out) {
    out.resize(36);
    char* d = out.data();
    char w[8];
    store8(d, encode8(in));
    d[8] = '-';
    store8(w, encode8(in + 4));
    std::memcpy(d + 9, w, 4);
    d[13] = '-';
    std::memcpy(d + 14, w + 4, 4);
    d[18] = '-';
    store8(w, encode8(in + 8));
    std::memcpy(d + 19, w, 4);
    d[23] = '-';
    std::memcpy(d + 24, w + 4, 4);
    store8(d + 28, encode8(in + 12));
}

}  // namespace keb
