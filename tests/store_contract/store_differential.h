// The randomised differential test of a Store against the plain ReferenceStore
// (keb/reference_store.h): the same random writes go into both (every write method, apply()
// batches, failing ones included: unknown ids, duplicates, failing producers, wrong seq hints),
// each write must succeed or throw in both, and every read must answer the same: orchestrations
// and their pages and filters, unfinished ones, state counts, every operation by id
// (getOperation, readOperation into a used buffer, readOperationAt with right, wrong and no seq
// hints), operation pages and filters, operationsOf, operationStats, forEachOperation,
// forEachOperationBrief, and the page fast paths (pageSource()) against the JSON path of the
// reference's answer. Extra readers (e.g. a read-only SQLite connection on the same file) are
// checked the same way.
//
//   DifferentialRun run(store, seed);
//   run.alsoCheck(&reader);   // optional
//   run.run(steps);
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "keb/api.h"
#include "keb/reference_store.h"
#include "keb/wire.h"
#include "store_contract.h"

namespace keb::contract {

class DifferentialRun {
public:
    DifferentialRun(Store& real, std::uint64_t seed) : real_(real), rng_(seed), seed_(seed) { readers_.push_back(&real); }
    void alsoCheck(StoreReader* reader) { readers_.push_back(reader); }

    // `steps` random writes, a full comparison every `fullEvery` of them and at the end.
    void run(int steps, int fullEvery = 10) {
        for (step_ = 0; step_ < steps; ++step_) {
            write();
            if (::testing::Test::HasFatalFailure()) return;
            if (step_ % fullEvery == 0) compareAll();
            if (::testing::Test::HasFatalFailure()) return;
        }
        compareAll();
        // The run did something: stores held operations and batches failed and succeeded.
        std::printf("differential seed %llu: %zu operations in %zu orchestrations, %d of %d writes failed, %d batches\n",
                    static_cast<unsigned long long>(seed_), opCount(), orchIDs_.size(), failures_, steps, batches_);
        EXPECT_GT(opCount(), 50u) << where();
        EXPECT_GT(failures_, 10) << where();
        EXPECT_GT(batches_, 20) << where();
    }

private:
    std::string where() const { return "seed " + std::to_string(seed_) + ", step " + std::to_string(step_); }
    std::uint64_t pick(std::uint64_t n) { return n ? rng_() % n : 0; }
    bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

