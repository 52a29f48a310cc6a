// The GET fast path renders wire JSON without nlohmann (wire.h appendJsonString /
// appendOperationItem, SqliteStore::appendOperationPage). These tests check it produces the
// same bytes as the JSON DOM path (dumpWire(pageJson(...))) for every field, with hostile
// strings (quotes, backslashes, control bytes, non-ASCII, invalid UTF-8), after updates, for
// every page, page size and state filter, and through the router (status and body).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "keb/api.h"
#include "keb/engine.h"
#include "keb/wire.h"
#include "generation_store.h"
#include "sqlite_query_text.h"
#include "sqlite_store.h"

using namespace keb;
using keb::server::SqliteStore;

namespace {

std::string randomString(std::mt19937_64& rng, std::size_t maxLen, bool validUtf8 = false) {
    static const std::vector<std::string> pieces = {
        "a", "Z", "0", "-", " ", "/", "\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f",
        "\xc3\xa9",          // é (valid 2-byte UTF-8)
        "\xe2\x82\xac",      // € (3 bytes)
        "\xf0\x9f\x98\x80",  // emoji (4 bytes)
        "\xff",              // invalid byte
        "\xc3",              // truncated sequence
        "\xe2\x82",          // truncated 3-byte sequence
        "\x80",              // lone continuation byte
        "op-", "succeeded", "{}", "[]", "\\u0041"};
    std::uniform_int_distribution<std::size_t> len(0, maxLen), pick(0, pieces.size() - 1);
    std::uniform_int_distribution<int> plain(0, 3);
    std::string s;
    const std::size_t n = len(rng);
    for (std::size_t i = 0; i < n; ++i) {
        if (plain(rng) != 0) s += static_cast<char>('a' + static_cast<int>(rng() % 26));
        else s += pieces[pick(rng)];
    }
    if (validUtf8) {  // the store form of an orchestration (nlohmann, strict) needs valid UTF-8
        std::string clean;
        for (unsigned char c : s) clean += c >= 0x80 ? std::string("\xc3\xa9") : std::string(1, static_cast<char>(c));
        return clean;
    }
    return s;
}

// Mostly ordinary values (the fast path), sometimes hostile ones (the fallback).
std::string field(std::mt19937_64& rng, const std::string& ordinary, bool validUtf8 = false) {
    return rng() % 4 == 0 ? randomString(rng, 12, validUtf8) : ordinary;
}

Operation randomOperation(std::mt19937_64& rng, const std::string& orchestrationID, std::int64_t seq) {
    Operation op;
    op.orchestrationID = orchestrationID;
    op.operationID = "op-" + std::to_string(seq) + (rng() % 5 == 0 ? randomString(rng, 6) : "");
    op.runtimeID = field(rng, "runtime-" + std::to_string(seq));
    op.instanceID = field(rng, "inst");
    op.globalAccountID = field(rng, "ga-1");
    op.subAccountID = field(rng, "sa-1");
    op.servicePlanID = field(rng, "4deee563-e5ec-4731-b9b1-53b42d855f0c");
    op.servicePlanName = field(rng, "azure");
    op.region = field(rng, "westeurope");
    op.shootName = field(rng, "c-" + std::to_string(seq));
    op.dryRun = rng() % 2 == 0;
    if (rng() % 3 == 0) {
        op.maintenanceWindowBegin = 1'700'000'000'000 + static_cast<Millis>(rng() % 100'000'000);
        op.maintenanceWindowEnd = op.maintenanceWindowBegin + static_cast<Millis>(rng() % 3'600'000);
    }
    op.state = static_cast<OperationState>(rng() % 5);
    op.description = field(rng, "upgrade in progress");
    op.createdAt = 1'700'000'000'000 + static_cast<Millis>(rng() % 50);  // many ties: seq decides
    op.updatedAt = op.createdAt;
    op.seq = seq;
    op.retryOf = rng() % 10 == 0 ? "op-0" : "";
    if (rng() % 3 == 0) op.stage = rng() % 2 ? "canary" : field(rng, "rest");  // SPEC 10
    if (rng() % 2) op.kymaConfig = KymaParams{"2.20.0"};
    else op.clusterConfig = KubernetesParams{"1.30.1", "gardenlinux", "1443.3.0"};
    return op;
}

Orchestration orchestration(const std::string& id) {
    Orchestration o;
    o.orchestrationID = id;
    o.state = OrchestrationState::InProgress;
    o.description = "test";
    o.createdAt = 1'700'000'000'000;
    o.updatedAt = o.createdAt;
    Target all;
    all.all = true;
    o.parameters.targets.include.push_back(all);
    o.parameters.kyma = KymaParams{"2.20.0"};
    return o;
}

class NoFleetForMigration : public FleetSource {
public:
    FleetSnapshot snapshot(Millis) override { return {true, "", &none_, nullptr}; }
    std::optional<Runtime> find(const std::string&, Millis) override { return std::nullopt; }

private:
    std::vector<Runtime> none_;
};

class TempDb {
public:
    TempDb() {
        path_ = (std::filesystem::temp_directory_path() /
                 ("keb-fastpath-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + ".db"))
                    .string();
    }
    ~TempDb() {
        for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path_ + suffix).c_str());
    }
    const std::string& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::string path_;
};

std::string domPage(Store& store, const std::string& id, const OperationQuery& q) {
    return dumpWire(pageJson(store.listOperations(id, q)));
}

// Every page of orchestration "o" (each filter, each page size, up to the first empty page) from
// each of `stores`, asked in that order, must equal the DOM path's (`dom`'s JSON path, OFFSET).
void expectPagesLikeTheDomPath(Store& dom, std::initializer_list<SqliteStore*> stores,
                               const std::vector<std::vector<OperationState>>& filters, std::initializer_list<int> sizes,
                               const std::string& when) {
    for (const auto& states : filters)
        for (int size : sizes) {
            OperationQuery q;
            q.states = states;
            q.pageSize = size;
            for (q.page = 1;; ++q.page) {
                const std::string expected = domPage(dom, "o", q);
                int i = 0;
                for (SqliteStore* s : stores) {
                    std::string text;
                    ASSERT_TRUE(s->appendOperationPage("o", q, text)) << when << ", connection " << i;
                    ASSERT_EQ(text, expected) << when << ", connection " << i << ", filter of " << states.size()
                                              << ", page " << q.page << " size " << size;
                    ++i;
                }
                if (Json::parse(expected)["count"].get<int>() == 0) break;
            }
        }
}

// The connections the deep-page tests compare, beside a writer: two read-only readers sharing
// their anchors (as the reader pool's connections do) and a reader without anchors.
struct AnchoredReaders {
    AnchoredReaders(const std::string& path, keb::server::SqliteOptions writer)
        : reader(path, readOnly(writer, shared)), reader2(path, readOnly(writer, shared)),
          plain(path, readOnly(writer, nullptr, 0)) {}
    static keb::server::SqliteOptions readOnly(keb::server::SqliteOptions o,
                                               std::shared_ptr<keb::server::PageAnchors> anchors, int stride = -1) {
        o.readOnly = true;
        o.pageAnchors = std::move(anchors);
        if (stride >= 0) o.pageAnchorStride = stride;
        return o;
    }
    std::shared_ptr<keb::server::PageAnchors> shared = std::make_shared<keb::server::PageAnchors>();
    SqliteStore reader, reader2, plain;
};

}  // namespace

