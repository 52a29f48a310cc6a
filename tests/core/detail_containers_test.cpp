// The engine's and the memory store's containers (core/src/detail/), each against a plain
// standard-library oracle on random inputs.
#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <random>
#include <set>
#include <tuple>

#include "detail/packed_id.h"
#include "detail/ready_calendar.h"
#include "detail/tag_table.h"
#include "detail/timer_queue.h"

using namespace keb;
using namespace keb::detail;

namespace {

struct Item {
    std::int64_t at;
    int id;
};
struct ItemLater {
    bool operator()(const Item& a, const Item& b) const { return std::tie(a.at, a.id) > std::tie(b.at, b.id); }
};

}  // namespace

TEST(TimerQueue, PopsInExactlyTheHeapsOrder) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 20; ++round) {
        TimerQueue<Item, ItemLater> q;
        std::priority_queue<Item, std::vector<Item>, ItemLater> oracle;
        std::int64_t now = 0;
        int nextId = 0;
        for (int step = 0; step < 20000; ++step) {
            const auto r = rng() % 10;
            if (r < 6) {  // mostly in order (polls at now + interval), sometimes anywhere
                const std::int64_t at = r < 4 ? now + 60 : now + static_cast<std::int64_t>(rng() % 500);
                const Item it{at, nextId++};
                q.push(it);
                oracle.push(it);
            } else if (!oracle.empty()) {
                ASSERT_FALSE(q.empty());
                ASSERT_EQ(q.size(), oracle.size());
                ASSERT_EQ(q.top().at, oracle.top().at);
                ASSERT_EQ(q.top().id, oracle.top().id);
                now = q.top().at;
                q.pop();
                oracle.pop();
            }
        }
        while (!oracle.empty()) {
            ASSERT_EQ(q.top().id, oracle.top().id);
            q.pop();
            oracle.pop();
        }
        EXPECT_TRUE(q.empty());
    }
}

TEST(TimerQueue, LongRunOfInOrderPushesCompactsAndKeepsOrder) {
    TimerQueue<Item, ItemLater> q;
    for (int i = 0; i < 100000; ++i) q.push(Item{i, i});
    for (int i = 0; i < 60000; ++i) {
        ASSERT_EQ(q.top().id, i);
        q.pop();
    }
    q.push(Item{5, -1});  // earlier than everything left: goes to the heap, comes first
    EXPECT_EQ(q.top().id, -1);
    q.pop();
    for (int i = 60000; i < 100000; ++i) {
        ASSERT_EQ(q.top().id, i);
        q.pop();
    }
    EXPECT_TRUE(q.empty());
}

TEST(ReadyCalendar, PopsByStartTimeThenSeqWithDuplicates) {
    std::mt19937_64 rng(11);
    ReadyCalendar cal;
    std::multiset<std::pair<Millis, std::int64_t>> oracle;
    for (int step = 0; step < 50000; ++step) {
        if (rng() % 3 != 0) {
            const Millis at = static_cast<Millis>(rng() % 40) * kHour;  // few distinct instants
            const auto seq = static_cast<std::int64_t>(rng() % 5000);  // out of order, duplicates
            cal.push(at, seq);
            oracle.emplace(at, seq);
        } else if (!oracle.empty()) {
            const ReadyEntry top = cal.top();
            ASSERT_EQ(std::make_pair(top.startAt, top.seq), *oracle.begin());
            cal.pop();
            oracle.erase(oracle.begin());
        }
        ASSERT_EQ(cal.size(), oracle.size());
        ASSERT_EQ(cal.empty(), oracle.empty());
    }
}

TEST(ReadyCalendar, AheadLooksIntoTheSortedFirstBucketOnly) {
    ReadyCalendar cal;
    EXPECT_EQ(cal.ahead(0), -1);
    for (std::int64_t s : {1, 2, 3}) cal.push(100, s);
    cal.push(200, 9);
    EXPECT_EQ(cal.ahead(0), 1);
    EXPECT_EQ(cal.ahead(2), 3);
    EXPECT_EQ(cal.ahead(3), -1);  // the next bucket is not looked into
    cal.push(100, 0);             // out of order: unknown until sorted
    EXPECT_EQ(cal.ahead(1), -1);
    EXPECT_EQ(cal.top().seq, 0);  // sorts the bucket
    EXPECT_EQ(cal.ahead(1), 1);
}

