// The store contract (core/include/keb/store.h): ONE typed GoogleTest suite that every
// keb::Store implementation must pass. Instantiate it with a factory type F:
//   struct F { std::unique_ptr<keb::Store> open();   // a fresh, empty store
//              std::unique_ptr<keb::Store> reopen(); // the same data again (nullptr: not durable) };
//   INSTANTIATE_TYPED_TEST_SUITE_P(Name, StoreContract, F);
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "keb/api.h"
#include "keb/store.h"
#include "keb/uuid.h"
#include "keb/wire.h"

namespace keb::contract {

inline Orchestration makeOrch(const std::string& id, Millis createdAt, OrchestrationState state = OrchestrationState::Pending,
                              std::int64_t seq = 0) {
    Orchestration o;
    o.orchestrationID = id;
    o.type = OrchestrationType::UpgradeKyma;
    o.state = state;
    o.description = "queued for processing";
    o.createdAt = createdAt;
    o.updatedAt = createdAt;
    o.seq = seq;
    Target t;
    t.all = true;
    o.parameters.targets.include.push_back(t);
    o.parameters.strategy.workers = 3;
    o.parameters.kyma = KymaParams{"2.20.0"};
    return o;
}

inline Operation makeOp(const std::string& orch, const std::string& id, Millis createdAt, std::int64_t seq,
                        OperationState state = OperationState::Pending) {
    Operation op;
    op.operationID = id;
    op.orchestrationID = orch;
    op.runtimeID = "rt-" + id;
    op.instanceID = "inst-" + id;
    op.globalAccountID = "ga-1";
    op.subAccountID = "sa-" + id;
    op.servicePlanID = "plan-id";
    op.servicePlanName = "azure";
    op.region = "westeurope";
    op.shootName = "c-" + id;
    op.state = state;
    op.description = "d-" + id;
    op.createdAt = createdAt;
    op.updatedAt = createdAt;
    op.seq = seq;
    op.kymaConfig = KymaParams{"2.20.0"};
    return op;
}

// SPEC 10: a staged orchestration with budgets and blackouts, resolved into two stages (its
// rollout progress set). The first stage omits workers, the second sets them: both must read
// back as written.
inline Orchestration makeStagedOrch(const std::string& id, Millis createdAt,
                                    OrchestrationState state = OrchestrationState::InProgress) {
    Orchestration o = makeOrch(id, createdAt, state);
    Stage canary;
    canary.name = "canary";
    Target eu;
    eu.region = "^eu-";
    canary.targets = Targets{{eu}, {}};
    canary.soak = 90 * kMinute + 500;
    canary.maxFailures = FailureBudget{false, 0};
    Stage rest;
    rest.name = "rest";
    rest.workers = 7;
    rest.maxFailures = FailureBudget{true, 5};
    o.parameters.strategy.stages = {canary, rest};
    o.parameters.strategy.maxFailures = FailureBudget{false, 10};
    o.parameters.strategy.blackouts = {Blackout{1'767'225'600'000, 1'767'398'400'123, "year-end freeze \"ice\""}};
    StageProgress first;
    first.state = StageState::Soaking;
    first.firstSeq = 0;
    first.operations = 2;
    first.startedAt = createdAt + 10;
    first.finishedAt = createdAt + 500;
    first.soakUntil = createdAt + 500 + canary.soak;
    first.acknowledgedFailures = 1;
    StageProgress second;
    second.firstSeq = 2;
    second.operations = 3;
    o.rollout.stages = {first, second};
    o.rollout.operations = 5;
    o.rollout.unstaged = 4;
    o.rollout.acknowledgedFailures = 1;
    return o;
}

template <class T>
std::vector<std::string> ids(const std::vector<T>& v) {
    std::vector<std::string> out;
    for (const auto& x : v) {
        if constexpr (std::is_same_v<T, Orchestration>) out.push_back(x.orchestrationID);
        else out.push_back(x.operationID);
    }
    return out;
}

template <class F>
class StoreContract : public ::testing::Test {
protected:
    void SetUp() override { store_ = factory_.open(); }
    Store& store() { return *store_; }
    // Closes and opens the store again; false when the implementation is not durable.
    bool reopen() {
        store_.reset();
        store_ = factory_.reopen();
        return store_ != nullptr;
    }
    F factory_;
    std::unique_ptr<Store> store_;
};

TYPED_TEST_SUITE_P(StoreContract);

TYPED_TEST_P(StoreContract, InsertGetUpdateOrchestration) {
    Store& s = this->store();
    EXPECT_FALSE(s.getOrchestration("nope").has_value());
    Orchestration o = makeOrch("o1", 1000);
    o.parameters.strategy.maintenanceWindow = true;
    o.parameters.strategy.schedule = ScheduleKind::Time;
    o.parameters.strategy.scheduleTime = 123456789;
    o.parameters.targets.exclude.push_back(Target{false, "ga.*", std::nullopt, "eu", std::nullopt, "azure", std::nullopt, std::nullopt});
    o.parameters.dryRun = true;
    s.insertOrchestration(o);
    auto got = s.getOrchestration("o1");
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(*got, o);
    EXPECT_THROW(s.insertOrchestration(o), std::exception);  // duplicate id
    o.state = OrchestrationState::InProgress;
    o.description = "Scheduled 3 operations";
    o.updatedAt = 2000;
    s.updateOrchestration(o);
    EXPECT_EQ(*s.getOrchestration("o1"), o);
    EXPECT_THROW(s.updateOrchestration(makeOrch("ghost", 1)), std::exception);
}

TYPED_TEST_P(StoreContract, InsertGetUpdateOperationAllFields) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o1", 1000, OrchestrationState::InProgress));
    s.insertOrchestration(makeOrch("o2", 1000, OrchestrationState::InProgress));
    Operation a = makeOp("o1", "a", 1000, 0);
    a.dryRun = true;
    a.maintenanceWindowBegin = 5000;
    a.maintenanceWindowEnd = 9000;
    a.startAt = 5000;
    a.startedAt = 5100;
    a.upgradeStarted = true;
    a.immediate = true;
    a.retryOf = "older";
    a.description = "with \"quotes\" and unicode \xc3\xa9";
    Operation b = makeOp("o1", "b", 1000, 1);
    b.kymaConfig.reset();
    b.clusterConfig = KubernetesParams{"1.30.2", "gardenlinux", "1443.3"};
    Operation c = makeOp("o1", "c", 1000, 2);
    c.kymaConfig.reset();  // neither config
    s.insertOperations({a, b, c});
    EXPECT_EQ(*s.getOperation("o1", "a"), a);
    EXPECT_EQ(*s.getOperation("o1", "b"), b);
    EXPECT_EQ(*s.getOperation("o1", "c"), c);
    EXPECT_FALSE(s.getOperation("o2", "a").has_value()) << "operation looked up under another orchestration";
    EXPECT_FALSE(s.getOperation("o1", "zzz").has_value());
    a.state = OperationState::Succeeded;
    a.description = "done";
    a.updatedAt = 7777;
    s.updateOperation(a);
    EXPECT_EQ(*s.getOperation("o1", "a"), a);
    EXPECT_THROW(s.updateOperation(makeOp("o1", "ghost", 1, 9)), std::exception);
    EXPECT_THROW(s.insertOperation(makeOp("no-such-orch", "x", 1, 0)), std::exception);
    EXPECT_THROW(s.insertOperation(a), std::exception);  // duplicate
}

TYPED_TEST_P(StoreContract, OrchestrationOrderIsCreatedAtThenId) {
    Store& s = this->store();
    // Inserted out of order; ties on createdAt are broken by id.
    s.insertOrchestration(makeOrch("c", 2000));
    s.insertOrchestration(makeOrch("b", 1000));
    s.insertOrchestration(makeOrch("z", 500));
    s.insertOrchestration(makeOrch("a", 1000));
    s.insertOrchestration(makeOrch("d", 2000));
    auto page = s.listOrchestrations({});
    EXPECT_EQ(ids(page.data), (std::vector<std::string>{"z", "a", "b", "c", "d"}));
    EXPECT_EQ(page.count, 5);
    EXPECT_EQ(page.totalCount, 5);
}