TEST(WireText, JsonStringIsByteIdenticalToNlohmann) {
    std::mt19937_64 rng(42);
    for (int i = 0; i < 20000; ++i) {
        const std::string s = randomString(rng, 10);
        std::string out = "x";  // appends, never replaces
        appendJsonString(out, s);
        ASSERT_EQ(out, "x" + dumpWire(Json(s))) << "input bytes: " << Json(s).dump(-1, ' ', true, Json::error_handler_t::replace);
    }
    std::string out;
    appendJsonString(out, "");
    EXPECT_EQ(out, "\"\"");
    out.clear();
    appendJsonString(out, std::string_view("a\0b", 3));  // embedded NUL
    EXPECT_EQ(out, "\"a\\u0000b\"");
}

TEST(WireText, OperationPageIsByteIdenticalToPageJson) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 300; ++round) {
        Page<Operation> page;
        const int n = static_cast<int>(rng() % 6);
        for (int i = 0; i < n; ++i) page.data.push_back(randomOperation(rng, "orch-" + randomString(rng, 4), i));
        page.count = n;
        page.totalCount = n + static_cast<std::int64_t>(rng() % 1000);
        ASSERT_EQ(operationPageText(page), dumpWire(pageJson(page)));
        for (const auto& op : page.data) {
            std::string item;
            appendOperationItem(item, itemView(op));
            ASSERT_EQ(item, dumpWire(toJson(op)));
        }
    }
}

