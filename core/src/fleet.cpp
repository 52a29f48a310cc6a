// Identifier helpers: UUID v4 text and a deterministic splitmix64 generator.
#include "keb/fleet.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace keb {
namespace {


std::uint64_t splitmix64(std::uint64_t& state) {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The 8 lower-case hex digits of v (most significant first) at d, eight at a time: each nibble
// spread to a byte, then '0' + n or 'a' + n - 10 in every byte at once.
void hex8(char* d, std::uint32_t v) {
    std::uint64_t x = v;
    x = (x | x << 16) & 0x0000FFFF0000FFFFULL;
    x = (x | x << 8) & 0x00FF00FF00FF00FFULL;
    x = (x | x << 4) & 0x0F0F0F0F0F0F0F0FULL;  // byte i (from the low end): nibble i
    const std::uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
    x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
    // Memory order must be the most significant nibble first.
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
    std::memcpy(d, &x, 8);
}

}  // namespace

// xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx with Y in 8..b (RFC 4122 variant). Written in place
// (ids are made for every operation of a rollout).
std::string formatUuid(std::uint64_t hi, std::uint64_t lo) {
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                                   // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;           // variant 10xx
    std::string out(36, '-');
    char* d = out.data();
    char w[8];
    hex8(d, static_cast<std::uint32_t>(hi >> 32));       // xxxxxxxx
    hex8(w, static_cast<std::uint32_t>(hi));             // xxxx xxxx
    std::memcpy(d + 9, w, 4);
    std::memcpy(d + 14, w + 4, 4);
    hex8(w, static_cast<std::uint32_t>(lo >> 32));       // xxxx xxxx(xxxxxxxx)
    std::memcpy(d + 19, w, 4);
    std::memcpy(d + 24, w + 4, 4);
    hex8(d + 28, static_cast<std::uint32_t>(lo));
    return out;
}

std::string SeededIdGenerator::newId() {
    const std::uint64_t hi = splitmix64(state_);
    const std::uint64_t lo = splitmix64(state_);
    return formatUuid(hi, lo);
}

}  // namespace keb
