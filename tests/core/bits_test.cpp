// keb/bits.h: the one mix64, splitmix64 step and FNV-1a of the house. The simulator's ids,
// fleets, upgrade fates and event-log hashes are built from them, so their values are pinned
// here against the published reference outputs (splitmix64.c by Vigna; the FNV test suite).
#include "keb/bits.h"

#include <gtest/gtest.h>

#include <string>

namespace keb {
namespace {

TEST(Bits, Mix64IsSplitMix64sOutputFunction) {
    EXPECT_EQ(mix64(0), 0xe220a8397b1dcdafull);  // splitmix64's first output for seed 0
    static_assert(mix64(0) == 0xe220a8397b1dcdafull, "usable in constant expressions");
}

TEST(Bits, SplitMix64StreamMatchesTheReference) {
    std::uint64_t state = 1234567;
    EXPECT_EQ(splitmix64(state), 6457827717110365317ull);
    EXPECT_EQ(splitmix64(state), 3203168211198807973ull);
    EXPECT_EQ(splitmix64(state), 9817491932198370423ull);
    EXPECT_EQ(state, 1234567 + 3 * kGoldenGamma);
}

TEST(Bits, Fnv1aMatchesTheReferenceAndContinues) {
    EXPECT_EQ(fnv1a(""), kFnvOffset);
    EXPECT_EQ(fnv1a("a"), 0xaf63dc4c8601ec8cull);
    EXPECT_EQ(fnv1a("foobar"), 0x85944171f73967e8ull);
    EXPECT_EQ(fnv1a("bar", fnv1a("foo")), fnv1a("foobar"));  // a hash continues over pieces
    EXPECT_EQ(fnv1a(std::string("a\0b", 3)), fnv1a("b", fnv1a(std::string(1, '\0'), fnv1a("a"))));
}

TEST(Bits, WriteHex8WritesLowerCaseDigitsMostSignificantFirst) {
    char d[9] = {};
    writeHex8(d, 0x0123abcfu);
    EXPECT_STREQ(d, "0123abcf");
    writeHex8(d, 0xffffffffu);
    EXPECT_STREQ(d, "ffffffff");
    writeHex8(d, 0);
    EXPECT_STREQ(d, "00000000");
}

}  // namespace
}  // namespace keb