TEST(SqlitePages, RowRenderedPagesEqualTheJsonPathForEveryPageAndFilterAfterUpdates) {
    TempDb db;
    SqliteStore store(db.path());
    std::mt19937_64 rng(99);
    const std::string id = "orch-1", other = "orch-2";
    store.insertOrchestration(orchestration(id));
    store.insertOrchestration(orchestration(other));
    std::vector<Operation> ops;
    for (int i = 0; i < 230; ++i) ops.push_back(randomOperation(rng, id, i));
    store.insertOperations(ops);
    store.insertOperations({randomOperation(rng, other, 0)});

    const std::vector<std::vector<OperationState>> filters = {
        {},
        {OperationState::Succeeded},
        {OperationState::Failed, OperationState::InProgress},
        {OperationState::Pending, OperationState::Pending},  // duplicates
        {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded, OperationState::Failed,
         OperationState::Canceled}};
    auto checkAll = [&](const char* when) {
        for (const auto& states : filters) {
            for (int size : {1, 7, 100}) {
                OperationQuery q;
                q.states = states;
                q.pageSize = size;
                for (q.page = 1;; ++q.page) {
                    std::string fast = "prefix:";
                    ASSERT_TRUE(store.appendOperationPage(id, q, fast));
                    const std::string expected = domPage(store, id, q);
                    ASSERT_EQ(fast, "prefix:" + expected) << when << ", page " << q.page << " size " << size;
                    if (Json::parse(expected)["count"].get<int>() == 0) break;
                }
            }
        }
    };
    checkAll("after insert");

    // Updates change state, description and times: the rendered rows must follow.
    for (int round = 0; round < 3; ++round) {
        std::vector<Operation> changed;
        for (auto& op : ops) {
            if (rng() % 3) continue;
            op.state = static_cast<OperationState>(rng() % 5);
            op.description = randomString(rng, 20);
            op.updatedAt += 1000;
            op.maintenanceWindowBegin = rng() % 2 ? 0 : 1'700'000'123'456;
            op.dryRun = !op.dryRun;
            changed.push_back(op);
        }
        store.updateOperations(changed);
        checkAll("after updates");
    }

    // Unknown orchestration: false, out untouched. Existing orchestration without operations: a page.
    std::string out = "keep";
    EXPECT_FALSE(store.appendOperationPage("nope", OperationQuery{}, out));
    EXPECT_EQ(out, "keep");
    store.insertOrchestration(orchestration("empty"));
    out.clear();
    ASSERT_TRUE(store.appendOperationPage("empty", OperationQuery{}, out));
    EXPECT_EQ(out, "{\"count\":0,\"data\":[],\"totalCount\":0}");

    // A read-only connection (what the server's HTTP threads use) renders the same.
    keb::server::SqliteOptions ro;
    ro.readOnly = true;
    SqliteStore reader(db.path(), ro);
    OperationQuery q;
    q.page = 2;
    q.pageSize = 50;
    std::string a, b;
    ASSERT_TRUE(reader.appendOperationPage(id, q, a));
    ASSERT_TRUE(store.appendOperationPage(id, q, b));
    EXPECT_EQ(a, b);
}

// Deep pages seek from a remembered key every pageAnchorStride rows instead of OFFSET. Inserts land
// in the middle of the order (createdAt ties, earlier times) and move every later position: pages
// must still equal the OFFSET path's, on the writing connection and on a reader that took its
// anchors before the insert; state updates move no position.
TEST(SqlitePages, DeepPagesFromAnchorsEqualOffsetPagesAcrossInserts) {
    TempDb db;
    keb::server::SqliteOptions anchored;
    anchored.pageAnchorStride = 7;
    SqliteStore store(db.path(), anchored);
    std::mt19937_64 rng(1234);
    store.insertOrchestration(orchestration("o"));
    store.insertOrchestration(orchestration("p"));
    std::vector<Operation> ops;
    for (int i = 0; i < 150; ++i) ops.push_back(randomOperation(rng, "o", i));
    store.insertOperations(ops);
    store.insertOperations({randomOperation(rng, "p", 0), randomOperation(rng, "p", 1)});
    AnchoredReaders readers(db.path(), anchored);
    SqliteStore &reader = readers.reader, &reader2 = readers.reader2, &plain = readers.plain;
    auto checkAll = [&](const char* when) {
        expectPagesLikeTheDomPath(store, {&store, &reader, &reader2, &plain}, {{}}, {1, 3, 7, 10, 50}, when);
    };
    checkAll("after insert");
    const auto afterFirst = reader.anchoredPages();
    EXPECT_GT(afterFirst, 100u);  // every page past the 7th row came from an anchor
    EXPECT_GT(reader2.anchoredPages(), 100u);  // from the anchors the first reader took
    EXPECT_EQ(plain.anchoredPages(), 0u);

    std::vector<Operation> more;
    for (int i = 150; i < 190; ++i) {
        more.push_back(randomOperation(rng, "o", i));
        more.back().createdAt -= 10;  // sorts before many existing operations
    }
    store.insertOperations(more);
    checkAll("after a second insert");
    EXPECT_GT(reader.anchoredPages(), afterFirst);

    for (auto& op : ops) op.state = static_cast<OperationState>(rng() % 5);
    store.updateOperations(ops);
    checkAll("after state updates");
}

