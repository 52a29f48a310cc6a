#include "keb/uuid.h"

namespace keb {
namespace {

// Lower-case hex digit values, -1 for anything else.
struct HexTable {
    signed char v[256];
    constexpr HexTable() : v() {
        for (int i = 0; i < 256; ++i) v[i] = -1;
        for (int i = 0; i < 10; ++i) v['0' + i] = static_cast<signed char>(i);
        for (int i = 0; i < 6; ++i) v['a' + i] = static_cast<signed char>(10 + i);
    }
};
constexpr HexTable kValue;
constexpr char kDigits[] = "0123456789abcdef";
// Positions of the 32 hex digits in the text.
constexpr unsigned char kPos[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
                                    19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};

}  // namespace

bool packUuid(std::string_view s, unsigned char out[16]) {
    if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
    int bad = 0;
    for (int k = 0; k < 16; ++k) {
        const int hi = kValue.v[static_cast<unsigned char>(s[kPos[2 * k]])];
        const int lo = kValue.v[static_cast<unsigned char>(s[kPos[2 * k + 1]])];
        bad |= hi | lo;  // negative when either is not a digit
        out[k] = static_cast<unsigned char>((hi << 4) | (lo & 15));
    }
    return bad >= 0;
}

void unpackUuid(const unsigned char in[16], std::string& out) {
    out.assign(36, '-');
    char* d = out.data();
    for (int k = 0; k < 16; ++k) {
        d[kPos[2 * k]] = kDigits[in[k] >> 4];
        d[kPos[2 * k + 1]] = kDigits[in[k] & 15];
    }
}

}  // namespace keb
