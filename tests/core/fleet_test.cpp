// UUID formatting and the deterministic id generator.
#include "keb/fleet.h"
#include "keb/uuid.h"

#include <cstring>

#include <gtest/gtest.h>

#include <set>

namespace keb {
namespace {

bool isUuidV4(const std::string& s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

TEST(Fleet, FormatUuidSetsVersionAndVariant) {
    EXPECT_EQ(formatUuid(0, 0), "00000000-0000-4000-8000-000000000000");
    EXPECT_EQ(formatUuid(~0ULL, ~0ULL), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    EXPECT_EQ(formatUuid(0x0123456789abcdefULL, 0xfedcba9876543210ULL), "01234567-89ab-4def-bedc-ba9876543210");
}

TEST(Fleet, SeededGeneratorIsDeterministicAndDistinct) {
    SeededIdGenerator a(42), b(42), c(43);
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i) {
        const std::string x = a.newId();
        EXPECT_EQ(x, b.newId());
        EXPECT_TRUE(isUuidV4(x)) << x;
        EXPECT_TRUE(seen.insert(x).second) << "duplicate " << x;
    }
    EXPECT_EQ(a.state(), b.state());
    EXPECT_NE(SeededIdGenerator(42).newId(), c.newId());
    // Resuming from a saved state continues the same stream.
    SeededIdGenerator resumed(a.state());
    EXPECT_EQ(resumed.newId(), a.newId());
}

}  // namespace
}  // namespace keb

namespace keb {
namespace {

TEST(Uuid, CanonicalTextPacksAndComesBackByteForByte) {
    SeededIdGenerator ids(99);
    std::string back;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = ids.newId();
        unsigned char b[16];
        ASSERT_TRUE(packUuid(id, b)) << id;
        unpackUuid(b, back);
        ASSERT_EQ(back, id);
    }
    unsigned char b[16];
    ASSERT_TRUE(packUuid("00000000-0000-0000-0000-000000000000", b));
    ASSERT_TRUE(packUuid("ffffffff-ffff-ffff-ffff-ffffffffffff", b));
    unpackUuid(b, back);
    EXPECT_EQ(back, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

// Every byte value at every position round-trips, and every non-digit at every digit position is
// refused (the packer works on 8 characters at a time: a bad one anywhere in a word must count).
TEST(Uuid, EveryByteAndEveryBadDigitPosition) {
    std::string back;
    for (int pos = 0; pos < 16; ++pos) {
        for (int v = 0; v < 256; ++v) {
            unsigned char b[16];
            for (int k = 0; k < 16; ++k) b[k] = static_cast<unsigned char>(k * 37 + 11);
            b[pos] = static_cast<unsigned char>(v);
            unpackUuid(b, back);
            unsigned char again[16];
            ASSERT_TRUE(packUuid(back, again)) << back;
            ASSERT_EQ(0, std::memcmp(b, again, 16)) << back;
        }
    }
    const std::string good = "0123abcd-ef45-6789-a0b1-c2d3e4f5a6b7";
    const char bad[] = {'g', 'G', 'A', 'F', '/', ':', '`', '@', '-', ' ', '\0', '\x80', '\xb0', '\xe1', '\x7f'};
    for (std::size_t i = 0; i < good.size(); ++i) {
        if (good[i] == '-') continue;
        for (char c : bad) {
            std::string s = good;
            s[i] = c;
            unsigned char b[16];
            EXPECT_FALSE(packUuid(s, b)) << "position " << i << " char " << int(static_cast<unsigned char>(c));
        }
    }
    unsigned char b[16];
    ASSERT_TRUE(packUuid(good, b));
    const unsigned char want[16] = {0x01, 0x23, 0xab, 0xcd, 0xef, 0x45, 0x67, 0x89,
                                    0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5, 0xa6, 0xb7};
    EXPECT_EQ(0, std::memcmp(b, want, 16));
}

TEST(Uuid, AnythingElseIsNotPacked) {
    unsigned char b[16];
    EXPECT_FALSE(packUuid("3F0C1B8E-6A3D-4C1E-9B7A-0D2E4F6A8B1C", b));  // upper case would not round-trip
    EXPECT_FALSE(packUuid("3f0c1b8e-6a3d-4c1e-9b7a-0d2e4f6a8b1", b));   // 35 chars
    EXPECT_FALSE(packUuid("3f0c1b8e-6a3d-4c1e-9b7a-0d2e4f6a8b1cc", b)); // 37 chars
    EXPECT_FALSE(packUuid("3f0c1b8e06a3d-4c1e-9b7a-0d2e4f6a8b1c", b));  // dash missing
    EXPECT_FALSE(packUuid("3f0c1b8e-6a3d-4c1e-9b7a-0d2e4f6a8b1g", b));  // not hex
    EXPECT_FALSE(packUuid("rt-1", b));
    EXPECT_FALSE(packUuid("", b));
}

TEST(SeededIdGenerator, PackedIdsAreTheTextsBytes) {
    SeededIdGenerator g(42), same(42);
    for (int i = 0; i < 1000; ++i) {
        std::string text;
        unsigned char bytes[16], parsed[16];
        ASSERT_TRUE(g.newIdPacked(text, bytes));
        EXPECT_EQ(text, same.newId());  // the same stream as newId()
        ASSERT_TRUE(packUuid(text, parsed)) << text;
        EXPECT_EQ(std::memcmp(bytes, parsed, 16), 0) << text;
    }
}

}  // namespace
}  // namespace keb