// Filtered deep pages (state=...) seek from anchors of their own, valid while the filter's count
// AND its states' entries (operation_counts.entered) are unchanged. Swaps keep every filtered
// count equal (one operation leaves a state while another enters it, in one transaction) but move
// positions: pages must still equal the OFFSET path's, for filters of one and two states, on the
// writer and on readers sharing anchors taken before the swap; also after inserts.
TEST(SqlitePages, DeepFilteredPagesFromAnchorsEqualOffsetPagesAcrossSwapsAndInserts) {
    TempDb db;
    keb::server::SqliteOptions anchored;
    anchored.pageAnchorStride = 7;
    SqliteStore store(db.path(), anchored);
    std::mt19937_64 rng(4321);
    store.insertOrchestration(orchestration("o"));
    store.insertOrchestration(orchestration("p"));
    std::vector<Operation> ops;
    for (int i = 0; i < 260; ++i) ops.push_back(randomOperation(rng, "o", i));
    store.insertOperations(ops);
    store.insertOperations({randomOperation(rng, "p", 0), randomOperation(rng, "p", 1)});
    AnchoredReaders readers(db.path(), anchored);
    SqliteStore &reader = readers.reader, &reader2 = readers.reader2, &plain = readers.plain;
    using S = OperationState;
    const std::vector<std::vector<OperationState>> filters = {
        {S::Succeeded}, {S::Failed, S::InProgress}, {S::Pending, S::Canceled, S::Pending},
        {S::Canceled, S::Failed, S::Pending}};
    auto checkAll = [&](const std::string& when) {
        expectPagesLikeTheDomPath(store, {&reader, &store, &reader2, &plain}, filters, {1, 3, 7, 10, 50}, when);
    };
    // The first operation (in list order) in state `in` and the last in `out` trade states (or the
    // last and the first), in one transaction: every filtered count stays, and every position
    // between the two moves by one.
    auto swap = [&](S in, S out, bool earlyLeaves) {
        std::vector<std::size_t> idx(ops.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](std::size_t x, std::size_t y) {
            return std::tie(ops[x].createdAt, ops[x].seq, ops[x].operationID) <
                   std::tie(ops[y].createdAt, ops[y].seq, ops[y].operationID);
        });
        if (!earlyLeaves) std::reverse(idx.begin(), idx.end());
        Operation* leaves = nullptr;
        Operation* enters = nullptr;
        for (std::size_t i : idx)
            if (!leaves && ops[i].state == in) leaves = &ops[i];
        std::reverse(idx.begin(), idx.end());
        for (std::size_t i : idx)
            if (!enters && ops[i].state == out) enters = &ops[i];
        ASSERT_TRUE(leaves && enters);
        leaves->state = out;
        enters->state = in;
        store.updateOperations({*leaves, *enters});
    };
    checkAll("after insert");
    const auto afterFirst = reader.anchoredPages() + reader2.anchoredPages();
    EXPECT_GT(afterFirst, 150u);  // filtered pages past the 7th row came from anchors
    EXPECT_GT(store.anchoredPages(), 70u);
    EXPECT_EQ(plain.anchoredPages(), 0u);

    // Each swap alone, then every page: two swaps before a check could undo each other's moves
    // before the anchors (an early leave and an early entry), leaving stale anchors harmless.
    for (int round = 0; round < 2; ++round) {
        const bool early = round == 0;
        const std::string r = std::to_string(round);
        swap(S::Succeeded, S::Pending, early);  // {succeeded} and {pending, canceled}: counts stay
        checkAll("after a succeeded/pending swap, round " + r);
        swap(S::InProgress, S::Canceled, early);  // {failed, in progress} and {pending, canceled}
        checkAll("after an in progress/canceled swap, round " + r);
        swap(S::Failed, S::Succeeded, early);  // {failed, in progress} and {succeeded}
        checkAll("after a failed/succeeded swap, round " + r);
    }
    EXPECT_GT(reader.anchoredPages() + reader2.anchoredPages(), afterFirst);

    std::vector<Operation> more;
    for (int i = 260; i < 300; ++i) {
        more.push_back(randomOperation(rng, "o", i));
        more.back().createdAt -= 10;  // sorts before many existing operations
    }
    store.insertOperations(more);
    checkAll("after a second insert");
    for (auto& op : ops) op.state = static_cast<OperationState>(rng() % 5);
    store.updateOperations(ops);
    checkAll("after state updates");
}

