// Small bit-level helpers shared by the core and the simulator.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>

namespace keb {

// A hint that *p is read soon (no effect where the compiler has no prefetch).
inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

// The 8 lower-case hex digits of v (most significant first) at d, all at once: each nibble spread
// to a byte, then '0' + n or 'a' + n - 10 in every byte.
inline void writeHex8(char* d, std::uint32_t v) {
    std::uint64_t x = v;
    x = (x | x << 16) & 0x0000FFFF0000FFFFULL;
    x = (x | x << 8) & 0x00FF00FF00FF00FFULL;
    x = (x | x << 4) & 0x0F0F0F0F0F0F0F0FULL;  // byte i (from the low end): nibble i
    const std::uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);  // memory order
    std::memcpy(d, &x, 8);
}

}  // namespace keb
