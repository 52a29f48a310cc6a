// Small bit-level helpers shared by the core, the world library and the simulator: each mixing
// and hashing function is written here once.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace keb {

// splitmix64's increment: 2^64 divided by the golden ratio, odd.
inline constexpr std::uint64_t kGoldenGamma = 0x9e3779b97f4a7c15ull;

// splitmix64's output for the state x: x + gamma, then its finaliser. A good 64-bit mixing
// function (seeds, keys of ids). The simulator's ids, fleets and upgrade fates depend on its
// exact values: never change it.
constexpr std::uint64_t mix64(std::uint64_t x) {
    x += kGoldenGamma;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// The next value of a splitmix64 stream (advances state): a deterministic generator in one word.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
    const std::uint64_t z = mix64(state);
    state += kGoldenGamma;
    return z;
}

// 64-bit FNV-1a of s, continuing from h (stable keys of ids, hashes of short texts).
inline constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
inline constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t h = kFnvOffset) {
    for (unsigned char c : s) {
        h ^= c;
        h *= kFnvPrime;
    }
    return h;
}

// A 64-bit hash of n bytes, 8 at a time through mix64 (hash tables of ids and strings).
inline std::uint64_t hashBytes(const unsigned char* p, std::size_t n) {
    std::uint64_t h = 0x243f6a8885a308d3ULL ^ n;
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = mix64(h ^ w) + kGoldenGamma;
        p += 8;
        n -= 8;
    }
    if (n) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = mix64(h ^ w ^ (static_cast<std::uint64_t>(n) << 56));
    }
    return h;
}
inline std::uint64_t hashBytes(std::string_view s) {
    return hashBytes(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

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