// The page's "count" is written before the rows are read (taken from the per-state counters);
// if counters and rows ever disagree, the count must still be the number of items sent.
TEST(SqlitePages, CountFollowsTheRowsWhenCountersDisagree) {
    TempDb db;
    SqliteStore store(db.path());
    std::mt19937_64 rng(11);
    store.insertOrchestration(orchestration("o"));
    std::vector<Operation> ops;
    for (int i = 0; i < 30; ++i) ops.push_back(randomOperation(rng, "o", i));
    store.insertOperations(ops);
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(raw, "UPDATE operation_counts SET n = n + 40", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(raw);
    for (int page = 1; page <= 4; ++page) {
        OperationQuery q;
        q.page = page;
        q.pageSize = 25;
        std::string fast;
        ASSERT_TRUE(store.appendOperationPage("o", q, fast));
        const Json j = Json::parse(fast);
        EXPECT_EQ(j["count"].get<std::size_t>(), j["data"].size()) << "page " << page;
        EXPECT_EQ(fast, domPage(store, "o", q)) << "page " << page;
    }
}

namespace {
Orchestration randomOrchestration(std::mt19937_64& rng, const std::string& id) {
    Orchestration o = orchestration(id);
    o.type = rng() % 2 ? OrchestrationType::UpgradeKyma : OrchestrationType::UpgradeCluster;
    o.state = static_cast<OrchestrationState>(rng() % 7);
    o.description = field(rng, "scheduled 3 operations", true);
    o.createdAt = 1'700'000'000'000 + static_cast<Millis>(rng() % 1'000'000);
    o.updatedAt = o.createdAt + static_cast<Millis>(rng() % 1000);
    Target t;
    t.globalAccount = field(rng, "ga-.*", true);
    if (rng() % 2) t.region = field(rng, "europe", true);
    o.parameters.targets.include.push_back(t);
    if (rng() % 2) o.parameters.targets.exclude.push_back(t);
    o.parameters.strategy.workers = 1 + static_cast<int>(rng() % 9);
    o.parameters.dryRun = rng() % 2;
    if (o.type == OrchestrationType::UpgradeCluster) {
        o.parameters.kyma.reset();
        o.parameters.kubernetes = KubernetesParams{field(rng, "1.30.1", true), "gardenlinux", "1443.3.0"};
    }
    return o;
}

std::string domOrchestration(Store& store, const std::string& id) {
    auto o = store.getOrchestration(id);
    OperationStats stats = store.operationStats(id);
    return dumpWire(toJson(*o, &stats));
}
}  // namespace

TEST(WireText, OrchestrationTextPlusStatsIsByteIdenticalToToJson) {
    std::mt19937_64 rng(21);
    for (int i = 0; i < 500; ++i) {
        Orchestration o = randomOrchestration(rng, "orch-" + randomString(rng, 5));
        OperationStats stats;
        for (int k = 0; k < 5; ++k)
            if (rng() % 3) stats[static_cast<OperationState>(k)] = static_cast<std::int64_t>(rng() % 100000);
        std::size_t split = 0;
        const std::string text = orchestrationWireText(o, &split);
        ASSERT_EQ(text, dumpWire(toJson(o)));
        std::string statsText;
        appendOperationStats(statsText, stats);
        ASSERT_EQ(statsText, dumpWire(toJson(stats)));
        ASSERT_EQ(text.substr(0, split) + ",\"operationStats\":" + statsText + text.substr(split),
                  dumpWire(toJson(o, &stats)));
    }
}

TEST(SqlitePages, PreRenderedOrchestrationEqualsTheJsonPathAfterUpdates) {
    TempDb db;
    SqliteStore store(db.path());
    std::mt19937_64 rng(8);
    std::vector<Orchestration> all;
    for (int i = 0; i < 40; ++i) {
        all.push_back(randomOrchestration(rng, "o-" + std::to_string(i)));
        store.insertOrchestration(all.back());
        std::vector<Operation> ops;
        for (int k = 0; k < static_cast<int>(rng() % 8); ++k) ops.push_back(randomOperation(rng, all.back().orchestrationID, k));
        store.insertOperations(ops);
    }
    auto checkAll = [&] {
        for (const auto& o : all) {
            std::string fast = "p";
            ASSERT_EQ(store.appendOrchestration(o.orchestrationID, fast), OperationPageSource::Render::Found);
            ASSERT_EQ(fast, "p" + domOrchestration(store, o.orchestrationID)) << o.orchestrationID;
        }
    };
    checkAll();
    for (auto& o : all) {  // state, description and times change; operation states change the stats
        o.state = static_cast<OrchestrationState>(rng() % 7);
        o.description = randomString(rng, 15, true);
        o.updatedAt += 5000;
        auto ops = store.operationsOf(o.orchestrationID);
        for (auto& op : ops) op.state = static_cast<OperationState>(rng() % 5);
        store.updateOrchestrationWithOperations(o, {}, ops);
    }
    checkAll();
    std::string out = "keep";
    EXPECT_EQ(store.appendOrchestration("missing", out), OperationPageSource::Render::NotFound);
    EXPECT_EQ(out, "keep");
}

// A store written by schema version 1 (no wire columns) is migrated on open; its old rows are
// served through the JSON path (orchestrations) or rendered from the columns (operations) until
// they are next written.
namespace {
// The state-change trigger of schema versions 1 to 6 (before operation_counts.entered).
const char* const kVersion6Trigger = R"SQL(
CREATE TRIGGER operations_upd AFTER UPDATE OF state ON operations WHEN OLD.state <> NEW.state BEGIN
  UPDATE operation_counts SET n = n - 1 WHERE orchestration_id = OLD.orchestration_id AND state = OLD.state;
  INSERT INTO operation_counts(orchestration_id, state, n) VALUES (NEW.orchestration_id, NEW.state, 1)
    ON CONFLICT(orchestration_id, state) DO UPDATE SET n = n + 1;
END;
)SQL";
}  // namespace

