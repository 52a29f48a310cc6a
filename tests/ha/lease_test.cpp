// The leader lease (native-server/server/lease.h) and the demo backend's fenced journal
// (pg_upgrade_journal.h) against a real, throwaway PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "../common/eventually.h"
#include "lease.h"
#include "pg_lite.h"
#include "pg_server.h"
#include "pg_upgrade_journal.h"

namespace {

using keb::server::LeaseManager;
using keb::server::LeaseOptions;
using keb::server::LeaseView;
using keb::test::PgServer;
using Clock = std::chrono::steady_clock;

// Lease views change within a renewal; poll them finely.
// In sanitizer builds the lease's ttl and every bound below scale together (kTimeScale).
bool eventually(const std::function<bool()>& pred, int ms) {
    return keb::test::eventually(pred, ms * keb::test::kTimeScale, 20);
}
constexpr double kSecond = 1.0 * keb::test::kTimeScale;  // the ttl, in seconds

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

LeaseOptions opts(const std::string& uri, const std::string& id) {
    LeaseOptions o;
    o.uri = uri;
    o.replicaId = id;
    o.advertiseUrl = "http://" + id + ":1";
    o.ttl = 1000 * keb::test::kTimeScale;
    return o;
}

class LeaseTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string why;
        if (!PgServer::available(&why)) GTEST_SKIP() << "PostgreSQL not installed: " << why;
        pg_.start();
        uri_ = pg_.createDatabase("lease");
    }
    PgServer pg_;
    std::string uri_;
};

TEST_F(LeaseTest, OneLeaderHandsOverOnReleaseAndEpochsGrow) {
    LeaseManager a(opts(uri_, "a")), b(opts(uri_, "b"));
    a.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader; }, 3000));
    EXPECT_EQ(a.view().epoch, 1);
    EXPECT_TRUE(a.holds(1));
    b.start();
    ASSERT_TRUE(eventually([&] { return b.view().leaderUrl == "http://a:1"; }, 3000));
    EXPECT_FALSE(b.view().leader);
    // Renewals keep a leading past several ttls.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500 * keb::test::kTimeScale));
    EXPECT_TRUE(a.holds(1));
    EXPECT_FALSE(b.view().leader);
    const auto t0 = Clock::now();
    a.stop(true);
    ASSERT_TRUE(eventually([&] { return b.view().leader; }, 2000));
    EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), kSecond) << "hand-over on release";
    EXPECT_EQ(b.view().epoch, 2);
    EXPECT_EQ(trim(pg_.psql("SELECT string_agg(epoch || ':' || holder, ',' ORDER BY epoch) FROM keb_lease_history", "lease")),
              "1:a,2:b");
}

TEST_F(LeaseTest, TakesOverAnExpiredLeaseAndStepsDownWithoutTheDatabase) {
    // A dead leader's row (expired by the database clock) is taken with epoch + 1.
    {
        keb::server::PgLite db(uri_);
        db.exec(keb::server::kLeaseSchemaSql);
        db.exec("INSERT INTO keb_lease VALUES (1, 'dead', 41, now() - interval '1 second', 'http://dead:1')");
    }
    LeaseManager a(opts(uri_, "a"));
    a.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader; }, 3000));
    EXPECT_EQ(a.view().epoch, 42);
    // The database goes away: a steps down by its own clock within the ttl, and says why.
    const auto t0 = Clock::now();
    pg_.stop();
    ASSERT_TRUE(eventually([&] { return !a.view().leader; }, 2000));
    EXPECT_LE(std::chrono::duration<double>(Clock::now() - t0).count(), kSecond);
    EXPECT_FALSE(a.holds(42));
    ASSERT_TRUE(eventually([&] { return !a.view().problem.empty(); }, 2000));
    // It comes back: a leads again, under a new epoch.
    pg_.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader && a.view().problem.empty(); }, 6000)) << a.view().problem;
    EXPECT_GT(a.view().epoch, 42);
}

TEST_F(LeaseTest, FencedJournalStartsNothing) {
    LeaseManager a(opts(uri_, "a"));
    a.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader; }, 3000));
    std::optional<std::int64_t> myEpoch = a.view().epoch;
    keb::server::PgUpgradeJournal journal(uri_, "a", [&] { return myEpoch; });
    keb::Operation op;
    op.operationID = "op-1";
    op.orchestrationID = "o-1";
    op.runtimeID = "rt-1";
    auto [rec, fresh] = journal.startOnce(op, {1000, 500, false});
    EXPECT_TRUE(fresh);
    auto again = journal.startOnce(op, {2000, 500, false});  // idempotent per operation
    EXPECT_FALSE(again.second);
    EXPECT_EQ(again.first.startedAt, 1000);
    // Acting under an epoch that is no longer the lease's: refused, nothing recorded.
    myEpoch = *myEpoch - 1;
    op.operationID = "op-2";
    EXPECT_THROW(journal.startOnce(op, {3000, 500, false}), keb::server::JournalFencedError);
    EXPECT_FALSE(journal.find("op-2").has_value());
    myEpoch = std::nullopt;
    EXPECT_THROW(journal.startOnce(op, {3000, 500, false}), keb::server::JournalFencedError);
    EXPECT_EQ(trim(pg_.psql("SELECT count(*) FROM keb_demo_upgrades", "lease")), "1");
}

