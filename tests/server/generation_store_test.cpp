// GenerationStore (the HTTP cache's write counter) and the ForwardingStore it derives from:
// every write of Store, apply(batch) included, bumps the generation, failed ones too; reads do
// not; and, by reading store.h and forwarding_store.h, every virtual method of Store and
// StoreReader is forwarded and every write method of Store is covered by this test (a write
// added to Store without a case here fails the test).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "generation_store.h"
#include "keb/api.h"
#include "keb/memory_store.h"
#include "sqlite_store.h"
#include "store_contract.h"

// Only the test data helpers of the contract header are used here (it runs in keb-store-contract-tests).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreContract);

namespace {

using namespace keb;
using contract::makeOp;
using contract::makeOrch;

std::string readSource(const std::string& rel) {
    std::ifstream in(std::string(KEB_SOURCE_DIR) + "/" + rel);
    EXPECT_TRUE(in.good()) << "cannot read " << rel;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The text of `class NAME ...{` up to its closing "\n};".
std::string classBody(const std::string& text, const std::string& head) {
    const std::size_t begin = text.find(head);
    if (begin == std::string::npos) return "";
    const std::size_t end = text.find("\n};", begin);
    return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

// Names of the member functions declared at the class's own level (four spaces in), without
// static ones, constructors and destructors; onlyVirtual: those declared `virtual`.
std::set<std::string> memberFunctions(const std::string& body, const std::string& className, bool onlyVirtual) {
    std::set<std::string> out;
    std::istringstream lines(body);
    static const std::regex decl(R"(^    (?! |static |struct |class |template |//|public:|protected:|private:)([^(]*?)(\w+)\()");
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (!std::regex_search(line, m, decl)) continue;
        const std::string name = m[2];
        if (name == className || m[1].str().find('~') != std::string::npos) continue;
        if (onlyVirtual && m[1].str().rfind("virtual ", 0) != 0) continue;
        out.insert(name);
    }
    return out;
}

struct Sources {
    std::set<std::string> readerVirtuals, storeVirtuals, storeWrites, forwarded;
    Sources() {
        const std::string store = readSource("core/include/keb/store.h");
        const std::string reader = classBody(store, "class StoreReader {");
        const std::string writer = classBody(store, "class Store : public StoreReader {");
        readerVirtuals = memberFunctions(reader, "StoreReader", true);
        storeVirtuals = memberFunctions(writer, "Store", true);
        storeWrites = memberFunctions(writer, "Store", false);
        const std::string fwd = readSource("core/include/keb/forwarding_store.h");
        forwarded = memberFunctions(classBody(fwd, "class ForwardingStore : public Store {"), "ForwardingStore", false);
    }
};

TEST(ForwardingStore, ForwardsEveryVirtualMethodOfStoreAndStoreReader) {
    Sources src;
    // The scan found the interface (guards against a scan that silently finds nothing).
    EXPECT_TRUE(src.readerVirtuals.count("readOperationAt"));
    EXPECT_TRUE(src.readerVirtuals.count("pageSource"));
    EXPECT_TRUE(src.storeVirtuals.count("apply"));
    EXPECT_TRUE(src.storeWrites.count("insertOperation"));  // the non-virtual convenience write
    EXPECT_GE(src.readerVirtuals.size(), 12u);
    EXPECT_GE(src.storeVirtuals.size(), 10u);
    for (const std::string& m : src.readerVirtuals) EXPECT_TRUE(src.forwarded.count(m)) << "ForwardingStore does not forward the read " << m;
    for (const std::string& m : src.storeVirtuals) EXPECT_TRUE(src.forwarded.count(m)) << "ForwardingStore does not forward the write " << m;
}

// One successful call of each write of Store, on a store holding orchestration "o" with
// operations "a" (seq 0) and "b" (seq 1).
std::map<std::string, std::function<void(Store&)>> writeCases() {
    static const std::string text = "changed";
    return {
        {"insertOrchestration", [](Store& s) { s.insertOrchestration(makeOrch("new", 5)); }},
        {"updateOrchestration",
         [](Store& s) {
             Orchestration o = *s.getOrchestration("o");
             o.description = text;
             s.updateOrchestration(o);
         }},
        {"insertOperations", [](Store& s) { s.insertOperations({makeOp("o", "c", 1, 2), makeOp("o", "d", 1, 3)}); }},
        {"insertOperation", [](Store& s) { s.insertOperation(makeOp("o", "c", 1, 2)); }},
        {"updateOperations",
         [](Store& s) {
             Operation a = *s.getOperation("o", "a");
             a.description = text;
             s.updateOperations({a});
         }},
        {"updateOperation",
         [](Store& s) {
             Operation a = *s.getOperation("o", "a");
             a.description = text;
             s.updateOperation(a);
         }},
        {"updateOrchestrationWithOperations",
         [](Store& s) { s.updateOrchestrationWithOperations(*s.getOrchestration("o"), {makeOp("o", "c", 1, 2)}, {}); }},
        {"rescheduleOperations", [](Store& s) { s.rescheduleOperations("o", {{"a", 9, 9, 10, 0}}, &text, 7); }},
        {"updateOperationProgress",
         [](Store& s) {
             Store::ProgressChange c;
             c.operationID = "b";
             c.seq = 1;
             c.state = OperationState::InProgress;
             c.description = &text;
             s.updateOperationProgress("o", c);
         }},
        {"updateOrchestrationAddingOperations",
         [](Store& s) {
             int n = 0;
             s.updateOrchestrationAddingOperations(*s.getOrchestration("o"), [&](Operation& op) {
                 if (n == 2) return false;
                 op = makeOp("o", "s" + std::to_string(n), 1, 2 + n);
                 ++n;
                 return true;
             });
         }},
        {"markNotificationsDelivered",
         [](Store& s) { s.markNotificationsDelivered({1}); }},  // the outbox row of the setup below
        {"apply",
         [](Store& s) {
             Store::WriteBatch b;
             b.insertedOperations.push_back(makeOp("o", "c", 1, 2));
             Store::ProgressChange c;
             c.operationID = "c";
             c.state = OperationState::Failed;
             b.progress.push_back({"o", c});
             s.apply(b);
         }},
    };
}

TEST(GenerationStore, EveryWriteOfStoreBumpsTheGeneration) {
    Sources src;
    const auto cases = writeCases();
    std::set<std::string> covered;
    for (const auto& [name, f] : cases) covered.insert(name);
    EXPECT_EQ(covered, src.storeWrites) << "a write method of Store (core/include/keb/store.h) has no case here: add "
                                           "one, and make sure ForwardingStore sends it through write()";
    for (const auto& [name, write] : cases) {
        MemoryStore inner;
        inner.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
        inner.insertOperations({makeOp("o", "a", 1, 0), makeOp("o", "b", 1, 1)});
        Store::WriteBatch outbox;  // one undelivered notification (sequence 1)
        outbox.notifications.push_back(Notification{Notification::Kind::Cancel, "o", "{}", 0});
        inner.apply(outbox);
        const contract::Snapshot before = contract::snapshotOf(inner);
        server::GenerationStore g(inner);
        const std::uint64_t gen = g.generation();
        write(g);
        EXPECT_EQ(g.generation(), gen + 1) << name << " did not bump the generation exactly once";
        EXPECT_FALSE(contract::snapshotOf(inner) == before) << name << " did not reach the inner store";
        // The same write again fails (an id exists by now, or the text is already there: then
        // it succeeds); either way it bumps once more.
        try {
            write(g);
        } catch (const std::exception&) {
        }
        EXPECT_EQ(g.generation(), gen + 2) << name << " (second call)";
    }
}

TEST(GenerationStore, FailedWritesBumpAndReadsDoNot) {
    MemoryStore inner;
    inner.insertOrchestration(makeOrch("o", 1));
    inner.insertOperation(makeOp("o", "a", 1, 0));
    server::GenerationStore g(inner);
    std::uint64_t gen = g.generation();
    EXPECT_THROW(g.updateOrchestration(makeOrch("ghost", 1)), std::exception);
    EXPECT_EQ(g.generation(), ++gen);
    Store::WriteBatch b;
    b.updatedOperations.push_back(makeOp("o", "ghost", 1, 3));
    EXPECT_THROW(g.apply(b), std::exception);
    EXPECT_EQ(g.generation(), ++gen);

    Operation buf;
    EXPECT_TRUE(g.getOrchestration("o").has_value());
    EXPECT_EQ(g.listOrchestrations({}).totalCount, 1);
    EXPECT_EQ(g.unfinishedOrchestrations().size(), 1u);
    EXPECT_TRUE(g.getOperation("o", "a").has_value());
    EXPECT_TRUE(g.readOperation("o", "a", buf));
    EXPECT_TRUE(g.readOperationAt("o", "a", 0, buf));
    EXPECT_EQ(g.listOperations("o", {}).totalCount, 1);
    EXPECT_EQ(g.operationsOf("o").size(), 1u);
    EXPECT_EQ(g.operationStats("o")[OperationState::Pending], 1);
    int n = 0;
    g.forEachOperation("o", [&](const Operation&) { ++n; });
    g.forEachOperationBrief("o", [&](const StoreReader::OperationBrief&) { ++n; });
    EXPECT_EQ(n, 2);
    EXPECT_EQ(g.stateCounts().orchestrations[OrchestrationState::Pending], 1);
    EXPECT_EQ(g.pageSource(), nullptr);  // the memory store has no fast paths
    EXPECT_EQ(g.generation(), gen) << "a read bumped the generation";
}

TEST(GenerationStore, ForwardsThePageFastPathsOfTheInnerStore) {
    const std::string path = ::testing::TempDir() + "keb-generation-" + std::to_string(::getpid()) + ".db";
    {
        server::SqliteStore sqlite(path);
        server::GenerationStore g(sqlite);
        EXPECT_EQ(g.pageSource(), static_cast<OperationPageSource*>(&sqlite));
        g.insertOrchestration(makeOrch("o", 1));
        std::string out;
        ASSERT_TRUE(g.pageSource()->appendOperationPage("o", {}, out));
        EXPECT_EQ(out, "{\"count\":0,\"data\":[],\"totalCount\":0}");
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

}  // namespace
