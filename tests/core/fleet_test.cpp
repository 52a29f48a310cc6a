// UUID formatting and the deterministic id generator.
#include "keb/fleet.h"
#include "keb/uuid.h"

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

}  // namespace
}  // namespace keb