// A store of schema version 6 (operation_counts without `entered`) migrates (7: entered = n) and
// serves the same filtered pages, deep ones from anchors, before and after state changes that keep
// the filtered counts (the trigger now counts entries).
TEST(SqlitePages, MigratesAVersion6StoreAndServesFilteredDeepPages) {
    TempDb db;
    std::mt19937_64 rng(66);
    std::vector<Operation> ops;
    {
        SqliteStore store(db.path());
        store.insertOrchestration(orchestration("o"));
        for (int i = 0; i < 120; ++i) ops.push_back(randomOperation(rng, "o", i));
        store.insertOperations(ops);
        for (int i = 0; i < 120; i += 4) ops[i].state = static_cast<OperationState>(rng() % 5);
        store.updateOperations(ops);
    }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
    for (const char* sql : {"DROP TRIGGER operations_upd", "ALTER TABLE operation_counts DROP COLUMN entered",
                            kVersion6Trigger, "DELETE FROM schema_migrations WHERE version >= 7"})
        ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(raw);
    sqlite3_close(raw);
    ASSERT_EQ(queryText(db.path(), "SELECT count(*) FROM pragma_table_info('operation_counts') WHERE name='entered'"), "0");

    keb::server::SqliteOptions anchored;
    anchored.pageAnchorStride = 7;
    SqliteStore store(db.path(), anchored);
    EXPECT_EQ(store.schemaVersion(), 7);
    EXPECT_EQ(queryText(db.path(), "SELECT count(*) FROM operation_counts WHERE entered <> n"), "0");
    keb::server::SqliteOptions ro = anchored;
    ro.readOnly = true;
    SqliteStore reader(db.path(), ro);
    auto checkAll = [&](const std::string& when) {
        expectPagesLikeTheDomPath(store, {&reader, &store},
                                  {{OperationState::Succeeded}, {OperationState::Pending, OperationState::Failed}},
                                  {1, 5, 20}, when);
    };
    checkAll("after the migration");
    EXPECT_GT(reader.anchoredPages(), 20u);
    // The first succeeded operation (list order) and the last pending one trade states (one
    // transaction): the succeeded count stays, every position between them moves by one.
    std::vector<Operation> listed = store.operationsOf("o");
    Operation* first = nullptr;
    Operation* last = nullptr;
    for (auto& op : listed) {
        if (!first && op.state == OperationState::Succeeded) first = &op;
        if (op.state == OperationState::Pending) last = &op;
    }
    ASSERT_TRUE(first && last);
    ASSERT_LT(first - listed.data(), last - listed.data() - 20);
    first->state = OperationState::Pending;
    last->state = OperationState::Succeeded;
    store.updateOperations({*first, *last});
    EXPECT_EQ(queryText(db.path(), "SELECT entered - n FROM operation_counts WHERE state = 2"), "1");
    checkAll("after a swap");
}

TEST(SqlitePages, MigratesAVersion1StoreAndServesOldRowsWithoutRenderedJson) {
    TempDb db;
    std::mt19937_64 rng(4);
    Orchestration o = randomOrchestration(rng, "old");
    {
        SqliteStore store(db.path());
        store.insertOrchestration(o);
        store.insertOperations({randomOperation(rng, "old", 0), randomOperation(rng, "old", 1)});
    }
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db.path().c_str(), &raw), SQLITE_OK);
    for (const char* sql : {"DROP TRIGGER operations_upd", "ALTER TABLE operation_counts DROP COLUMN entered",
                            kVersion6Trigger, "ALTER TABLE orchestrations DROP COLUMN wire",
                            "ALTER TABLE orchestrations DROP COLUMN wire_split",
                            "ALTER TABLE operations DROP COLUMN wire",
                            "ALTER TABLE operations DROP COLUMN stage",
                            "DROP TABLE notification_outbox",
                            "DELETE FROM schema_migrations WHERE version >= 2"})
        ASSERT_EQ(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(raw);
    sqlite3_close(raw);

    SqliteStore store(db.path());
    EXPECT_GE(store.schemaVersion(), 3);
    // Old operation rows (no rendered item): pages come from the columns, also mixed with new rows.
    OperationQuery all;
    std::string page;
    ASSERT_TRUE(store.appendOperationPage("old", all, page));
    EXPECT_EQ(page, domPage(store, "old", all));
    EXPECT_EQ(Json::parse(page)["count"], 2);
    store.insertOperations({randomOperation(rng, "old", 2)});
    page.clear();
    ASSERT_TRUE(store.appendOperationPage("old", all, page));
    EXPECT_EQ(page, domPage(store, "old", all));
    EXPECT_EQ(Json::parse(page)["count"], 3);
    auto ops = store.operationsOf("old");
    store.updateOperations(ops);  // every row rendered again
    page.clear();
    ASSERT_TRUE(store.appendOperationPage("old", all, page));
    EXPECT_EQ(page, domPage(store, "old", all));
    std::string out;
    EXPECT_EQ(store.appendOrchestration("old", out), OperationPageSource::Render::Unavailable);
    EXPECT_EQ(out, "");
    NoFleetForMigration fleet;
    SeededIdGenerator ids(1);
    Engine engine(store, fleet, ids);
    ApiRouter plain(engine, store), fast(engine, store);
    fast.setOperationPageSource(&store);
    ApiRequest r;
    r.method = "GET";
    r.path = "/orchestrations/old";
    r.principal = Principal::all();
    ApiResponse a = plain.handle(r, 0), b = fast.handle(r, 0);
    EXPECT_EQ(b.status, 200);
    EXPECT_TRUE(b.text.empty());  // fell back to the JSON path
    EXPECT_EQ(dumpWire(a.body), dumpWire(b.body));

    o.description = "written again";
    store.updateOrchestration(o);
    out.clear();
    EXPECT_EQ(store.appendOrchestration("old", out), OperationPageSource::Render::Found);
    EXPECT_EQ(out, domOrchestration(store, "old"));
}