TEST(PackedId, UuidsPackWithoutTheTableOthersGoToIt) {
    IdTable t;
    PackedId a, b;
    t.pack("0b6e2c1a-57f4-4c1e-9d3a-2f0c8e4b7a91", a);
    t.pack("rt-7", b);
    EXPECT_FALSE(a.odd);
    EXPECT_TRUE(b.odd);
    EXPECT_EQ(t.oddCount(), 1u);
    std::string out;
    t.unpack(a, out);
    EXPECT_EQ(out, "0b6e2c1a-57f4-4c1e-9d3a-2f0c8e4b7a91");
    t.unpack(b, out);
    EXPECT_EQ(out, "rt-7");
    // Upper-case hex is not the canonical form: kept as text, so it round-trips exactly.
    PackedId c;
    t.pack("0B6E2C1A-57F4-4C1E-9D3A-2F0C8E4B7A91", c);
    t.unpack(c, out);
    EXPECT_EQ(out, "0B6E2C1A-57F4-4C1E-9D3A-2F0C8E4B7A91");
}

TEST(PackedIdMap, OddIdsOfDifferentTablesMeetByText) {
    IdTable t1, t2;
    PackedId x1, x2, u1, u2, other;
    t1.pack("zzz", other);  // shifts t1's indexes: "rt-1" is index 1 in t1, 0 in t2
    t1.pack("rt-1", x1);
    t2.pack("rt-1", x2);
    t1.pack("0b6e2c1a-57f4-4c1e-9d3a-2f0c8e4b7a91", u1);
    t2.pack("0b6e2c1a-57f4-4c1e-9d3a-2f0c8e4b7a91", u2);
    PackedIdMap<int> m;
    m.at(x1, t1) = 5;
    m.at(u1, t1) = 6;
    ASSERT_NE(m.find(x2, t2), nullptr);
    EXPECT_EQ(*m.find(x2, t2), 5);
    ASSERT_NE(m.find(u2, t2), nullptr);
    EXPECT_EQ(*m.find(u2, t2), 6);
    EXPECT_EQ(m.find(other, t1), nullptr);
    EXPECT_FALSE(m.eraseUnless(x2, t2, [](int v) { return v == 5; }));  // kept
    EXPECT_TRUE(m.eraseUnless(x2, t2, [](int v) { return v != 5; }));
    EXPECT_EQ(m.find(x1, t1), nullptr);
    EXPECT_TRUE(m.eraseUnless(u1, t1, [](int) { return false; }));
    EXPECT_EQ(m.size(), 0u);
}

TEST(TagTable, FindsEveryValueByTagAndEqualityAndDropsFromALimit) {
    std::mt19937_64 rng(3);
    TagTable t;
    std::vector<std::uint32_t> keyOf(30000);  // value v has key keyOf[v]; tags collide on purpose
    for (std::uint32_t v = 0; v < keyOf.size(); ++v) {
        keyOf[v] = static_cast<std::uint32_t>(rng());
        t.insert(v, keyOf[v] & 0xFFF);
    }
    for (std::uint32_t v = 0; v < keyOf.size(); v += 7) {
        const std::uint32_t key = keyOf[v];
        const std::uint32_t found = t.find(key & 0xFFF, [&](std::uint32_t c) { return keyOf[c] == key; });
        ASSERT_EQ(keyOf[found], key);
    }
    EXPECT_EQ(t.find(0x7, [](std::uint32_t) { return false; }), TagTable::kNone);  // nothing accepted
    t.dropFrom(1000);  // a failed write: values >= 1000 are gone
    for (std::uint32_t v = 0; v < keyOf.size(); v += 13) {
        const std::uint32_t key = keyOf[v];
        const std::uint32_t found = t.find(key & 0xFFF, [&](std::uint32_t c) { return c == v; });
        if (v < 1000) ASSERT_EQ(found, v);
        else ASSERT_EQ(found, TagTable::kNone);
    }
}