TYPED_TEST_P(StoreContract, OperationOrderIsCreatedAtThenSeqThenId) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1));
    s.insertOperations({makeOp("o", "late", 3000, 0), makeOp("o", "s2", 1000, 2), makeOp("o", "s1", 1000, 1),
                        makeOp("o", "t-b", 2000, 5), makeOp("o", "t-a", 2000, 5)});
    auto page = s.listOperations("o", {});
    EXPECT_EQ(ids(page.data), (std::vector<std::string>{"s1", "s2", "t-a", "t-b", "late"}));
    auto all = s.operationsOf("o");
    EXPECT_EQ(ids(all), ids(page.data));
    EXPECT_TRUE(s.operationsOf("unknown").empty());
    auto none = s.listOperations("unknown", {});
    EXPECT_EQ(none.count, 0);
    EXPECT_EQ(none.totalCount, 0);
    EXPECT_TRUE(none.data.empty());
}

TYPED_TEST_P(StoreContract, FiltersWithSeveralStates) {
    Store& s = this->store();
    const OrchestrationState os[] = {OrchestrationState::Pending, OrchestrationState::InProgress,
                                     OrchestrationState::Failed, OrchestrationState::Succeeded,
                                     OrchestrationState::InProgress, OrchestrationState::Canceled};
    for (int i = 0; i < 6; ++i) s.insertOrchestration(makeOrch("o" + std::to_string(i), 100 + i, os[i]));
    OrchestrationQuery q;
    q.states = {OrchestrationState::InProgress, OrchestrationState::Failed};
    auto p = s.listOrchestrations(q);
    EXPECT_EQ(ids(p.data), (std::vector<std::string>{"o1", "o2", "o4"}));
    EXPECT_EQ(p.totalCount, 3);
    q.states = {OrchestrationState::InProgress, OrchestrationState::InProgress};  // a repeated state counts once
    p = s.listOrchestrations(q);
    EXPECT_EQ(ids(p.data), (std::vector<std::string>{"o1", "o4"}));
    EXPECT_EQ(p.totalCount, 2);
    q.states = {OrchestrationState::Retrying};
    p = s.listOrchestrations(q);
    EXPECT_TRUE(p.data.empty());
    EXPECT_EQ(p.totalCount, 0);

    s.insertOrchestration(makeOrch("x", 1));
    std::vector<Operation> ops;
    const OperationState st[] = {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                                 OperationState::Failed, OperationState::Canceled};
    for (int i = 0; i < 25; ++i) ops.push_back(makeOp("x", "op" + std::to_string(100 + i), 1000, i, st[i % 5]));
    s.insertOperations(ops);
    OperationQuery oq;
    oq.states = {OperationState::Failed, OperationState::Pending};
    oq.pageSize = 4;
    auto op = s.listOperations("x", oq);
    EXPECT_EQ(ids(op.data), (std::vector<std::string>{"op100", "op103", "op105", "op108"}));
    EXPECT_EQ(op.count, 4);
    EXPECT_EQ(op.totalCount, 10);
    oq.page = 3;  // paging applies to every filter (KEB's failed filter did not page)
    op = s.listOperations("x", oq);
    EXPECT_EQ(ids(op.data), (std::vector<std::string>{"op120", "op123"}));
    EXPECT_EQ(op.count, 2);
    EXPECT_EQ(op.totalCount, 10);
    // A state change moves the operation between filters.
    Operation moved = *s.getOperation("x", "op101");
    moved.state = OperationState::Failed;
    s.updateOperation(moved);
    oq.page = 1;
    oq.pageSize = 100;
    oq.states = {OperationState::Failed};
    op = s.listOperations("x", oq);
    EXPECT_EQ(op.totalCount, 6);
    EXPECT_EQ(op.data.front().operationID, "op101");
}

TYPED_TEST_P(StoreContract, PagingEdges) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1));
    std::vector<Operation> ops;
    for (int i = 0; i < 250; ++i) ops.push_back(makeOp("o", "op" + std::to_string(1000 + i), 5000, i));
    s.insertOperations(ops);
    OperationQuery q;
    q.pageSize = 100;
    for (int page = 1; page <= 3; ++page) {
        q.page = page;
        auto p = s.listOperations("o", q);
        const int expect = page < 3 ? 100 : 50;
        ASSERT_EQ(p.count, expect) << "page " << page;
        ASSERT_EQ(static_cast<int>(p.data.size()), expect);
        EXPECT_EQ(p.totalCount, 250);
        EXPECT_EQ(p.data.front().operationID, "op" + std::to_string(1000 + (page - 1) * 100));
        EXPECT_EQ(p.data.back().operationID, "op" + std::to_string(1000 + (page - 1) * 100 + expect - 1));
    }
    q.page = 4;  // past the end
    auto past = s.listOperations("o", q);
    EXPECT_TRUE(past.data.empty());
    EXPECT_EQ(past.count, 0);
    EXPECT_EQ(past.totalCount, 250);
    q.page = 1000000;
    EXPECT_TRUE(s.listOperations("o", q).data.empty());
    q.page = 250;
    q.pageSize = 1;  // last item exactly
    auto last = s.listOperations("o", q);
    ASSERT_EQ(last.count, 1);
    EXPECT_EQ(last.data[0].operationID, "op1249");
    q.page = 2;
    q.pageSize = 125;  // exact multiple
    EXPECT_EQ(s.listOperations("o", q).count, 125);

    for (int i = 0; i < 7; ++i) s.insertOrchestration(makeOrch("p" + std::to_string(i), 10 + i));
    OrchestrationQuery oq;
    oq.pageSize = 3;
    oq.page = 3;
    auto op = s.listOrchestrations(oq);
    EXPECT_EQ(ids(op.data), (std::vector<std::string>{"p5", "p6"}));  // "o" (createdAt 1) comes first
    EXPECT_EQ(op.totalCount, 8);
    oq.page = 4;
    op = s.listOrchestrations(oq);
    EXPECT_TRUE(op.data.empty());
    EXPECT_EQ(op.totalCount, 8);
}

TYPED_TEST_P(StoreContract, Stats) {
    Store& s = this->store();
    auto empty = s.operationStats("unknown");
    EXPECT_EQ(empty.size(), 5u) << "every state present, zeros included";
    for (const auto& [st, n] : empty) EXPECT_EQ(n, 0);
    s.insertOrchestration(makeOrch("o", 1));
    s.insertOrchestration(makeOrch("other", 1));
    s.insertOperations({makeOp("o", "1", 1, 1, OperationState::Pending), makeOp("o", "2", 1, 2, OperationState::Pending),
                        makeOp("o", "3", 1, 3, OperationState::Failed), makeOp("other", "4", 1, 1, OperationState::Failed)});
    auto st = s.operationStats("o");
    EXPECT_EQ(st.size(), 5u);
    EXPECT_EQ(st[OperationState::Pending], 2);
    EXPECT_EQ(st[OperationState::Failed], 1);
    EXPECT_EQ(st[OperationState::InProgress], 0);
    Operation two = *s.getOperation("o", "2");
    two.state = OperationState::Succeeded;
    s.updateOperation(two);
    two.description = "again, same state";
    s.updateOperation(two);
    st = s.operationStats("o");
    EXPECT_EQ(st[OperationState::Pending], 1);
    EXPECT_EQ(st[OperationState::Succeeded], 1);
    EXPECT_EQ(st[OperationState::Failed], 1);
}

TYPED_TEST_P(StoreContract, UnfinishedOrchestrationsInCreationOrder) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("done", 1, OrchestrationState::Succeeded));
    s.insertOrchestration(makeOrch("r", 50, OrchestrationState::Retrying));
    s.insertOrchestration(makeOrch("p", 10, OrchestrationState::Pending));
    s.insertOrchestration(makeOrch("f", 5, OrchestrationState::Failed));
    s.insertOrchestration(makeOrch("c", 30, OrchestrationState::Canceling));
    s.insertOrchestration(makeOrch("x", 20, OrchestrationState::Canceled));
    s.insertOrchestration(makeOrch("i", 20, OrchestrationState::InProgress));
    EXPECT_EQ(ids(s.unfinishedOrchestrations()), (std::vector<std::string>{"p", "i", "c", "r"}));
    Orchestration i = *s.getOrchestration("i");
    i.state = OrchestrationState::Succeeded;
    s.updateOrchestration(i);
    EXPECT_EQ(ids(s.unfinishedOrchestrations()), (std::vector<std::string>{"p", "c", "r"}));
}