TEST(SqlitePages, ForEachOperationStreamsTheSameOperationsAsOperationsOf) {
    TempDb db;
    SqliteStore store(db.path());
    std::mt19937_64 rng(5);
    store.insertOrchestration(orchestration("o"));
    std::vector<Operation> ops;
    for (int i = 0; i < 120; ++i) ops.push_back(randomOperation(rng, "o", i));
    store.insertOperations(ops);
    std::vector<Operation> seen;
    store.forEachOperation("o", [&](const Operation& op) { seen.push_back(op); });
    EXPECT_EQ(seen, store.operationsOf("o"));
    EXPECT_EQ(seen.size(), 120u);
    // An exception from the visitor propagates and leaves the store usable.
    int calls = 0;
    EXPECT_THROW(store.forEachOperation("o",
                                        [&](const Operation&) {
                                            if (++calls == 3) throw std::runtime_error("stop");
                                        }),
                 std::runtime_error);
    EXPECT_EQ(store.operationsOf("o").size(), 120u);
    store.updateOperations({seen[0]});  // the write lock is free again
}

// SPEC 10: a staged orchestration's answer adds `stages` (counted from its operations), which the
// pre-rendered text does not have: the page source leaves it to the JSON path, before and after
// its progress changes, while its operation pages (with `stage`) still come from the rows.
TEST(SqlitePages, StagedOrchestrationTakesTheJsonPathAndPagesCarryTheStage) {
    TempDb db;
    SqliteStore store(db.path());
    Orchestration o = orchestration("staged");
    Stage canary, rest;
    canary.name = "canary";
    Target first;
    first.runtimeID = "runtime-0";
    canary.targets = Targets{{first}, {}};
    canary.maxFailures = FailureBudget{false, 0};
    rest.name = "rest";
    o.parameters.strategy.stages = {canary, rest};
    StageProgress p0, p1;
    p0.state = StageState::InProgress;
    p0.operations = 1;
    p0.startedAt = o.createdAt;
    p1.firstSeq = 1;
    p1.operations = 3;
    o.rollout.stages = {p0, p1};
    o.rollout.operations = 4;
    store.insertOrchestration(o);
    store.insertOrchestration(orchestration("plain"));
    std::mt19937_64 rng(8);
    std::vector<Operation> ops;
    for (int i = 0; i < 4; ++i) {
        Operation op = randomOperation(rng, "staged", i);
        op.stage = i == 0 ? "canary" : "rest";
        ops.push_back(op);
    }
    store.insertOperations(ops);

    NoFleetForMigration fleet;
    SeededIdGenerator ids(1);
    Engine engine(store, fleet, ids);
    ApiRouter plain(engine, store), fast(engine, store);
    fast.setOperationPageSource(&store);
    auto both = [&](const std::string& path) {
        ApiRequest r;
        r.method = "GET";
        r.path = path;
        r.principal = Principal::all();
        ApiResponse a = plain.handle(r, 0), b = fast.handle(r, 0);
        EXPECT_EQ(a.status, 200) << path;
        EXPECT_EQ(dumpWire(a.body), b.text.empty() ? dumpWire(b.body) : b.text) << path;
        return b;
    };
    for (int round = 0; round < 2; ++round) {
        std::string out = "keep";
        EXPECT_EQ(store.appendOrchestration("staged", out), OperationPageSource::Render::Unavailable);
        EXPECT_EQ(out, "keep");
        ApiResponse b = both("/orchestrations/staged");
        EXPECT_TRUE(b.text.empty()) << "a staged orchestration took the pre-rendered path";
        ASSERT_TRUE(b.body.contains("stages"));
        EXPECT_EQ(b.body["stages"][0]["state"], round == 0 ? "in progress" : "soaking");
        ApiResponse page = both("/orchestrations/staged/operations");
        EXPECT_FALSE(page.text.empty());
        EXPECT_NE(page.text.find("\"stage\":\"canary\""), std::string::npos) << page.text;
        EXPECT_FALSE(both("/orchestrations/plain").text.empty()) << "an unstaged one still takes the fast path";
        // Progress: the canary soaks; the answer must show it.
        o.rollout.stages[0].state = StageState::Soaking;
        o.rollout.stages[0].finishedAt = o.createdAt + 100;
        o.rollout.stages[0].soakUntil = o.createdAt + 3'600'100;
        o.state = OrchestrationState::Paused;
        store.updateOrchestration(o);
    }
}

namespace {
class NoFleet : public FleetSource {
public:
    FleetSnapshot snapshot(Millis) override { return {true, "", &none_, nullptr}; }
    std::optional<Runtime> find(const std::string&, Millis) override { return std::nullopt; }

private:
    std::vector<Runtime> none_;
};
}  // namespace