    std::string uuid() {
        static const char* hex = "0123456789abcdef";
        std::string s;
        for (int i = 0; i < 36; ++i) s += (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : hex[rng_() % 16];
        return s;
    }
    // Operation ids: canonical UUIDs (the memory store packs them), upper-case ones and plain text.
    std::string newOperationID() {
        switch (pick(4)) {
            case 0: return "op-" + std::to_string(pick(100000));
            case 1: {
                std::string u = uuid();
                for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                return u;
            }
            default: return uuid();
        }
    }
    std::string text(bool validUtf8) {
        static const std::vector<std::string> texts = {"queued for processing", "upgrade started", "", "a \"quoted\" \\ text",
                                                       "tab\there, newline\nthere", "\xc3\xa9t\xc3\xa9 \xe2\x9c\x93",
                                                       std::string(300, 'q')};
        if (!validUtf8 && chance(5)) return "broken \xff\xc3 utf-8";
        return texts[pick(texts.size())] + (chance(30) ? " #" + std::to_string(pick(1000)) : "");
    }
    OperationState state() { return static_cast<OperationState>(pick(5)); }
    // Every orchestration state, paused (SPEC 10) included.
    OrchestrationState orchestrationState() {
        return static_cast<OrchestrationState>(pick(static_cast<std::uint64_t>(kOrchestrationStateCount)));
    }
    // SPEC 10: a stage name for an operation (mostly none: most operations are not staged).
    std::string stageName() {
        static const std::vector<std::string> names = {"canary", "rest", "eu-2", std::string(40, 'z')};
        return chance(70) ? std::string() : names[pick(names.size())];
    }

    // A known orchestration id (mostly) or one no store has.
    std::string orchestrationID() {
        if (orchIDs_.empty() || chance(4)) return "ghost-orchestration";
        return orchIDs_[pick(orchIDs_.size())];
    }
    // A known operation (mostly) of a known orchestration; or a ghost id.
    std::pair<std::string, std::string> operationRef() {
        const auto& known = knownOps();
        if (known.empty() || chance(5)) return {orchestrationID(), "ghost-" + std::to_string(pick(5))};
        return known[pick(known.size())];
    }
    // (orchestration, operation id) of every operation the reference holds; recomputed after writes.
    const std::vector<std::pair<std::string, std::string>>& knownOps() {
        if (knownStale_) {
            known_.clear();
            for (const std::string& o : orchIDs_)
                for (const Operation& op : ref_.operationsOf(o)) known_.emplace_back(o, op.operationID);
            knownStale_ = false;
        }
        return known_;
    }
    std::size_t opCount() { return knownOps().size(); }

    Orchestration randomOrchestration(const std::string& id) {
        Orchestration o = makeOrch(id, static_cast<Millis>(pick(20)), orchestrationState(),
                                   static_cast<std::int64_t>(pick(10)));
        o.description = text(true);
        o.updatedAt = o.createdAt + static_cast<Millis>(pick(100));
        o.parameters.dryRun = chance(20);
        if (chance(30)) {
            o.type = OrchestrationType::UpgradeCluster;
            o.parameters.kyma.reset();
            o.parameters.kubernetes = KubernetesParams{"1.30." + std::to_string(pick(3)), "gardenlinux", "1443.3"};
        }
        if (chance(20)) {  // SPEC 10: stages, budgets, blackouts, and (mostly) rollout progress
            const Orchestration staged = makeStagedOrch(id, o.createdAt, o.state);
            o.parameters.strategy.stages = staged.parameters.strategy.stages;
            o.parameters.strategy.maxFailures = staged.parameters.strategy.maxFailures;
            if (chance(50)) o.parameters.strategy.blackouts = staged.parameters.strategy.blackouts;
            if (chance(30)) o.parameters.strategy.stages.pop_back();  // one stage without workers left
            if (chance(70)) o.rollout = staged.rollout;
            if (!o.rollout.stages.empty() && chance(30))
                o.rollout.stages[0].acknowledgedFailures = static_cast<std::int64_t>(pick(4));
        } else if (chance(10)) {  // a budget of the whole orchestration only
            o.parameters.strategy.maxFailures = FailureBudget{true, static_cast<std::int64_t>(pick(101))};
            o.rollout.operations = static_cast<std::int64_t>(pick(50));
        }
        return o;
    }
    Operation randomOperation(const std::string& orch, const std::string& id) {
        Operation op = makeOp(orch, id, static_cast<Millis>(pick(30)), static_cast<std::int64_t>(pick(40)), state());
        if (chance(50)) op.runtimeID = uuid();
        if (chance(30)) op.instanceID = uuid();
        if (chance(30)) op.subAccountID = uuid();
        op.description = text(false);
        op.dryRun = chance(20);
        op.immediate = chance(20);
        op.upgradeStarted = chance(20);
        op.startAt = static_cast<Millis>(pick(5000));
        if (chance(40)) {
            op.maintenanceWindowBegin = static_cast<Millis>(pick(5000));
            op.maintenanceWindowEnd = op.maintenanceWindowBegin + static_cast<Millis>(pick(3000));
        }
        if (chance(15)) op.retryOf = uuid();
        op.stage = stageName();
        if (chance(30)) {
            op.kymaConfig.reset();
            if (chance(70)) op.clusterConfig = KubernetesParams{"1.3" + std::to_string(pick(3)), "gardenlinux", "14" + std::to_string(pick(4))};
        }
        return op;
    }
    // A new operation (mostly a fresh id; sometimes one that exists: a duplicate).
    Operation newOperation(const std::string& orch) {
        if (chance(6)) {
            auto [o, id] = operationRef();
            return randomOperation(orch, id);
        }
        return randomOperation(orch, newOperationID());
    }
    // The stored record of a known operation, changed like a full update would (sometimes its
    // order key); a ghost when the reference has none.
    Operation changedOperation() {
        auto [orch, id] = operationRef();
        auto stored = ref_.getOperation(orch, id);
        Operation op = stored ? *stored : randomOperation(orch, id);
        op.state = state();
        op.description = text(false);
        op.updatedAt = static_cast<Millis>(step_);
        op.upgradeStarted = chance(50);
        if (chance(10)) op.seq = static_cast<std::int64_t>(pick(40));
        if (chance(10)) op.createdAt = static_cast<Millis>(pick(30));
        if (chance(10)) op.runtimeID = chance(50) ? uuid() : "rt-" + std::to_string(pick(50));
        if (chance(10)) op.stage = stageName();
        return op;
    }
    // A seq hint: mostly right, sometimes another operation's, none or out of range.
    std::int64_t hint(const std::string& orch, const std::string& id) {
        auto stored = ref_.getOperation(orch, id);
        switch (pick(6)) {
            case 0: return -1;
            case 1: return static_cast<std::int64_t>(pick(40));
            case 2: return 1000000;
            default: return stored ? stored->seq : static_cast<std::int64_t>(pick(40));
        }
    }
    Store::ScheduleChange move() {
        auto [orch, id] = operationRef();
        (void)orch;
        Store::ScheduleChange c;
        c.operationID = id;
        c.startAt = static_cast<Millis>(pick(9000));
        c.windowBegin = c.startAt;
        c.windowEnd = c.startAt + static_cast<Millis>(pick(1000));
        return c;
    }
    Store::ProgressChange progress(const std::string& orch, const std::string& id) {
        Store::ProgressChange c;
        c.operationID = id;
        c.seq = hint(orch, id);
        c.state = state();
        if (chance(60)) c.description = &keep(text(false));
        c.updatedAt = static_cast<Millis>(step_);
        if (chance(40)) c.startedAt = static_cast<Millis>(pick(9000));
        if (chance(40)) c.upgradeStarted = chance(50);
        if (chance(30)) c.window = std::make_pair(static_cast<Millis>(pick(100)), static_cast<Millis>(100 + pick(100)));
        return c;
    }
    const std::string& keep(std::string s) { return strings_.emplace_back(std::move(s)); }
    // A producer of n new operations (a copy starts afresh); throws or repeats an id when told.
    std::function<bool(Operation&)> producer(const std::string& orch, int n, bool throws) {
        std::vector<Operation> ops;
        for (int i = 0; i < n; ++i) ops.push_back(newOperation(orch));
        return [ops = std::move(ops), throws, i = std::size_t{0}](Operation& out) mutable {
            if (i == ops.size()) {
                if (throws) throw std::runtime_error("producer failed");
                return false;
            }
            out = ops[i++];
            return true;
        };
    }
    Store::WriteBatch randomBatch() {
        Store::WriteBatch b;
        if (chance(5)) {
            const std::string id = chance(80) ? "orch-" + std::to_string(orchIDs_.size() + newOrchs_.size()) : orchestrationID();
            b.insertedOrchestrations.push_back(randomOrchestration(id));
            newOrchs_.push_back(id);
        }
        if (chance(30)) {
            const std::string id = orchestrationID();
            auto stored = ref_.getOrchestration(id);
            Orchestration o = stored ? *stored : randomOrchestration(id);
            o.state = orchestrationState();
            o.description = text(true);
            if (chance(20)) o.createdAt = static_cast<Millis>(pick(20));
            b.updatedOrchestrations.push_back(o);
        }
        const std::string target = !b.insertedOrchestrations.empty() && chance(50)
                                       ? b.insertedOrchestrations[0].orchestrationID
                                       : orchestrationID();
        for (int i = static_cast<int>(pick(4)); i > 0; --i) b.insertedOperations.push_back(newOperation(target));
        if (chance(20)) b.operationSource = producer(target, static_cast<int>(pick(6)), chance(10));
        for (int i = chance(50) ? static_cast<int>(pick(3)) : 0; i > 0; --i) b.updatedOperations.push_back(changedOperation());
        if (chance(40)) {
            Store::WriteBatch::Moves m;
            m.orchestrationID = orchestrationID();
            for (int i = static_cast<int>(pick(4)); i > 0; --i) {
                Store::ScheduleChange c = move();
                auto [o, id] = operationRef();
                if (o == m.orchestrationID) c.operationID = id;
                c.seq = hint(m.orchestrationID, c.operationID);
                m.changes.push_back(c);
            }
            if (chance(60)) m.description = text(false);
            m.updatedAt = static_cast<Millis>(step_);
            b.moves.push_back(std::move(m));
        }
        for (int i = chance(50) ? static_cast<int>(pick(4)) : 0; i > 0; --i) {
            auto [orch, id] = operationRef();
            if (!b.insertedOperations.empty() && chance(20)) {  // one the batch inserts itself
                orch = b.insertedOperations.back().orchestrationID;
                id = b.insertedOperations.back().operationID;
            }
            b.progress.push_back({orch, progress(orch, id)});
        }
        return b;
    }

    // Runs the same write on the reference and the real store: both succeed or both throw.
    void both(const char* what, const std::function<void(Store&)>& f) {
        bool refThrew = false, realThrew = false;
        std::string refError, realError;
        try {
            f(ref_);
        } catch (const std::exception& e) {
            refThrew = true;
            refError = e.what();
        }
        try {
            f(real_);
        } catch (const std::exception& e) {
            realThrew = true;
            realError = e.what();
        }
        ASSERT_EQ(realThrew, refThrew) << what << " at " << where() << ": reference "
                                       << (refThrew ? "threw: " + refError : std::string("succeeded")) << ", store "
                                       << (realThrew ? "threw: " + realError : std::string("succeeded"));
        if (refThrew) ++failures_;
    }

    void write() {
        strings_.clear();
        newOrchs_.clear();
        switch (pick(12)) {
            case 0: {
                // A few orchestrations with many operations each (and now and then a duplicate id).
                const bool fresh = orchIDs_.size() < 4 || chance(orchIDs_.size() < 10 ? 40 : 5);
                const std::string id = fresh ? (chance(50) ? uuid() : "orch-" + std::to_string(orchIDs_.size())) : orchestrationID();
                const Orchestration o = randomOrchestration(id);
                both("insertOrchestration", [&](Store& s) { s.insertOrchestration(o); });
                newOrchs_.push_back(id);
                break;
            }
            case 1: {
                const std::string id = orchestrationID();
                auto stored = ref_.getOrchestration(id);
                Orchestration o = stored ? *stored : randomOrchestration(id);
                o.state = orchestrationState();
                o.description = text(true);
                if (chance(30)) o.createdAt = static_cast<Millis>(pick(20));
                both("updateOrchestration", [&](Store& s) { s.updateOrchestration(o); });
                break;
            }
            case 2: {
                std::vector<Operation> ops;
                for (int i = 1 + static_cast<int>(pick(8)); i > 0; --i) ops.push_back(newOperation(orchestrationID()));
                both("insertOperations", [&](Store& s) { s.insertOperations(ops); });
                break;
            }
            case 3: {
                const Operation op = newOperation(orchestrationID());
                both("insertOperation", [&](Store& s) { s.insertOperation(op); });
                break;
            }
            case 4: {
                std::vector<Operation> ops;
                for (int i = 1 + static_cast<int>(pick(4)); i > 0; --i) ops.push_back(changedOperation());
                both("updateOperations", [&](Store& s) { s.updateOperations(ops); });
                break;
            }
            case 5: {
                const Operation op = changedOperation();
                both("updateOperation", [&](Store& s) { s.updateOperation(op); });
                break;
            }
            case 6: {
                const std::string id = orchestrationID();
                auto stored = ref_.getOrchestration(id);
                Orchestration o = stored ? *stored : randomOrchestration(id);
                o.state = orchestrationState();
                std::vector<Operation> inserted, updated;
                for (int i = static_cast<int>(pick(4)); i > 0; --i) inserted.push_back(newOperation(chance(90) ? id : orchestrationID()));
                for (int i = static_cast<int>(pick(3)); i > 0; --i) updated.push_back(changedOperation());
                both("updateOrchestrationWithOperations",
                     [&](Store& s) { s.updateOrchestrationWithOperations(o, inserted, updated); });
                break;
            }
            case 7: {
                const std::string id = orchestrationID();
                auto stored = ref_.getOrchestration(id);
                Orchestration o = stored ? *stored : randomOrchestration(id);
                o.description = text(true);
                const auto source = producer(id, static_cast<int>(pick(12)), chance(10));
                both("updateOrchestrationAddingOperations", [&](Store& s) {
                    auto fresh = source;  // each store gets the producer from its start
                    s.updateOrchestrationAddingOperations(o, fresh);
                });
                break;
            }
            case 8: {
                const std::string orch = orchestrationID();
                std::vector<Store::ScheduleChange> changes;
                for (int i = 1 + static_cast<int>(pick(4)); i > 0; --i) {
                    Store::ScheduleChange c = move();
                    auto [o, id] = operationRef();
                    if (o == orch || chance(70)) c.operationID = id;
                    c.seq = hint(orch, c.operationID);
                    changes.push_back(c);
                }
                const std::string* description = chance(50) ? &keep(text(false)) : nullptr;
                const Millis at = static_cast<Millis>(step_);
                both("rescheduleOperations",
                     [&](Store& s) { s.rescheduleOperations(orch, changes, description, at); });
                break;
            }
            case 9: {
                // (not a structured binding: clang 14 cannot capture one in a lambda)
                const auto ref = operationRef();
                const std::string& orch = ref.first;
                const Store::ProgressChange c = progress(orch, ref.second);
                both("updateOperationProgress", [&](Store& s) { s.updateOperationProgress(orch, c); });
                break;
            }
            default: {
                const Store::WriteBatch b = randomBatch();
                both("apply", [&](Store& s) {
                    Store::WriteBatch copy = b;  // the producer starts afresh for each store
                    s.apply(copy);
                });
                ++batches_;
                break;
            }
        }
        for (const std::string& id : newOrchs_)
            if (ref_.getOrchestration(id) && std::find(orchIDs_.begin(), orchIDs_.end(), id) == orchIDs_.end())
                orchIDs_.push_back(id);
        knownStale_ = true;
    }

    struct OwnedBrief {
        std::string operationID, runtimeID;
        std::int64_t seq;
        OperationState state;
        Millis startAt;
        bool immediate, isRetry;
        bool operator==(const OwnedBrief&) const = default;
    };
    static std::vector<OwnedBrief> briefs(StoreReader& s, const std::string& orch) {
        std::vector<OwnedBrief> out;
        s.forEachOperationBrief(orch, [&](const StoreReader::OperationBrief& b) {
            out.push_back({std::string(b.operationID), std::string(b.runtimeID), b.seq, b.state, b.startAt, b.immediate,
                           b.isRetry});
        });
        return out;
    }

    void compareAll() {
        for (std::size_t r = 0; r < readers_.size(); ++r) {
            compareReader(*readers_[r], r);
            if (::testing::Test::HasFatalFailure()) return;
        }
    }

    void compareReader(StoreReader& s, std::size_t r) {
        const std::string at = where() + ", reader " + std::to_string(r);
        ASSERT_EQ(s.stateCounts(), ref_.stateCounts()) << at;
        ASSERT_EQ(ids(s.unfinishedOrchestrations()), ids(ref_.unfinishedOrchestrations())) << at;
        for (int k = 0; k < 3; ++k) {
            OrchestrationQuery q;
            q.pageSize = 1 + static_cast<int>(pick(6));
            q.page = 1 + static_cast<int>(pick(5));
            if (chance(50)) q.states = {orchestrationState(), orchestrationState()};
            const auto want = ref_.listOrchestrations(q);
            const auto got = s.listOrchestrations(q);
            ASSERT_EQ(got.data, want.data) << at;
            ASSERT_EQ(got.count, want.count) << at;
            ASSERT_EQ(got.totalCount, want.totalCount) << at;
        }
        OperationPageSource* pages = s.pageSource();
        std::vector<std::string> orchs = orchIDs_;
        orchs.push_back("ghost-orchestration");
        Operation buffer;  // reused across reads: every field must be overwritten
        for (const std::string& orch : orchs) {
            ASSERT_EQ(s.getOrchestration(orch), ref_.getOrchestration(orch)) << at << " " << orch;
            const std::vector<Operation> want = ref_.operationsOf(orch);
            ASSERT_EQ(s.operationsOf(orch), want) << at << " " << orch;
            ASSERT_EQ(s.operationStats(orch), ref_.operationStats(orch)) << at << " " << orch;
            std::vector<Operation> seen;
            s.forEachOperation(orch, [&](const Operation& op) { seen.push_back(op); });
            ASSERT_EQ(seen, want) << at << " forEachOperation " << orch;
            ASSERT_EQ(briefs(s, orch), briefs(ref_, orch)) << at << " forEachOperationBrief " << orch;
            for (OperationState st : {OperationState::InProgress, OperationState::Pending, OperationState::Failed}) {
                std::vector<Operation> inState, wantInState;
                s.forEachOperationInState(orch, st, [&](const Operation& op) { inState.push_back(op); });
                for (const Operation& op : want)
                    if (op.state == st) wantInState.push_back(op);
                ASSERT_EQ(inState, wantInState) << at << " forEachOperationInState " << toString(st) << " " << orch;
            }
            for (int k = 0; k < 3; ++k) {
                OperationQuery q;
                q.pageSize = 1 + static_cast<int>(pick(8));
                q.page = 1 + static_cast<int>(pick(6));
                if (chance(50)) q.states = {state(), state()};
                const auto wantPage = ref_.listOperations(orch, q);
                const auto got = s.listOperations(orch, q);
                ASSERT_EQ(got.data, wantPage.data) << at << " " << orch;
                ASSERT_EQ(got.count, wantPage.count) << at;
                ASSERT_EQ(got.totalCount, wantPage.totalCount) << at;
                if (pages) {
                    std::string text = "before:";
                    const bool found = pages->appendOperationPage(orch, q, text);
                    const bool exists = ref_.getOrchestration(orch).has_value();
                    ASSERT_EQ(found, exists) << at << " appendOperationPage " << orch;
                    ASSERT_EQ(text, exists ? "before:" + dumpWire(pageJson(wantPage)) : "before:")
                        << at << " appendOperationPage " << orch;
                }
            }
            if (pages) {
                std::string text = "before:";
                const auto o = ref_.getOrchestration(orch);
                const OperationPageSource::Render r = pages->appendOrchestration(orch, text);
                if (!o) {
                    ASSERT_EQ(r, OperationPageSource::Render::NotFound) << at << " " << orch;
                    ASSERT_EQ(text, "before:");
                } else if (!o->parameters.strategy.stages.empty()) {
                    // Its answer adds `stages` (SPEC 10): the JSON path renders it.
                    ASSERT_EQ(r, OperationPageSource::Render::Unavailable) << at << " staged " << orch;
                    ASSERT_EQ(text, "before:");
                } else {
                    ASSERT_EQ(r, OperationPageSource::Render::Found) << at << " " << orch;
                    const OperationStats stats = ref_.operationStats(orch);
                    ASSERT_EQ(text, "before:" + dumpWire(toJson(*o, &stats))) << at << " appendOrchestration " << orch;
                }
            }
            for (const Operation& op : want) {
                ASSERT_EQ(s.getOperation(orch, op.operationID), op) << at;
                ASSERT_TRUE(s.readOperation(orch, op.operationID, buffer)) << at;
                ASSERT_EQ(buffer, op) << at;
                for (std::int64_t seq : {op.seq, op.seq + 1, std::int64_t{0}, std::int64_t{-1}, std::int64_t{1} << 40}) {
                    ASSERT_TRUE(s.readOperationAt(orch, op.operationID, seq, buffer)) << at << " hint " << seq;
                    ASSERT_EQ(buffer, op) << at << " readOperationAt hint " << seq;
                }
            }
            // Ids that are mostly unknown (a "ghost-N" may have been inserted as a duplicate attempt).
            for (const std::string& ghost : {std::string("ghost-0"), std::string("3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b")}) {
                const bool known = ref_.getOperation(orch, ghost).has_value();
                ASSERT_EQ(s.getOperation(orch, ghost).has_value(), known) << at;
                ASSERT_EQ(s.readOperation(orch, ghost, buffer), known) << at;
                ASSERT_EQ(s.readOperationAt(orch, ghost, 0, buffer), known) << at;
            }
        }
        // An operation is found only under its own orchestration.
        for (const auto& [orch, id] : knownOps()) {
            for (const std::string& other : orchIDs_) {
                if (other == orch) continue;
                ASSERT_EQ(s.getOperation(other, id).has_value(), ref_.getOperation(other, id).has_value()) << at;
            }
        }
    }

    Store& real_;
    ReferenceStore ref_;
    std::vector<StoreReader*> readers_;
    std::mt19937_64 rng_;
    std::uint64_t seed_;
    int step_ = 0;
    int failures_ = 0;
    int batches_ = 0;
    std::vector<std::string> orchIDs_;   // orchestrations the reference holds
    std::vector<std::string> newOrchs_;  // ids the current write may have added
    std::deque<std::string> strings_;    // descriptions the current write points to
    std::vector<std::pair<std::string, std::string>> known_;
    bool knownStale_ = true;
};

}  // namespace keb::contract