TYPED_TEST_P(StoreContract, BatchesAreAtomic) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOperation(makeOp("o", "existing", 1, 0));
    // The last op of the batch collides: nothing of the batch may be stored.
    EXPECT_THROW(s.insertOperations({makeOp("o", "n1", 1, 1), makeOp("o", "n2", 1, 2), makeOp("o", "existing", 1, 3)}),
                 std::exception);
    EXPECT_FALSE(s.getOperation("o", "n1").has_value());
    EXPECT_FALSE(s.getOperation("o", "n2").has_value());
    EXPECT_EQ(s.listOperations("o", {}).totalCount, 1);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 1);
    // A duplicate inside one batch.
    EXPECT_THROW(s.insertOperations({makeOp("o", "d", 1, 1), makeOp("o", "d", 1, 2)}), std::exception);
    EXPECT_FALSE(s.getOperation("o", "d").has_value());
    // Updates: one unknown operation rolls the others back.
    Operation e = *s.getOperation("o", "existing");
    e.state = OperationState::Succeeded;
    EXPECT_THROW(s.updateOperations({e, makeOp("o", "ghost", 1, 9)}), std::exception);
    EXPECT_EQ(s.getOperation("o", "existing")->state, OperationState::Pending);
    // Orchestration + operations: a failing part leaves everything as it was.
    Orchestration o = *s.getOrchestration("o");
    Orchestration changed = o;
    changed.state = OrchestrationState::Succeeded;
    EXPECT_THROW(s.updateOrchestrationWithOperations(changed, {makeOp("o", "new", 2, 5)}, {makeOp("o", "ghost", 1, 9)}),
                 std::exception);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    EXPECT_FALSE(s.getOperation("o", "new").has_value());
    // And the successful form applies all three parts.
    s.updateOrchestrationWithOperations(changed, {makeOp("o", "new", 2, 5)}, {e});
    EXPECT_EQ(s.getOrchestration("o")->state, OrchestrationState::Succeeded);
    EXPECT_TRUE(s.getOperation("o", "new").has_value());
    EXPECT_EQ(s.getOperation("o", "existing")->state, OperationState::Succeeded);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 1);
    EXPECT_EQ(s.operationStats("o")[OperationState::Succeeded], 1);
}

TYPED_TEST_P(StoreContract, ReopenKeepsEverything) {
    Store& s = this->store();
    Orchestration o = makeOrch("o", 42, OrchestrationState::InProgress, 7);
    s.insertOrchestration(o);
    s.insertOrchestration(makeOrch("done", 43, OrchestrationState::Succeeded, 8));
    std::vector<Operation> ops;
    for (int i = 0; i < 120; ++i) {
        Operation op = makeOp("o", "op" + std::to_string(i), 42, i, i % 2 ? OperationState::Succeeded : OperationState::Pending);
        op.upgradeStarted = i % 3 == 0;
        op.startAt = 1000 + i;
        ops.push_back(op);
    }
    s.insertOperations(ops);
    if (!this->reopen()) GTEST_SKIP() << "not a durable store";
    Store& r = this->store();
    EXPECT_EQ(*r.getOrchestration("o"), o);
    EXPECT_EQ(r.operationsOf("o"), ops);
    EXPECT_EQ(ids(r.unfinishedOrchestrations()), (std::vector<std::string>{"o"}));
    EXPECT_EQ(r.operationStats("o")[OperationState::Pending], 60);
    OperationQuery q;
    q.states = {OperationState::Succeeded};
    q.page = 2;
    q.pageSize = 50;
    auto p = r.listOperations("o", q);
    EXPECT_EQ(p.count, 10);
    EXPECT_EQ(p.totalCount, 60);
    // Still writable after reopening.
    Operation first = ops[0];
    first.state = OperationState::Failed;
    r.updateOperation(first);
    EXPECT_EQ(r.getOperation("o", "op0")->state, OperationState::Failed);
}

TYPED_TEST_P(StoreContract, ForEachOperationVisitsInCreationOrder) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOrchestration(makeOrch("other", 1, OrchestrationState::InProgress));
    s.insertOperations({makeOp("o", "late", 3000, 0), makeOp("o", "s2", 1000, 2), makeOp("other", "x", 500, 0),
                        makeOp("o", "s1", 1000, 1), makeOp("o", "t-b", 2000, 5), makeOp("o", "t-a", 2000, 5)});
    std::vector<Operation> seen;
    s.forEachOperation("o", [&](const Operation& op) { seen.push_back(op); });
    EXPECT_EQ(ids(seen), (std::vector<std::string>{"s1", "s2", "t-a", "t-b", "late"}));
    EXPECT_EQ(seen, s.operationsOf("o")) << "every field as operationsOf returns it";
    int calls = 0;
    s.forEachOperation("unknown", [&](const Operation&) { ++calls; });
    EXPECT_EQ(calls, 0);

    // After updates the visit sees the new values (and still the same order).
    Operation t = *s.getOperation("o", "t-a");
    t.state = OperationState::Failed;
    t.description = "upgrade failed: timeout";
    t.upgradeStarted = true;
    t.updatedAt = 9000;
    s.updateOperation(t);
    Operation late = *s.getOperation("o", "late");
    late.kymaConfig.reset();
    late.clusterConfig = KubernetesParams{"1.30.2", "gardenlinux", "1443.3"};
    s.updateOperation(late);
    seen.clear();
    s.forEachOperation("o", [&](const Operation& op) { seen.push_back(op); });
    ASSERT_EQ(ids(seen), (std::vector<std::string>{"s1", "s2", "t-a", "t-b", "late"}));
    EXPECT_EQ(seen[2], t);
    EXPECT_EQ(seen[4], late);
    seen.clear();
    s.forEachOperation("other", [&](const Operation& op) { seen.push_back(op); });
    EXPECT_EQ(ids(seen), (std::vector<std::string>{"x"}));
}

TYPED_TEST_P(StoreContract, StreamedInsertAddsOperationsAndUpdatesOrchestration) {
    Store& s = this->store();
    Orchestration o = makeOrch("o", 1, OrchestrationState::Pending);
    s.insertOrchestration(o);
    s.insertOperation(makeOp("o", "first", 1, 0));
    o.state = OrchestrationState::InProgress;
    o.description = "Scheduled 301 operations";
    o.updatedAt = 50;
    std::vector<Operation> made;
    int calls = 0;
    s.updateOrchestrationAddingOperations(o, [&](Operation& out) {
        ++calls;
        EXPECT_EQ(out, Operation{}) << "each call gets a fresh Operation";
        if (made.size() == 300) return false;
        const int i = static_cast<int>(made.size());
        // Mostly in order, every 7th one earlier than the rest (it must still be ordered).
        out = makeOp("o", "n" + std::to_string(1000 + i), i % 7 == 3 ? 2 : 10, i + 1,
                     i % 4 == 0 ? OperationState::Failed : OperationState::Pending);
        made.push_back(out);
        return true;
    });
    EXPECT_EQ(calls, 301);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    EXPECT_EQ(s.listOperations("o", {}).totalCount, 301);
    for (const Operation& op : made) EXPECT_EQ(*s.getOperation("o", op.operationID), op);
    std::vector<Operation> expect = made;
    expect.insert(expect.begin(), makeOp("o", "first", 1, 0));
    std::stable_sort(expect.begin(), expect.end(), [](const Operation& a, const Operation& b) {
        return std::tie(a.createdAt, a.seq, a.operationID) < std::tie(b.createdAt, b.seq, b.operationID);
    });
    EXPECT_EQ(s.operationsOf("o"), expect);
    EXPECT_EQ(s.operationStats("o")[OperationState::Failed], 75);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 226);

    // An empty stream still writes the orchestration.
    o.description = "nothing new";
    s.updateOrchestrationAddingOperations(o, [](Operation&) { return false; });
    EXPECT_EQ(s.getOrchestration("o")->description, "nothing new");
    EXPECT_EQ(s.listOperations("o", {}).totalCount, 301);
    EXPECT_THROW(s.updateOrchestrationAddingOperations(makeOrch("ghost", 1), [](Operation&) { return false; }),
                 std::exception);
}