// A record never changes once written, so the journal answers what it wrote or read from memory
// (a poll costs no round trip): shown by deleting the rows behind its back (test only; nothing
// deletes them otherwise). A journal that never saw a record reads the database.
TEST_F(LeaseTest, JournalAnswersRecordsItWroteOrReadFromMemory) {
    LeaseManager a(opts(uri_, "a"));
    a.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader; }, 3000));
    const std::optional<std::int64_t> epoch = a.view().epoch;
    keb::server::PgUpgradeJournal journal(uri_, "a", [&] { return epoch; });
    keb::server::PgUpgradeJournal other(uri_, "b", [] { return std::optional<std::int64_t>(); });
    keb::Operation op;
    op.operationID = "op-1";
    op.orchestrationID = "o-1";
    op.runtimeID = "rt-1";
    ASSERT_TRUE(journal.startOnce(op, {1000, 500, true}).second);
    op.operationID = "op-2";
    ASSERT_TRUE(journal.startOnce(op, {2000, 600, false}).second);
    EXPECT_FALSE(other.find("op-3").has_value());
    ASSERT_TRUE(other.find("op-2").has_value());  // read from the database
    pg_.psql("DELETE FROM keb_demo_upgrades", "lease");
    auto one = journal.find("op-1");
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->startedAt, 1000);
    EXPECT_EQ(one->duration, 500);
    EXPECT_TRUE(one->fails);
    auto two = other.find("op-2");  // remembered from its read
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(two->startedAt, 2000);
    EXPECT_FALSE(other.find("op-1").has_value());  // never seen by `other`: the database has none now
}

// The demo backend calls the journal from every worker: 48 concurrent starts through a journal of
// at most 3 connections all get recorded, and it never holds more than 3 sessions (unbounded, 500
// workers opened 500 and PostgreSQL refused the store's own connections: "too many clients").
// A connection that failed mid-call is closed and its slot reused.
TEST_F(LeaseTest, JournalHoldsAtMostItsConnectionsUnderConcurrentStarts) {
    LeaseManager a(opts(uri_, "a"));
    a.start();
    ASSERT_TRUE(eventually([&] { return a.view().leader; }, 3000));
    const std::optional<std::int64_t> epoch = a.view().epoch;
    keb::server::PgUpgradeJournal journal(uri_, "a", [&] { return epoch; }, 3);
    constexpr int kThreads = 16, kPerThread = 3;
    std::vector<std::thread> threads;
    std::atomic<int> recorded{0}, errors{0};
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                keb::Operation op;
                op.operationID = "op-" + std::to_string(t) + "-" + std::to_string(i);
                op.orchestrationID = "o-1";
                op.runtimeID = "rt-" + std::to_string(t);
                try {
                    if (journal.startOnce(op, {1000, 500, false}).second) ++recorded;
                } catch (const std::exception&) {
                    ++errors;
                }
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(recorded.load(), kThreads * kPerThread);
    EXPECT_EQ(trim(pg_.psql("SELECT count(*) FROM keb_demo_upgrades", "lease")), std::to_string(kThreads * kPerThread));
    EXPECT_LE(journal.peakConnections(), 3);
    EXPECT_GE(journal.peakConnections(), 2) << "16 threads never overlapped: the bound was not exercised";
    EXPECT_LE(journal.openConnections(), 3);
    // A call that throws closes its connection and frees its slot: with one connection, a start
    // refused by the fence (it took the connection, then threw) leaves room for the next start.
    std::optional<std::int64_t> actAs = *epoch - 1;
    keb::server::PgUpgradeJournal one(uri_, "a", [&] { return actAs; }, 1);
    keb::Operation op;
    op.operationID = "op-x";
    op.orchestrationID = "o-1";
    op.runtimeID = "rt-x";
    EXPECT_THROW(one.startOnce(op, {1, 1, false}), keb::server::JournalFencedError);
    EXPECT_EQ(one.openConnections(), 0);
    actAs = epoch;
    auto next = std::async(std::launch::async, [&] { return one.startOnce(op, {1, 1, false}).second; });
    ASSERT_EQ(next.wait_for(std::chrono::seconds(20)), std::future_status::ready)
        << "the failed call's connection slot was never freed";
    EXPECT_TRUE(next.get());
    EXPECT_EQ(one.openConnections(), 1);
}

}  // namespace
