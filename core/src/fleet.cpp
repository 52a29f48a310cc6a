// Identifier helpers: UUID v4 text and a deterministic splitmix64 generator.
#include "keb/fleet.h"

#include <cstdint>

namespace keb {
namespace {


std::uint64_t splitmix64(std::uint64_t& state) {
    state += 0x9e3779b97f4a7c15ULL;
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

}  // namespace

// xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx with Y in 8..b (RFC 4122 variant). Written in place
// (ids are made for every operation of a rollout).
std::string formatUuid(std::uint64_t hi, std::uint64_t lo) {
    static constexpr char kHex[] = "0123456789abcdef";
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                                   // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;           // variant 10xx
    std::string out(36, '-');
    char* d = out.data();
    auto put = [&](int at, std::uint64_t v, int nibbles) {
        for (int i = nibbles - 1; i >= 0; --i) d[at++] = kHex[(v >> (4 * i)) & 0xf];
    };
    put(0, hi >> 32, 8);
    put(9, (hi >> 16) & 0xffff, 4);
    put(14, hi & 0xffff, 4);
    put(19, lo >> 48, 4);
    put(24, lo & 0xffffffffffffULL, 12);
    return out;
}

std::string SeededIdGenerator::newId() {
    const std::uint64_t hi = splitmix64(state_);
    const std::uint64_t lo = splitmix64(state_);
    return formatUuid(hi, lo);
}

}  // namespace keb
