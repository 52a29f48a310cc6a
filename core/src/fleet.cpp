// Identifier helpers: UUID v4 text and a deterministic splitmix64 generator.
#include "keb/fleet.h"

#include "keb/bits.h"
#include "keb/uuid.h"

#include <cstdint>
#include <cstring>

namespace keb {

namespace {
// 128 random bits with the version (4) and variant (10xx) bits of a UUID v4 set: what
// formatUuid writes and formatUuidBytes packs.
void setV4Bits(std::uint64_t& hi, std::uint64_t& lo) {
    hi = (hi & ~0xf000ULL) | 0x4000ULL;                          // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10xx
}
}  // namespace

// xxxxxxxx-xxxx-4xxx-Yxxx-xxxxxxxxxxxx with Y in 8..b (RFC 4122 variant). Written in place
// (ids are made for every operation of a rollout).
std::string formatUuid(std::uint64_t hi, std::uint64_t lo) {
    setV4Bits(hi, lo);
    std::string out(36, '-');
    char* d = out.data();
    char w[8];
    writeHex8(d, static_cast<std::uint32_t>(hi >> 32));       // xxxxxxxx
    writeHex8(w, static_cast<std::uint32_t>(hi));             // xxxx xxxx
    std::memcpy(d + 9, w, 4);
    std::memcpy(d + 14, w + 4, 4);
    writeHex8(w, static_cast<std::uint32_t>(lo >> 32));       // xxxx xxxx(xxxxxxxx)
    std::memcpy(d + 19, w, 4);
    std::memcpy(d + 24, w + 4, 4);
    writeHex8(d + 28, static_cast<std::uint32_t>(lo));
    return out;
}

std::string SeededIdGenerator::newId() {
    const std::uint64_t hi = splitmix64(state_);
    const std::uint64_t lo = splitmix64(state_);
    return formatUuid(hi, lo);
}

void formatUuidBytes(std::uint64_t hi, std::uint64_t lo, unsigned char out[16]) {
    setV4Bits(hi, lo);
    for (int i = 0; i < 8; ++i) {
        out[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
        out[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
    }
}

bool IdGenerator::newIdPacked(std::string& text, unsigned char bytes[16]) {
    text = newId();
    return packUuid(text, bytes);
}

bool SeededIdGenerator::newIdPacked(std::string& text, unsigned char bytes[16]) {
    std::uint64_t hi = splitmix64(state_);
    std::uint64_t lo = splitmix64(state_);
    text = formatUuid(hi, lo);
    formatUuidBytes(hi, lo, bytes);  // what packUuid makes of that text
    return true;
}

}  // namespace keb