TYPED_TEST_P(StoreContract, StreamedInsertIsAtomic) {
    Store& s = this->store();
    Orchestration o = makeOrch("o", 1, OrchestrationState::Pending);
    s.insertOrchestration(o);
    s.insertOperation(makeOp("o", "existing", 1, 0));
    Orchestration changed = o;
    changed.state = OrchestrationState::InProgress;
    changed.description = "must not be stored";
    auto expectUnchanged = [&](const char* what) {
        EXPECT_EQ(*s.getOrchestration("o"), o) << what;
        EXPECT_EQ(ids(s.operationsOf("o")), (std::vector<std::string>{"existing"})) << what;
        EXPECT_FALSE(s.getOperation("o", "n0").has_value()) << what;
        EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 1) << what;
        EXPECT_EQ(s.listOperations("o", {}).totalCount, 1) << what;
    };
    auto stream = [](int n, std::function<Operation(int)> last) {
        return [n, last, i = 0](Operation& out) mutable {
            if (i > n) return false;
            out = i < n ? makeOp("o", "n" + std::to_string(i), 5, i + 1) : last(i);
            ++i;
            return true;
        };
    };
    // A duplicate of a stored operation after 200 new ones.
    EXPECT_THROW(s.updateOrchestrationAddingOperations(changed, stream(200, [](int i) { return makeOp("o", "existing", 5, i + 1); })),
                 std::exception);
    expectUnchanged("duplicate of a stored operation");
    // A duplicate inside the stream.
    EXPECT_THROW(s.updateOrchestrationAddingOperations(changed, stream(50, [](int i) { return makeOp("o", "n7", 5, i + 1); })),
                 std::exception);
    expectUnchanged("duplicate inside the stream");
    // An operation of an unknown orchestration.
    EXPECT_THROW(s.updateOrchestrationAddingOperations(changed, stream(10, [](int i) { return makeOp("ghost", "g", 5, i + 1); })),
                 std::exception);
    expectUnchanged("unknown orchestration");
    // The producer itself fails.
    EXPECT_THROW(s.updateOrchestrationAddingOperations(changed, stream(30, [](int) -> Operation { throw std::runtime_error("producer failed"); })),
                 std::runtime_error);
    expectUnchanged("producer threw");
    // The store still works: the same ids go in now.
    s.updateOrchestrationAddingOperations(changed, stream(20, [](int i) { return makeOp("o", "n20", 5, i + 1); }));
    EXPECT_EQ(*s.getOrchestration("o"), changed);
    EXPECT_EQ(s.listOperations("o", {}).totalCount, 22);
    EXPECT_EQ(*s.getOperation("o", "n7"), makeOp("o", "n7", 5, 8));
    EXPECT_EQ(s.operationsOf("o").back().operationID, "n20");
}

TYPED_TEST_P(StoreContract, UpdateKeepsOrderAndFiltersConsistent) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    std::vector<Operation> ops;
    for (int i = 0; i < 40; ++i) ops.push_back(makeOp("o", "op" + std::to_string(100 + i), 10, i));
    s.insertOperations(ops);
    // Update every third one to failed in one batch, twice (the second batch changes nothing).
    std::vector<Operation> batch;
    for (int i = 0; i < 40; i += 3) {
        ops[static_cast<std::size_t>(i)].state = OperationState::Failed;
        ops[static_cast<std::size_t>(i)].description = "failed #" + std::to_string(i);
        batch.push_back(ops[static_cast<std::size_t>(i)]);
    }
    s.updateOperations(batch);
    s.updateOperations(batch);
    EXPECT_EQ(s.operationsOf("o"), ops);
    OperationQuery q;
    q.states = {OperationState::Failed};
    q.pageSize = 5;
    q.page = 2;
    auto p = s.listOperations("o", q);
    EXPECT_EQ(ids(p.data), (std::vector<std::string>{"op115", "op118", "op121", "op124", "op127"}));
    EXPECT_EQ(p.totalCount, 14);
    EXPECT_EQ(s.operationStats("o")[OperationState::Failed], 14);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 26);
}

TYPED_TEST_P(StoreContract, ReadOperationIntoAUsedBuffer) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOrchestration(makeOrch("p", 1, OrchestrationState::InProgress));
    Operation a = makeOp("o", "a", 10, 0);
    a.retryOf = "some-older-operation-with-a-long-id-0000";
    a.description = std::string(500, 'd');
    a.kymaConfig.reset();
    a.clusterConfig = KubernetesParams{"1.30.2", "gardenlinux", "1443.3"};
    a.upgradeStarted = true;
    a.dryRun = true;
    a.maintenanceWindowBegin = 100;
    a.maintenanceWindowEnd = 200;
    Operation b = makeOp("o", "b", 11, 1);  // kymaConfig, no retryOf, short strings
    s.insertOperations({a, b});
    Operation buf;
    ASSERT_TRUE(s.readOperation("o", "a", buf));
    EXPECT_EQ(buf, a);
    ASSERT_TRUE(s.readOperation("o", "b", buf));  // every field of a is overwritten
    EXPECT_EQ(buf, b);
    ASSERT_TRUE(s.readOperation("o", "a", buf));
    EXPECT_EQ(buf, a);
    EXPECT_FALSE(s.readOperation("o", "zzz", buf));
    EXPECT_FALSE(s.readOperation("p", "a", buf)) << "operation looked up under another orchestration";
    EXPECT_FALSE(s.readOperation("ghost", "a", buf));
    // The single-operation update the engine uses.
    b.state = OperationState::InProgress;
    b.startedAt = 12;
    b.description = "upgrade started";
    s.updateOperation(b);
    ASSERT_TRUE(s.readOperation("o", "b", buf));
    EXPECT_EQ(buf, b);
    EXPECT_EQ(s.operationStats("o")[OperationState::InProgress], 1);
    EXPECT_THROW(s.updateOperation(makeOp("o", "ghost", 1, 5)), std::exception);
    EXPECT_THROW(s.updateOperation(makeOp("nowhere", "a", 1, 5)), std::exception);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 1);
}

TYPED_TEST_P(StoreContract, BriefsMatchTheOperations) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOrchestration(makeOrch("other", 1, OrchestrationState::InProgress));
    Operation a = makeOp("o", "3f0c1b8e-6a3d-4c1e-9b7a-0d2e4f6a8b1c", 10, 0, OperationState::Failed);  // UUID-shaped
    Operation b = makeOp("o", "b", 10, 1, OperationState::InProgress);
    b.startAt = 777;
    b.immediate = true;
    Operation c = makeOp("o", "c", 20, 2);
    c.retryOf = a.operationID;
    c.runtimeID = a.runtimeID;
    s.insertOperations({c, b, a, makeOp("other", "x", 5, 0)});
    std::vector<Store::OperationBrief> got;
    std::vector<std::string> owned;  // the views live only during the call
    s.forEachOperationBrief("o", [&](const Store::OperationBrief& br) {
        got.push_back(br);
        owned.push_back(std::string(br.operationID) + "|" + std::string(br.runtimeID));
    });
    ASSERT_EQ(got.size(), 3u);
    const std::vector<Operation> want = {a, b, c};  // creation order
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(owned[i], want[i].operationID + "|" + want[i].runtimeID);
        EXPECT_EQ(got[i].seq, want[i].seq);
        EXPECT_EQ(got[i].state, want[i].state);
        EXPECT_EQ(got[i].startAt, want[i].startAt);
        EXPECT_EQ(got[i].immediate, want[i].immediate);
        EXPECT_EQ(got[i].isRetry, !want[i].retryOf.empty());
    }
    int none = 0;
    s.forEachOperationBrief("ghost", [&](const Store::OperationBrief&) { ++none; });
    EXPECT_EQ(none, 0);
    // Packed briefs: the same briefs; an id is its text or (when the store keeps it so) its bytes.
    std::vector<std::string> packed;
    s.forEachOperationBriefPacked("o", [&](const Store::OperationBrief& br) {
        auto text = [](const unsigned char* uuid, std::string_view view) {
            std::string t(view);
            if (uuid) {
                EXPECT_TRUE(view.empty());
                keb::unpackUuid(uuid, t);
            }
            return t;
        };
        packed.push_back(text(br.operationUuid, br.operationID) + "|" + text(br.runtimeUuid, br.runtimeID));
        EXPECT_EQ(br.isRetry, br.seq == 2);
    });
    EXPECT_EQ(packed, owned);
    s.forEachOperationBriefPacked("ghost", [&](const Store::OperationBrief&) { ++none; });
    EXPECT_EQ(none, 0);
    // Whole operations of one state, in creation order (a restart reads those in progress so).
    std::vector<Operation> inProgress, failed;
    s.forEachOperationInState("o", OperationState::InProgress, [&](const Operation& op) { inProgress.push_back(op); });
    s.forEachOperationInState("o", OperationState::Failed, [&](const Operation& op) { failed.push_back(op); });
    s.forEachOperationInState("ghost", OperationState::Pending, [&](const Operation&) { ++none; });
    EXPECT_EQ(inProgress, std::vector<Operation>{b});
    EXPECT_EQ(failed, std::vector<Operation>{a});
    EXPECT_EQ(none, 0);
}

