// UUID text <-> 16 bytes by table, unrolled: both directions run millions of times in a large
// simulated rollout (store records, engine slots, the fleet).
#include "keb/uuid.h"

#include <cstdint>
#include <cstring>

namespace keb {
namespace {

// Lower-case hex digit values, -1 for anything else.
struct HexValues {
    signed char v[256];
    constexpr HexValues() : v() {
        for (int i = 0; i < 256; ++i) v[i] = -1;
        for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<signed char>(i);
        for (int i = 0; i < 6; ++i) v['a' + i] = static_cast<signed char>(10 + i);
    }
};
constexpr HexValues kValues;

}  // namespace

bool packUuid(std::string_view s, unsigned char out[16]) {
    if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    int bad = 0;  // negative once a character is not a digit
    auto byte = [&](int k, int at) {
        const int hi = kValues.v[p[at]], lo = kValues.v[p[at + 1]];
        bad |= hi | lo;
        out[k] = static_cast<unsigned char>((hi << 4) | (lo & 15));
    };
    // Written out (not a loop over a position table): constant offsets, nothing to look up.
    byte(0, 0), byte(1, 2), byte(2, 4), byte(3, 6);
    byte(4, 9), byte(5, 11);
    byte(6, 14), byte(7, 16);
    byte(8, 19), byte(9, 21);
    byte(10, 24), byte(11, 26), byte(12, 28), byte(13, 30), byte(14, 32), byte(15, 34);
    return bad >= 0;
}

void unpackUuid(const unsigned char in[16], std::string& out) {
    // Two hex digits per byte from a 512-byte table: a load and a 2-byte store per byte.
    struct Pairs {
        char p[256][2];
        constexpr Pairs() : p() {
            constexpr char digits[] = "0123456789abcdef";
            for (int i = 0; i < 256; ++i) {
                p[i][0] = digits[i >> 4];
                p[i][1] = digits[i & 15];
            }
        }
    };
    static constexpr Pairs kPairs;
    out.resize(36);
    char* d = out.data();
    auto put = [&](int at, int k) { std::memcpy(d + at, kPairs.p[in[k]], 2); };
    put(0, 0), put(2, 1), put(4, 2), put(6, 3);
    d[8] = '-';
    put(9, 4), put(11, 5);
    d[13] = '-';
    put(14, 6), put(16, 7);
    d[18] = '-';
    put(19, 8), put(21, 9);
    d[23] = '-';
    put(24, 10), put(26, 11), put(28, 12), put(30, 13), put(32, 14), put(34, 15);
}

}  // namespace keb