TEST(SqlitePages, RouterAnswersTheSameWithAndWithoutThePageSource) {
    TempDb db;
    SqliteStore store(db.path());
    std::mt19937_64 rng(3);
    store.insertOrchestration(orchestration("o1"));
    std::vector<Operation> ops;
    for (int i = 0; i < 150; ++i) ops.push_back(randomOperation(rng, "o1", i));
    store.insertOperations(ops);

    NoFleet fleet;
    SeededIdGenerator ids(1);
    Engine engine(store, fleet, ids);
    ApiRouter plain(engine, store), fast(engine, store);
    fast.setOperationPageSource(&store);

    const std::vector<std::string> targets = {
        "/orchestrations/o1/operations",
        "/orchestrations/o1/operations?page_size=100",
        "/orchestrations/o1/operations?page=2&page_size=100",
        "/orchestrations/o1/operations?page=9&page_size=100",
        "/orchestrations/o1/operations?page_size=7&page=3&state=failed&state=in%20progress",
        "/orchestrations/o1/operations?state=succeeded",
        "/orchestrations/o1/operations?state=bogus",
        "/orchestrations/o1/operations?page=0",
        "/orchestrations/o1/operations?page_size=101",
        "/orchestrations/o1/operations?page=1&page=2",
        "/orchestrations/missing/operations",
        "/orchestrations/o1",
        "/orchestrations/o1/operations/op-3",
    };
    int fastAnswers = 0;
    for (const auto& target : targets) {
        for (bool withScope : {true, false}) {
            ApiRequest r;
            r.method = "GET";
            const auto q = target.find('?');
            r.path = target.substr(0, q);
            if (q != std::string::npos) r.query = parseQueryString(std::string_view(target).substr(q + 1));
            r.principal = withScope ? Principal::all() : Principal{true, "w", {kScopeWrite}};
            ApiResponse a = plain.handle(r, 1'700'000'000'000);
            ApiResponse b = fast.handle(r, 1'700'000'000'000);
            EXPECT_TRUE(a.text.empty());
            EXPECT_EQ(a.status, b.status) << target;
            const std::string bodyB = b.text.empty() ? dumpWire(b.body) : b.text;
            EXPECT_EQ(dumpWire(a.body), bodyB) << target;
            fastAnswers += !b.text.empty();
        }
    }
    EXPECT_EQ(fastAnswers, 7);  // the six valid page requests and the orchestration, with the read scope
}

// The response cache is only as fresh as GenerationStore's count of writes: every write, on
// every entry point the engine may use, must bump it; reads must not.
TEST(GenerationStore, EveryWriteBumpsTheGenerationAndReadsDoNot) {
    TempDb db;
    SqliteStore inner(db.path());
    keb::server::GenerationStore store(inner);
    std::mt19937_64 rng(2);
    auto bumps = [&](const char* what, const std::function<void()>& f) {
        const auto before = store.generation();
        f();
        EXPECT_GT(store.generation(), before) << what;
    };
    auto quiet = [&](const char* what, const std::function<void()>& f) {
        const auto before = store.generation();
        f();
        EXPECT_EQ(store.generation(), before) << what;
    };
    Orchestration o = orchestration("g");
    bumps("insertOrchestration", [&] { store.insertOrchestration(o); });
    Operation a = randomOperation(rng, "g", 0), b = randomOperation(rng, "g", 1);
    bumps("insertOperations", [&] { store.insertOperations({a}); });
    bumps("updateOrchestrationAddingOperations", [&] {
        bool once = true;
        store.updateOrchestrationAddingOperations(o, [&](Operation& out) {
            if (!once) return false;
            once = false;
            out = b;
            return true;
        });
    });
    a.description = "changed";
    bumps("updateOperation", [&] { store.updateOperation(a); });
    bumps("updateOperations", [&] { store.updateOperations({a, b}); });
    bumps("updateOrchestration", [&] { store.updateOrchestration(o); });
    bumps("updateOrchestrationWithOperations", [&] { store.updateOrchestrationWithOperations(o, {}, {a}); });
    bumps("rescheduleOperations", [&] {
        Store::ScheduleChange c;
        c.operationID = a.operationID;
        c.startAt = 5;
        const std::string d = "rescheduled";
        store.rescheduleOperations("g", {c}, &d, 7);
    });
    EXPECT_EQ(inner.getOperation("g", a.operationID)->description, "rescheduled");
    bumps("a failed write too", [&] { EXPECT_THROW(store.updateOrchestration(orchestration("ghost")), std::exception); });
    quiet("reads", [&] {
        Operation out;
        EXPECT_TRUE(store.readOperation("g", a.operationID, out));
        store.getOrchestration("g");
        store.listOrchestrations({});
        store.listOperations("g", {});
        store.operationsOf("g");
        store.operationStats("g");
        store.unfinishedOrchestrations();
        int n = 0;
        store.forEachOperation("g", [&](const Operation&) { ++n; });
        store.forEachOperationBrief("g", [&](const Store::OperationBrief&) { ++n; });
        EXPECT_EQ(n, 4);
    });
}