TYPED_TEST_P(StoreContract, RescheduleChangesOnlyTheScheduleFields) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    Operation a = makeOp("o", "a", 10, 0);
    a.startAt = 100;
    a.maintenanceWindowBegin = 100;
    a.maintenanceWindowEnd = 200;
    Operation b = makeOp("o", "b", 10, 1);
    Operation c = makeOp("o", "c", 10, 2);
    s.insertOperations({a, b, c});
    const std::string why = "maintenance window missed, moved to the next window";
    s.rescheduleOperations("o", {{"a", 5000, 5000, 6000}, {"c", 7000, 7000, 8000}}, &why, 999);
    Operation want = a;
    want.startAt = 5000;
    want.maintenanceWindowBegin = 5000;
    want.maintenanceWindowEnd = 6000;
    want.description = why;
    want.updatedAt = 999;
    EXPECT_EQ(*s.getOperation("o", "a"), want);
    EXPECT_EQ(*s.getOperation("o", "b"), b);
    EXPECT_EQ(s.getOperation("o", "c")->startAt, 7000);
    // Without a description only the times change. A wrong seq hint (a's) still finds b only.
    s.rescheduleOperations("o", {{"b", 42, 40, 50, 0}}, nullptr, 1000);
    Operation wb = b;
    wb.startAt = 42;
    wb.maintenanceWindowBegin = 40;
    wb.maintenanceWindowEnd = 50;
    wb.updatedAt = 1000;
    EXPECT_EQ(*s.getOperation("o", "b"), wb);
    EXPECT_EQ(*s.getOperation("o", "a"), want);
    s.rescheduleOperations("o", {{"b", 43, 40, 50, 1}}, nullptr, 1001);  // the right hint
    EXPECT_EQ(s.getOperation("o", "b")->startAt, 43);
    // All or nothing: an unknown operation changes nothing.
    EXPECT_THROW(s.rescheduleOperations("o", {{"c", 1, 1, 2}, {"ghost", 1, 1, 2}}, &why, 5), std::exception);
    EXPECT_EQ(s.getOperation("o", "c")->startAt, 7000);
    EXPECT_THROW(s.rescheduleOperations("nowhere", {{"a", 1, 1, 2}}, nullptr, 5), std::exception);
    // Order and counts are untouched.
    EXPECT_EQ(ids(s.operationsOf("o")), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 3);
}

TYPED_TEST_P(StoreContract, ProgressChangesOnlyItsFields) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    const std::string uuid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
    Operation a = makeOp("o", "a", 10, 0);
    Operation b = makeOp("o", uuid, 10, 1);
    Operation c = makeOp("o", "c", 10, 2);
    s.insertOperations({a, b, c});

    // Start: state, description, startedAt, window; everything else is kept.
    const std::string started = "upgrade started";
    Store::ProgressChange start;
    start.operationID = uuid;
    start.seq = 1;
    start.state = OperationState::InProgress;
    start.description = &started;
    start.updatedAt = 500;
    start.startedAt = 450;
    start.window = std::make_pair(Millis{400}, Millis{4000});
    s.updateOperationProgress("o", start);
    Operation want = b;
    want.state = OperationState::InProgress;
    want.description = started;
    want.updatedAt = 500;
    want.startedAt = 450;
    want.maintenanceWindowBegin = 400;
    want.maintenanceWindowEnd = 4000;
    EXPECT_EQ(*s.getOperation("o", uuid), want);
    EXPECT_EQ(s.operationStats("o")[OperationState::InProgress], 1);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 2);

    // Acknowledged: only the flag and updatedAt (no description given: unchanged).
    Store::ProgressChange ack;
    ack.operationID = uuid;
    ack.seq = 1;
    ack.state = OperationState::InProgress;
    ack.updatedAt = 600;
    ack.upgradeStarted = true;
    s.updateOperationProgress("o", ack);
    want.updatedAt = 600;
    want.upgradeStarted = true;
    EXPECT_EQ(*s.getOperation("o", uuid), want);

    // A wrong seq hint still finds the operation by its id, and never changes the one at that seq.
    const std::string done = "upgrade succeeded";
    Store::ProgressChange finish;
    finish.operationID = uuid;
    finish.seq = 2;  // c's seq
    finish.state = OperationState::Succeeded;
    finish.description = &done;
    finish.updatedAt = 700;
    s.updateOperationProgress("o", finish);
    want.state = OperationState::Succeeded;
    want.description = done;
    want.updatedAt = 700;
    EXPECT_EQ(*s.getOperation("o", uuid), want);
    EXPECT_EQ(*s.getOperation("o", "c"), c);
    finish.operationID = "a";
    finish.seq = -1;  // no hint
    s.updateOperationProgress("o", finish);
    EXPECT_EQ(s.getOperation("o", "a")->state, OperationState::Succeeded);
    EXPECT_EQ(s.getOperation("o", "a")->runtimeID, a.runtimeID);

    // Unknown operation or orchestration: throws, nothing changes.
    finish.operationID = "ghost";
    finish.seq = 2;
    EXPECT_THROW(s.updateOperationProgress("o", finish), std::exception);
    finish.operationID = "c";
    EXPECT_THROW(s.updateOperationProgress("nowhere", finish), std::exception);
    EXPECT_EQ(*s.getOperation("o", "c"), c);
    // Filters and counts follow the new states; the order is unchanged.
    EXPECT_EQ(s.operationStats("o")[OperationState::Succeeded], 2);
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 1);
    OperationQuery q;
    q.states = {OperationState::Succeeded};
    EXPECT_EQ(ids(s.listOperations("o", q).data), (std::vector<std::string>{"a", uuid}));
    EXPECT_EQ(ids(s.operationsOf("o")), (std::vector<std::string>{"a", uuid, "c"}));
}

// Everything a reader can see, for "nothing changed" checks.
struct Snapshot {
    std::vector<Orchestration> orchestrations;
    std::vector<std::vector<Operation>> operations;  // per orchestration, in list order
    std::vector<OperationStats> stats;
    StoreReader::StateCounts counts;
    std::vector<Notification> outbox;  // SPEC 14: undelivered notifications
    bool operator==(const Snapshot&) const = default;
};
inline Snapshot snapshotOf(StoreReader& s) {
    Snapshot out;
    OrchestrationQuery q;
    q.pageSize = 1000;
    out.orchestrations = s.listOrchestrations(q).data;
    for (const Orchestration& o : out.orchestrations) {
        out.operations.push_back(s.operationsOf(o.orchestrationID));
        out.stats.push_back(s.operationStats(o.orchestrationID));
    }
    out.counts = s.stateCounts();
    out.outbox = s.pendingNotifications(1000000);
    return out;
}

