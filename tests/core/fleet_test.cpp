// UUID formatting and the deterministic id generator.
#include "keb/fleet.h"

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