TYPED_TEST_P(StoreContract, BatchAppliesEveryPartInOrder) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOperations({makeOp("o", "a", 10, 0), makeOp("o", "b", 10, 1), makeOp("o", "c", 10, 2)});
    const std::string started = "upgrade started", missed = "window missed";

    Store::WriteBatch b;
    EXPECT_TRUE(b.empty());
    Orchestration fresh = makeOrch("fresh", 5, OrchestrationState::Pending);
    b.insertedOrchestrations.push_back(fresh);
    Orchestration o = *s.getOrchestration("o");
    o.description = "scheduled more";
    o.updatedAt = 50;
    b.updatedOrchestrations.push_back(o);
    b.insertedOperations = {makeOp("o", "d", 20, 3), makeOp("fresh", "f0", 5, 0)};  // into the new one too
    int produced = 0;
    b.operationSource = [&](Operation& out) {
        if (produced == 3) return false;
        ++produced;
        out = makeOp("fresh", "f" + std::to_string(produced), 5, produced);
        return true;
    };
    Operation a = *s.getOperation("o", "a");
    a.state = OperationState::Failed;
    a.description = "whole record";
    a.updatedAt = 60;
    b.updatedOperations.push_back(a);
    b.moves.push_back({"o", {{"b", 700, 700, 800, 1}, {"d", 900, 900, 1000, 3}}, missed, 70});
    b.moves.push_back({"fresh", {{"f2", 5, 5, 6, 2}}, std::nullopt, 71});
    Store::ProgressChange pc;
    pc.operationID = "d";  // inserted by this batch, moved by it, then started
    pc.seq = 3;
    pc.state = OperationState::InProgress;
    pc.description = &started;
    pc.updatedAt = 80;
    pc.startedAt = 79;
    pc.window = std::make_pair(Millis{75}, Millis{85});
    b.progress.push_back({"o", pc});
    EXPECT_FALSE(b.empty());
    s.apply(b);

    EXPECT_EQ(produced, 3);
    EXPECT_EQ(*s.getOrchestration("fresh"), fresh);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    EXPECT_EQ(*s.getOperation("o", "a"), a);
    Operation wantB = makeOp("o", "b", 10, 1);
    wantB.startAt = 700;
    wantB.maintenanceWindowBegin = 700;
    wantB.maintenanceWindowEnd = 800;
    wantB.description = missed;
    wantB.updatedAt = 70;
    EXPECT_EQ(*s.getOperation("o", "b"), wantB);
    EXPECT_EQ(*s.getOperation("o", "c"), makeOp("o", "c", 10, 2));
    Operation wantD = makeOp("o", "d", 20, 3);
    wantD.startAt = 900;  // the move, then the progress change's own window, state and description
    wantD.maintenanceWindowBegin = 75;
    wantD.maintenanceWindowEnd = 85;
    wantD.state = OperationState::InProgress;
    wantD.description = started;
    wantD.updatedAt = 80;
    wantD.startedAt = 79;
    EXPECT_EQ(*s.getOperation("o", "d"), wantD);
    Operation wantF2 = makeOp("fresh", "f2", 5, 2);
    wantF2.startAt = 5;
    wantF2.maintenanceWindowBegin = 5;
    wantF2.maintenanceWindowEnd = 6;
    wantF2.updatedAt = 71;  // no description given: kept
    EXPECT_EQ(*s.getOperation("fresh", "f2"), wantF2);
    EXPECT_EQ(ids(s.operationsOf("fresh")), (std::vector<std::string>{"f0", "f1", "f2", "f3"}));
    EXPECT_EQ(ids(s.operationsOf("o")), (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_EQ(s.operationStats("o")[OperationState::Pending], 2);
    EXPECT_EQ(s.operationStats("o")[OperationState::Failed], 1);
    EXPECT_EQ(s.operationStats("o")[OperationState::InProgress], 1);
    EXPECT_EQ(s.operationStats("fresh")[OperationState::Pending], 4);
    OperationQuery q;
    q.states = {OperationState::InProgress};
    EXPECT_EQ(ids(s.listOperations("o", q).data), (std::vector<std::string>{"d"}));

    b.clear();
    EXPECT_TRUE(b.empty());
    const Snapshot before = snapshotOf(s);
    s.apply(b);  // an empty batch writes nothing
    EXPECT_EQ(snapshotOf(s), before);
}

TYPED_TEST_P(StoreContract, BatchIsAllOrNothing) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOrchestration(makeOrch("p", 2, OrchestrationState::Pending));
    s.insertOperations({makeOp("o", "a", 10, 0), makeOp("o", "b", 10, 1), makeOp("p", "x", 10, 0)});
    const std::string text = "a description no record had before";

    // A batch with every part, each one valid: `breakIt` then spoils one part.
    auto full = [&](std::function<void(Store::WriteBatch&)> breakIt) {
        Store::WriteBatch b;
        b.insertedOrchestrations.push_back(makeOrch("new-orch", 0, OrchestrationState::Pending));
        Orchestration o = *s.getOrchestration("o");
        o.state = OrchestrationState::Succeeded;
        o.createdAt = 100;  // moves it in the orchestration order
        o.description = text;
        b.updatedOrchestrations.push_back(o);
        b.insertedOperations = {makeOp("o", "n1", 5, 2), makeOp("new-orch", "m1", 5, 0)};
        b.operationSource = [i = 0](Operation& out) mutable {
            if (i == 50) return false;
            out = makeOp("o", "s" + std::to_string(i), 1, 100 + i);
            out.description = "streamed " + std::to_string(i++);  // new pool strings
            return true;
        };
        Operation a = *s.getOperation("o", "a");
        a.state = OperationState::Canceled;
        a.createdAt = 99;  // moves it in the operation order
        a.description = text + " (a)";
        b.updatedOperations.push_back(a);
        b.moves.push_back({"o", {{"b", 1, 1, 2, 1}}, text + " (moved)", 5});
        Store::ProgressChange c;
        c.operationID = "x";
        c.seq = 0;
        c.state = OperationState::Succeeded;
        c.updatedAt = 9;
        b.progress.push_back({"p", c});
        b.notifications.push_back(Notification{Notification::Kind::Start, "o", R"({"orchestrationId":"o"})", 0});
        breakIt(b);
        return b;
    };
    const Snapshot before = snapshotOf(s);
    const std::vector<std::pair<std::string, std::function<void(Store::WriteBatch&)>>> faults = {
        {"an orchestration that exists", [](Store::WriteBatch& b) { b.insertedOrchestrations.push_back(makeOrch("p", 3)); }},
        {"an unknown orchestration updated", [](Store::WriteBatch& b) { b.updatedOrchestrations.push_back(makeOrch("ghost", 3)); }},
        {"an operation that exists", [](Store::WriteBatch& b) { b.insertedOperations.push_back(makeOp("o", "b", 1, 7)); }},
        {"an operation of an unknown orchestration", [](Store::WriteBatch& b) { b.insertedOperations.push_back(makeOp("ghost", "g", 1, 7)); }},
        {"a duplicate from the producer", [](Store::WriteBatch& b) {
             b.operationSource = [i = 0](Operation& out) mutable {
                 if (i == 30) return false;
                 out = makeOp("o", i == 29 ? "n1" : "t" + std::to_string(i), 1, 200 + i);
                 ++i;
                 return true;
             };
         }},
        {"a producer that throws", [](Store::WriteBatch& b) {
             b.operationSource = [i = 0](Operation& out) mutable {
                 if (i == 20) throw std::runtime_error("producer failed");
                 out = makeOp("o", "t" + std::to_string(i), 1, 200 + i);
                 ++i;
                 return true;
             };
         }},
        {"an unknown operation updated", [](Store::WriteBatch& b) { b.updatedOperations.push_back(makeOp("o", "ghost", 1, 9)); }},
        {"an unknown operation moved", [](Store::WriteBatch& b) { b.moves.back().changes.push_back({"ghost", 1, 1, 2, 1}); }},
        {"a move in an unknown orchestration", [](Store::WriteBatch& b) { b.moves.push_back({"ghost", {{"a", 1, 1, 2, 0}}, std::nullopt, 5}); }},
        {"an unknown operation in the last progress change", [](Store::WriteBatch& b) {
             Store::ProgressChange c;
             c.operationID = "ghost";
             c.seq = 0;  // a's seq: the hint must not find a
             c.state = OperationState::Failed;
             b.progress.push_back({"o", c});
         }},
    };
    for (const auto& [what, breakIt] : faults) {
        EXPECT_THROW(s.apply(full(breakIt)), std::exception) << what;
        EXPECT_EQ(snapshotOf(s), before) << what << ": a failed batch changed the store";
        EXPECT_FALSE(s.getOrchestration("new-orch").has_value()) << what;
        Operation buf;
        EXPECT_FALSE(s.readOperationAt("o", "n1", 2, buf)) << what;
        EXPECT_TRUE(s.readOperationAt("o", "a", 0, buf)) << what;
        EXPECT_EQ(buf, makeOp("o", "a", 10, 0)) << what;
    }
    // The same batch without a fault goes in whole, and the store is still consistent.
    s.apply(full([](Store::WriteBatch&) {}));
    EXPECT_EQ(s.getOrchestration("o")->state, OrchestrationState::Succeeded);
    EXPECT_EQ(ids(s.listOrchestrations({}).data), (std::vector<std::string>{"new-orch", "p", "o"}));
    EXPECT_EQ(s.operationsOf("o").size(), 2u + 1 + 50);
    EXPECT_EQ(ids(s.operationsOf("new-orch")), (std::vector<std::string>{"m1"}));
    EXPECT_EQ(s.operationsOf("o").back().operationID, "a");  // createdAt 99: last
    EXPECT_EQ(s.getOperation("o", "b")->description, text + " (moved)");
    EXPECT_EQ(s.getOperation("p", "x")->state, OperationState::Succeeded);
    EXPECT_EQ(s.operationStats("o")[OperationState::Canceled], 1);
    EXPECT_EQ(s.stateCounts().operations[OperationState::Pending], 3 + 50);  // b, n1, m1 and the stream
    EXPECT_EQ(s.pendingNotificationCount(), 1) << "the outbox row came with the rest, once";
}

// SPEC 14: the outbox. Rows come with a batch, get sequences 1, 2, 3, ... in write order, are read
// lowest first up to a limit and disappear once marked delivered.
TYPED_TEST_P(StoreContract, OutboxKeepsNotificationsUntilDelivered) {
    Store& s = this->store();
    EXPECT_EQ(s.pendingNotificationCount(), 0);
    EXPECT_TRUE(s.pendingNotifications(10).empty());
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.insertOperations({makeOp("o", "a", 1, 0)});
    auto note = [](Notification::Kind k, const std::string& payload) {
        return Notification{k, "o", payload, 0};
    };
    Store::WriteBatch b;
    b.notifications = {note(Notification::Kind::Create, R"({"tenants":[]})"),
                       note(Notification::Kind::Start, "{\"x\":\"\u00e9 \\\" ' \"}")};
    s.apply(b);  // an outbox-only batch is a write too
    Store::WriteBatch p;
    Store::ProgressChange c;
    c.operationID = "a";
    c.seq = 0;
    c.state = OperationState::Succeeded;
    c.updatedAt = 5;
    p.progress.push_back({"o", c});
    p.notifications = {note(Notification::Kind::End, "end"), note(Notification::Kind::Cancel, "cancel")};
    s.apply(p);  // a one-progress batch (a store's fast path) with its rows
    EXPECT_EQ(s.getOperation("o", "a")->state, OperationState::Succeeded);
    EXPECT_EQ(s.pendingNotificationCount(), 4);
    std::vector<Notification> all = s.pendingNotifications(100);
    ASSERT_EQ(all.size(), 4u);
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].sequence, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(all[0].kind, Notification::Kind::Create);
    EXPECT_EQ(all[1].kind, Notification::Kind::Start);
    EXPECT_EQ(all[1].payload, b.notifications[1].payload) << "payload bytes kept exactly";
    EXPECT_EQ(all[2].kind, Notification::Kind::End);
    EXPECT_EQ(all[3].payload, "cancel");
    EXPECT_EQ(all[3].orchestrationID, "o");
    EXPECT_EQ(s.pendingNotifications(2).size(), 2u);
    EXPECT_EQ(s.pendingNotifications(2)[1].sequence, 2);

    s.markNotificationsDelivered({1, 3, 99});  // 99: unknown, ignored
    EXPECT_EQ(s.pendingNotificationCount(), 2);
    all = s.pendingNotifications(100);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].sequence, 2);
    EXPECT_EQ(all[1].sequence, 4);
    s.markNotificationsDelivered({1});  // already delivered: nothing happens
    EXPECT_EQ(s.pendingNotificationCount(), 2);
    s.markNotificationsDelivered({});

    // Sequences are never reused, even after every row was delivered.
    s.markNotificationsDelivered({2, 4});
    EXPECT_EQ(s.pendingNotificationCount(), 0);
    Store::WriteBatch more;
    more.notifications = {note(Notification::Kind::Cancel, "again")};
    s.apply(more);
    all = s.pendingNotifications(10);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].sequence, 5);

    if (!this->reopen()) return;  // durable stores keep the outbox and its sequence
    Store& r = this->store();
    all = r.pendingNotifications(10);
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].sequence, 5);
    EXPECT_EQ(all[0].payload, "again");
    r.markNotificationsDelivered({5});
    r.apply(more);
    EXPECT_EQ(r.pendingNotifications(10).at(0).sequence, 6);
}

// Rows an operation producer adds while it runs (the engine's create event lists the tenants it
// produced) are written with the batch; a batch that fails writes none.
TYPED_TEST_P(StoreContract, OutboxRowsFromTheProducerAndFailedBatches) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("o", 1, OrchestrationState::Pending));
    Store::WriteBatch b;
    b.updatedOrchestrations.push_back(*s.getOrchestration("o"));
    b.operationSource = [&b, i = 0](Operation& out) mutable {
        if (i == 3) {
            b.notifications.push_back(Notification{Notification::Kind::Create, "o", "three", 0});
            return false;
        }
        out = makeOp("o", "s" + std::to_string(i), 1, i);
        ++i;
        return true;
    };
    s.apply(b);
    EXPECT_EQ(s.operationsOf("o").size(), 3u);
    ASSERT_EQ(s.pendingNotificationCount(), 1);
    EXPECT_EQ(s.pendingNotifications(1)[0].payload, "three");

    Store::WriteBatch bad;
    bad.updatedOperations.push_back(makeOp("o", "ghost", 1, 9));
    bad.notifications.push_back(Notification{Notification::Kind::End, "o", "lost", 0});
    EXPECT_THROW(s.apply(bad), std::exception);
    Store::WriteBatch badProgress;  // the one-progress shape
    Store::ProgressChange c;
    c.operationID = "ghost";
    c.state = OperationState::Failed;
    badProgress.progress.push_back({"o", c});
    badProgress.notifications.push_back(Notification{Notification::Kind::End, "o", "lost", 0});
    EXPECT_THROW(s.apply(badProgress), std::exception);
    EXPECT_EQ(s.pendingNotificationCount(), 1) << "a failed batch wrote outbox rows";
    Store::WriteBatch ok;
    ok.notifications.push_back(Notification{Notification::Kind::End, "o", "next", 0});
    s.apply(ok);
    EXPECT_EQ(s.pendingNotifications(5).back().sequence, 2) << "a failed batch used up a sequence";
}

TYPED_TEST_P(StoreContract, StateCountsCoverTheWholeStore) {
    Store& s = this->store();
    StoreReader::StateCounts empty = s.stateCounts();
    EXPECT_EQ(empty.orchestrations.size(), static_cast<std::size_t>(kOrchestrationStateCount))
        << "every state present, zeros included (paused too)";
    EXPECT_EQ(empty.operations.size(), 5u);
    for (const auto& [st, n] : empty.orchestrations) EXPECT_EQ(n, 0);
    for (const auto& [st, n] : empty.operations) EXPECT_EQ(n, 0);
    // More orchestrations than one default page (100) of listOrchestrations.
    for (int i = 0; i < 130; ++i)
        s.insertOrchestration(makeOrch("o" + std::to_string(i), i, i % 3 ? OrchestrationState::Succeeded : OrchestrationState::Failed));
    s.insertOperations({makeOp("o0", "a", 1, 0), makeOp("o0", "b", 1, 1, OperationState::Failed),
                        makeOp("o129", "a", 1, 0, OperationState::Canceled)});
    StoreReader::StateCounts c = s.stateCounts();
    EXPECT_EQ(c.orchestrations[OrchestrationState::Failed], 44);
    EXPECT_EQ(c.orchestrations[OrchestrationState::Succeeded], 86);
    EXPECT_EQ(c.orchestrations[OrchestrationState::Pending], 0);
    EXPECT_EQ(c.operations[OperationState::Pending], 1);
    EXPECT_EQ(c.operations[OperationState::Failed], 1);
    EXPECT_EQ(c.operations[OperationState::Canceled], 1);
    Orchestration o = *s.getOrchestration("o1");
    o.state = OrchestrationState::Retrying;
    s.updateOrchestration(o);
    c = s.stateCounts();
    EXPECT_EQ(c.orchestrations[OrchestrationState::Retrying], 1);
    EXPECT_EQ(c.orchestrations[OrchestrationState::Succeeded], 85);
}

// SPEC 10: paused is not final. A restart takes paused orchestrations up again (they are among the
// unfinished ones), the state filter and the per-state counts know it, and it survives a reopen.
TYPED_TEST_P(StoreContract, PausedIsUnfinishedFilterableAndCounted) {
    Store& s = this->store();
    s.insertOrchestration(makeOrch("done", 1, OrchestrationState::Succeeded));
    s.insertOrchestration(makeOrch("p2", 40, OrchestrationState::Paused));
    s.insertOrchestration(makeOrch("i", 20, OrchestrationState::InProgress));
    s.insertOrchestration(makeStagedOrch("p1", 10, OrchestrationState::Paused));
    s.insertOrchestration(makeOrch("f", 5, OrchestrationState::Failed));
    EXPECT_EQ(ids(s.unfinishedOrchestrations()), (std::vector<std::string>{"p1", "i", "p2"}));
    OrchestrationQuery q;
    q.states = {OrchestrationState::Paused};
    auto page = s.listOrchestrations(q);
    EXPECT_EQ(ids(page.data), (std::vector<std::string>{"p1", "p2"}));
    EXPECT_EQ(page.totalCount, 2);
    q.states = {OrchestrationState::Paused, OrchestrationState::InProgress};
    q.pageSize = 2;
    q.page = 2;
    page = s.listOrchestrations(q);
    EXPECT_EQ(ids(page.data), (std::vector<std::string>{"p2"}));
    EXPECT_EQ(page.count, 1);
    EXPECT_EQ(page.totalCount, 3);
    EXPECT_EQ(s.stateCounts().orchestrations[OrchestrationState::Paused], 2);

    // Resume one, pause another: filters and counters follow.
    Orchestration p2 = *s.getOrchestration("p2");
    p2.state = OrchestrationState::InProgress;
    p2.description = "resumed by operator";
    s.updateOrchestration(p2);
    Orchestration i = *s.getOrchestration("i");
    i.state = OrchestrationState::Paused;
    i.description = "paused by operator";
    s.updateOrchestration(i);
    q = {};
    q.states = {OrchestrationState::Paused};
    EXPECT_EQ(ids(s.listOrchestrations(q).data), (std::vector<std::string>{"p1", "i"}));
    StoreReader::StateCounts c = s.stateCounts();
    EXPECT_EQ(c.orchestrations[OrchestrationState::Paused], 2);
    EXPECT_EQ(c.orchestrations[OrchestrationState::InProgress], 1);
    EXPECT_EQ(ids(s.unfinishedOrchestrations()), (std::vector<std::string>{"p1", "i", "p2"}));

    const Orchestration p1 = *s.getOrchestration("p1");
    EXPECT_EQ(p1, makeStagedOrch("p1", 10, OrchestrationState::Paused));
    if (!this->reopen()) return;
    Store& r = this->store();
    EXPECT_EQ(ids(r.unfinishedOrchestrations()), (std::vector<std::string>{"p1", "i", "p2"}));
    EXPECT_EQ(*r.getOrchestration("p1"), p1);
    EXPECT_EQ(*r.getOrchestration("i"), i);
    EXPECT_EQ(r.stateCounts().orchestrations[OrchestrationState::Paused], 2);
}

// SPEC 10: the orchestration's rollout progress (stage cursor, soak, acknowledged failures) and
// its stages, budgets and blackouts round-trip through every write; so does an operation's stage,
// which only a whole-record write may change (progress and moves keep it).
TYPED_TEST_P(StoreContract, RolloutAndStageRoundTrip) {
    Store& s = this->store();
    Orchestration o = makeStagedOrch("o", 100, OrchestrationState::Pending);
    o.rollout = {};  // not resolved yet
    s.insertOrchestration(o);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    std::vector<Operation> ops;
    for (int i = 0; i < 5; ++i) {
        Operation op = makeOp("o", "op" + std::to_string(i), 200, i);
        op.stage = i < 2 ? "canary" : "rest";
        ops.push_back(op);
    }
    // Resolution: orchestration + first stage in one write, the second stage streamed.
    o = makeStagedOrch("o", 100, OrchestrationState::InProgress);
    s.updateOrchestrationWithOperations(o, {ops[0]}, {});
    s.insertOperations({ops[1]});
    std::size_t next = 2;
    s.updateOrchestrationAddingOperations(o, [&](Operation& out) {
        if (next == 4) return false;
        out = ops[next++];
        return true;
    });
    Store::WriteBatch insert;
    insert.insertedOperations = {ops[4]};
    s.apply(insert);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    EXPECT_EQ(s.operationsOf("o"), ops);
    EXPECT_EQ(s.listOperations("o", {}).data, ops);
    for (const Operation& op : ops) EXPECT_EQ(*s.getOperation("o", op.operationID), op);

    // Progress, a move and a batch with both: the stage stays.
    const std::string started = "upgrade started", moved = "blackout: moved to 2026-01-03T00:00:00Z";
    Store::ProgressChange pc;
    pc.operationID = "op0";
    pc.seq = 0;
    pc.state = OperationState::InProgress;
    pc.description = &started;
    pc.updatedAt = 300;
    pc.startedAt = 300;
    pc.upgradeStarted = true;
    s.updateOperationProgress("o", pc);
    Store::applyProgress(pc, ops[0]);
    s.rescheduleOperations("o", {{"op3", 9000, 9000, 9500, 3}}, &moved, 310);
    Store::applySchedule({"op3", 9000, 9000, 9500, 3}, &moved, 310, ops[3]);
    Store::WriteBatch b;
    o.rollout.stages[0].state = StageState::Succeeded;
    o.rollout.stages[0].soakUntil = 0;
    o.rollout.stages[1].state = StageState::InProgress;
    o.rollout.stages[1].startedAt = 400;
    o.rollout.acknowledgedFailures = 3;
    o.state = OrchestrationState::Paused;
    o.description = "paused: stage \"rest\": 1 failed operations exceed its budget of 0";
    b.updatedOrchestrations.push_back(o);
    Store::WriteBatch::Moves mv;
    mv.orchestrationID = "o";
    mv.changes = {{"op4", 9100, 9100, 9600, 4}};
    mv.updatedAt = 400;
    b.moves.push_back(mv);
    Store::applySchedule(mv.changes[0], nullptr, 400, ops[4]);
    Store::WriteBatch::Progress bp;
    bp.orchestrationID = "o";
    bp.change.operationID = "op2";
    bp.change.seq = 2;
    bp.change.state = OperationState::Failed;
    bp.change.updatedAt = 401;
    b.progress.push_back(bp);
    Store::applyProgress(bp.change, ops[2]);
    s.apply(b);
    EXPECT_EQ(*s.getOrchestration("o"), o);
    EXPECT_EQ(s.operationsOf("o"), ops);
    std::vector<Operation> seen;
    s.forEachOperation("o", [&](const Operation& op) { seen.push_back(op); });
    EXPECT_EQ(seen, ops);
    Operation buffer = makeOp("x", "y", 1, 1);
    buffer.stage = "a-much-longer-stage-name-left-in-the-buffer";
    ASSERT_TRUE(s.readOperation("o", "op1", buffer));
    EXPECT_EQ(buffer, ops[1]);
    ASSERT_TRUE(s.readOperationAt("o", "op4", 4, buffer));
    EXPECT_EQ(buffer, ops[4]);

    // A whole-record update may clear or change the stage (a retried operation is unstaged).
    ops[1].stage.clear();
    ops[1].state = OperationState::Succeeded;
    ops[4].stage = "canary";
    s.updateOperations({ops[1], ops[4]});
    EXPECT_EQ(s.operationsOf("o"), ops);
    OperationQuery failed;
    failed.states = {OperationState::Failed};
    EXPECT_EQ(s.listOperations("o", failed).data, std::vector<Operation>{ops[2]});

    // The page fast paths (when the store has them) render the stage like the JSON path, and
    // leave a staged orchestration to the JSON path (its answer adds `stages`).
    if (OperationPageSource* pages = s.pageSource()) {
        std::string text;
        ASSERT_TRUE(pages->appendOperationPage("o", {}, text));
        EXPECT_EQ(text, dumpWire(pageJson(s.listOperations("o", {}))));
        EXPECT_NE(text.find("\"stage\":\"rest\""), std::string::npos) << text;
        text = "keep";
        EXPECT_EQ(pages->appendOrchestration("o", text), OperationPageSource::Render::Unavailable);
        EXPECT_EQ(text, "keep");
        s.insertOrchestration(makeOrch("plain", 1));
        EXPECT_EQ(pages->appendOrchestration("plain", text), OperationPageSource::Render::Found);
    }

    if (!this->reopen()) return;
    Store& r = this->store();
    EXPECT_EQ(*r.getOrchestration("o"), o);
    EXPECT_EQ(r.operationsOf("o"), ops);
}

REGISTER_TYPED_TEST_SUITE_P(StoreContract, InsertGetUpdateOrchestration, InsertGetUpdateOperationAllFields,
                            OrchestrationOrderIsCreatedAtThenId, OperationOrderIsCreatedAtThenSeqThenId,
                            FiltersWithSeveralStates, PagingEdges, Stats, UnfinishedOrchestrationsInCreationOrder,
                            BatchesAreAtomic, ReopenKeepsEverything, ForEachOperationVisitsInCreationOrder,
                            StreamedInsertAddsOperationsAndUpdatesOrchestration, StreamedInsertIsAtomic,
                            UpdateKeepsOrderAndFiltersConsistent, ReadOperationIntoAUsedBuffer,
                            RescheduleChangesOnlyTheScheduleFields, BriefsMatchTheOperations,
                            ProgressChangesOnlyItsFields, BatchAppliesEveryPartInOrder, BatchIsAllOrNothing,
                            StateCountsCoverTheWholeStore, PausedIsUnfinishedFilterableAndCounted,
                            RolloutAndStageRoundTrip, OutboxKeepsNotificationsUntilDelivered,
                            OutboxRowsFromTheProducerAndFailedBatches);

}  // namespace keb::contract
