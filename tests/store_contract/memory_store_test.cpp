// MemoryStore internals seen from outside: ids that are not UUIDs, long and unicode strings
// (the pool's encodings and block boundaries), many orchestrations, rollback of the pool, the
// memory budget, and a randomised comparison with a plain reference model.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "keb/fleet.h"
#include "keb/forwarding_store.h"
#include "keb/memory_store.h"
#include "keb/reference_store.h"
#include "store_contract.h"
#include "store_differential.h"

namespace keb {
namespace {

using contract::ids;
using contract::makeOp;
using contract::makeOrch;

bool opLess(const Operation& a, const Operation& b) {
    return std::tie(a.createdAt, a.seq, a.operationID) < std::tie(b.createdAt, b.seq, b.operationID);
}

TEST(MemoryStore, IdsThatAreNotUuidsComeBackExactly) {
    MemoryStore s;
    s.insertOrchestration(makeOrch("o", 1));
    const std::vector<std::string> odd = {
        "",                                        // empty
        "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",    // a real UUID
        "3F2A1B4C-5D6E-4F70-8A9B-0C1D2E3F4A5B",    // upper case: must not come back lower-cased
        "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5",     // 35 chars
        "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5bb",   // 37 chars
        "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5g",    // not hex
        "3f2a1b4c5-d6e-4f70-8a9b-0c1d2e3f4a5b",    // dash moved
        "3f2a1b4c-5d6e-4f70-8a9b_0c1d2e3f4a5b",    // underscore for a dash
        "000000000000000000000000000000000000",    // 36 chars, no dashes
        std::string("nul\0inside", 10),            // an embedded NUL
        "op-1",
        "\xc3\xa9t\xc3\xa9-\xe2\x9c\x93",          // unicode
    };
    std::vector<Operation> ops;
    for (std::size_t i = 0; i < odd.size(); ++i) {
        Operation op = makeOp("o", odd[i], 100, 7);  // same createdAt and seq: ordered by id
        op.runtimeID = odd[(i + 1) % odd.size()];
        op.retryOf = odd[(i + 2) % odd.size()];
        ops.push_back(op);
    }
    s.insertOperations(ops);
    for (const Operation& op : ops) {
        auto got = s.getOperation("o", op.operationID);
        ASSERT_TRUE(got.has_value()) << op.operationID;
        EXPECT_EQ(*got, op);
    }
    EXPECT_FALSE(s.getOperation("o", "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5c").has_value());
    EXPECT_FALSE(s.getOperation("o", "nul").has_value());
    std::vector<Operation> sorted = ops;
    std::sort(sorted.begin(), sorted.end(), opLess);
    EXPECT_EQ(s.operationsOf("o"), sorted) << "ties ordered by the id's bytes, packed or not";

    // Runtime, instance and subaccount ids are packed in the record when UUID-shaped: updates
    // that switch a field between a UUID and any other text come back exactly, both ways.
    for (std::size_t round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            Operation& op = ops[i];
            op.runtimeID = odd[(i + round + 3) % odd.size()];
            op.instanceID = odd[(i + round + 4) % odd.size()];
            op.subAccountID = odd[(i + round + 5) % odd.size()];
            s.updateOperation(op);
        }
        for (const Operation& op : ops) EXPECT_EQ(*s.getOperation("o", op.operationID), op) << "round " << round;
    }
}

// Shoot names of KEB's form ("c-" and 7 lower-case hex digits) are kept packed in the record,
// anything else in the pool: both come back exactly, also when an update switches between them,
// and through an insert from an operation source (which reserves the pool only for pooled names).
TEST(MemoryStore, ShootNamesPackedOrNotComeBackExactly) {
    const std::vector<std::string> shoots = {
        "c-0000000", "c-fffffff", "c-1a2b3c4", "c-09afe00",  // packed
        "c-1A2B3C4",                                        // upper case: pooled, kept as it is
        "c-1a2b3c", "c-1a2b3c45", "c_1a2b3c4", "d-1a2b3c4",  // other lengths and prefixes
        "c-1a2b3g4", "c-1a2b3c\x01", "", "c-",              // not hex, control byte, empty
    };
    for (bool viaSource : {false, true}) {
        MemoryStore s;
        s.insertOrchestration(makeOrch("o", 1));
        std::vector<Operation> ops;
        for (std::size_t i = 0; i < shoots.size(); ++i) {
            Operation op = makeOp("o", "op-" + std::to_string(i), 100, static_cast<std::int64_t>(i));
            op.shootName = shoots[i];
            ops.push_back(op);
        }
        if (viaSource) {
            Store::WriteBatch b;
            std::size_t next = 0;
            b.operationSourceSize = ops.size();
            b.operationSource = [&](Operation& op) {
                if (next == ops.size()) return false;
                op = ops[next++];
                return true;
            };
            s.apply(b);
        } else {
            s.insertOperations(ops);
        }
        for (const Operation& op : ops) EXPECT_EQ(*s.getOperation("o", op.operationID), op) << op.shootName;
        for (std::size_t round = 1; round < 4; ++round) {
            for (std::size_t i = 0; i < ops.size(); ++i) {
                ops[i].shootName = shoots[(i + round * 3) % shoots.size()];
                s.updateOperation(ops[i]);
            }
            for (const Operation& op : ops)
                EXPECT_EQ(*s.getOperation("o", op.operationID), op) << "round " << round << ": " << op.shootName;
        }
    }
}

TEST(MemoryStore, UuidOrderMatchesStringOrder) {
    // Packed UUIDs compare by their 16 bytes; that must agree with comparing the text.
    MemoryStore s;
    s.insertOrchestration(makeOrch("o", 1));
    SeededIdGenerator gen(5);
    std::mt19937 rng(1);
    std::vector<Operation> ops;
    for (int i = 0; i < 500; ++i) {
        std::string id = gen.newId();
        if (i % 5 == 0) id = "x-" + std::to_string(i);                // some raw ids among them
        if (i % 11 == 0) id[0] = "0123456789abcdef"[rng() % 16];      // shared prefixes
        if (i % 13 == 0 && !ops.empty()) id = ops[static_cast<std::size_t>(rng() % ops.size())].operationID.substr(0, 35) + "0";
        if (std::any_of(ops.begin(), ops.end(), [&](const Operation& o) { return o.operationID == id; })) continue;
        ops.push_back(makeOp("o", id, 100, 1));  // all tie on (createdAt, seq)
    }
    std::shuffle(ops.begin(), ops.end(), rng);
    for (std::size_t i = 0; i < ops.size(); i += 50)
        s.insertOperations(std::vector<Operation>(ops.begin() + static_cast<long>(i),
                                                  ops.begin() + static_cast<long>(std::min(i + 50, ops.size()))));
    std::sort(ops.begin(), ops.end(), opLess);
    EXPECT_EQ(ids(s.operationsOf("o")), ids(ops));
}

TEST(MemoryStore, LongAndUnicodeStrings) {
    MemoryStore s;
    s.insertOrchestration(makeOrch("o", 1));
    std::vector<std::string> texts;
    for (std::size_t n : {0, 1, 15, 16, 251, 252, 253, 254, 300, 65535, 65536, 65537, 200000}) {
        std::string t;
        for (std::size_t i = 0; i < n; ++i) t.push_back(static_cast<char>('a' + (i * 7 + n) % 26));
        texts.push_back(t);
    }
    std::string unicode;
    for (int i = 0; i < 5000; ++i) unicode += "\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\x9a\x80 ";  // CJK and an emoji
    texts.push_back(unicode);
    texts.push_back(std::string(70000, '\0'));  // large and all NUL
    std::vector<Operation> ops;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        Operation op = makeOp("o", "op" + std::to_string(i), 100, static_cast<std::int64_t>(i));
        op.description = texts[i];
        op.shootName = texts[(i + 3) % texts.size()];
        op.kymaConfig = KymaParams{texts[(i + 5) % texts.size()]};
        ops.push_back(op);
    }
    s.insertOperations(ops);
    EXPECT_EQ(s.operationsOf("o"), ops);
    // Rewrite them with other long texts, a few times (entries stay valid when blocks are added).
    for (int round = 1; round <= 3; ++round) {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            ops[i].description = texts[(i + static_cast<std::size_t>(round)) % texts.size()] + "#" + std::to_string(round);
            if (i % 2) {
                ops[i].kymaConfig.reset();
                ops[i].clusterConfig = KubernetesParams{texts[i], texts[(i + 1) % texts.size()], "v" + std::to_string(round)};
            }
        }
        s.updateOperations(ops);
        for (const Operation& op : ops) EXPECT_EQ(*s.getOperation("o", op.operationID), op) << "round " << round;
    }
    OperationQuery q;
    q.pageSize = 4;
    q.page = 2;
    auto page = s.listOperations("o", q);
    ASSERT_EQ(page.count, 4);
    EXPECT_EQ(page.data[0], ops[4]);
}

TEST(MemoryStore, ManyOrchestrationsSharingOperationIds) {
    MemoryStore s;
    const int orchs = 2000;
    for (int k = 0; k < orchs; ++k) {
        // Inserted in an order unlike their creation order.
        const int c = (k * 7919) % orchs;
        s.insertOrchestration(makeOrch("orch-" + std::to_string(c), 1000 + c / 3, OrchestrationState::InProgress));
    }
    for (int c = 0; c < orchs; ++c) {
        std::vector<Operation> ops;
        for (int i = 0; i < 5; ++i) {
            Operation op = makeOp("orch-" + std::to_string(c), "op" + std::to_string(i), 10, i,
                                  (c + i) % 3 ? OperationState::Pending : OperationState::Failed);
            op.runtimeID = "rt-" + std::to_string(c) + "-" + std::to_string(i);  // same op id, other content
            ops.push_back(op);
        }
        s.insertOperations(ops);
    }
    EXPECT_EQ(s.operationCount(), static_cast<std::size_t>(orchs * 5));
    for (int c = 0; c < orchs; c += 37) {
        const std::string id = "orch-" + std::to_string(c);
        auto op = s.getOperation(id, "op3");
        ASSERT_TRUE(op.has_value());
        EXPECT_EQ(op->runtimeID, "rt-" + std::to_string(c) + "-3");
        EXPECT_EQ(op->orchestrationID, id);
        auto st = s.operationStats(id);
        const int failed = ((c + 0) % 3 == 0) + ((c + 1) % 3 == 0) + ((c + 2) % 3 == 0) + ((c + 3) % 3 == 0) + ((c + 4) % 3 == 0);
        EXPECT_EQ(st[OperationState::Failed], failed);
        EXPECT_EQ(st[OperationState::Pending], 5 - failed);
    }
    EXPECT_THROW(s.insertOperation(makeOp("orch-5", "op2", 10, 9)), std::exception);
    OrchestrationQuery q;
    q.pageSize = 3;
    q.page = 2;
    auto page = s.listOrchestrations(q);
    // createdAt = 1000 + c/3: orchestrations 3, 4, 5 share createdAt 1001, ordered by id.
    EXPECT_EQ(ids(page.data), (std::vector<std::string>{"orch-3", "orch-4", "orch-5"}));
    EXPECT_EQ(page.totalCount, orchs);
}

TEST(MemoryStore, FailedWritesGiveTheirMemoryBack) {
    MemoryStore s;
    s.insertOrchestration(makeOrch("o", 1));
    s.insertOperation(makeOp("o", "existing", 1, 0));
    const std::size_t before = s.approxBytes();
    int i = 0;
    const std::string big(100000, 'z');
    EXPECT_THROW(s.updateOrchestrationAddingOperations(makeOrch("o", 1), [&](Operation& out) {
        out = i < 100 ? makeOp("o", "n" + std::to_string(i), 2, i + 1) : makeOp("o", "existing", 2, i + 1);
        out.description = big + std::to_string(i);  // 10 MB of distinct text
        ++i;
        return true;
    }), std::exception);
    EXPECT_EQ(i, 101);
    EXPECT_LT(s.approxBytes(), before + 64 * 1024) << "the failed stream's strings and records are freed";
    EXPECT_EQ(s.operationCount(), 1u);
    // The same ids and texts go in afterwards, and are found.
    std::vector<Operation> ops;
    for (int k = 0; k < 100; ++k) {
        ops.push_back(makeOp("o", "n" + std::to_string(k), 2, k + 1));
        ops.back().description = big + std::to_string(k);
    }
    s.insertOperations(ops);
    for (const Operation& op : ops) EXPECT_EQ(*s.getOperation("o", op.operationID), op);
}

// Records live in a small first chunk, then in 4 MiB chunks (huge pages): a failed stream that
// crossed both boundaries gives its chunks back, and records on either side of a boundary are
// found and read back exactly afterwards.
TEST(MemoryStore, RecordChunkBoundariesAndRollback) {
    MemoryStore s;
    s.insertOrchestration(makeOrch("o", 1));
    std::vector<Operation> first;
    for (int k = 0; k < 1000; ++k) first.push_back(makeOp("o", "a" + std::to_string(k), 1, k));
    s.insertOperations(first);
    const std::size_t before = s.approxBytes();
    const int many = 60000;  // past the first chunk and more than two big ones
    int i = 0;
    EXPECT_THROW(s.updateOrchestrationAddingOperations(makeOrch("o", 1), [&](Operation& out) {
        out = i < many ? makeOp("o", "b" + std::to_string(i), 2, 1000 + i) : makeOp("o", "a7", 2, 1000 + i);
        ++i;
        return true;
    }), std::exception);
    EXPECT_EQ(s.operationCount(), 1000u);
    // Its three 4 MiB record chunks are freed (the id and string tables keep their grown capacity).
    const std::size_t afterFailure = s.approxBytes();
    std::printf("MemoryStore: %zu bytes before, %zu after a failed stream of %d operations\n", before, afterFailure, many);
    EXPECT_LT(afterFailure, before + 8 * 1024 * 1024);
    EXPECT_FALSE(s.getOperation("o", "b0"));
    i = 0;
    s.updateOrchestrationAddingOperations(makeOrch("o", 1), [&](Operation& out) {
        if (i == many) return false;
        out = makeOp("o", "b" + std::to_string(i), 2, 1000 + i);
        out.description = "d" + std::to_string(i);
        ++i;
        return true;
    });
    ASSERT_EQ(s.operationCount(), static_cast<std::size_t>(1000 + many));
    for (int k : {0, 23, 24, 25, 26000, 26237, 26238, 26239, 52000, 52451, 52452, 52453, many - 1}) {
        Operation want = makeOp("o", "b" + std::to_string(k), 2, 1000 + k);
        want.description = "d" + std::to_string(k);
        EXPECT_EQ(*s.getOperation("o", want.operationID), want) << k;
        Operation got;
        ASSERT_TRUE(s.readOperationAt("o", want.operationID, 1000 + k, got));
        EXPECT_EQ(got, want) << k;
    }
    EXPECT_EQ(*s.getOperation("o", "a999"), first[999]);
}

TEST(MemoryStore, MovedStoreKeepsItsData) {
    MemoryStore a;
    a.insertOrchestration(makeOrch("o", 1));
    a.insertOperation(makeOp("o", "x", 1, 0));
    MemoryStore b(std::move(a));
    EXPECT_EQ(b.getOperation("o", "x")->runtimeID, "rt-x");
    MemoryStore c;
    c = std::move(b);
    EXPECT_EQ(c.operationsOf("o").size(), 1u);
}

// Typical rollout content at 100,000 operations: the issue 3 budget is 350 B per operation.
TEST(MemoryStore, FootprintOfATypicalRolloutIsUnderBudget) {
    SeededIdGenerator gen(3);
    std::vector<std::string> accounts(2500), subaccounts(25000);
    for (auto& a : accounts) a = gen.newId();
    for (auto& x : subaccounts) x = gen.newId();
    const char* plans[] = {"azure", "aws", "gcp", "trial"};
    const char* regions[] = {"westeurope", "eastus", "eu-west-1", "us-east-1", "japaneast", "europe-west3"};
    MemoryStore s;
    Orchestration o = makeOrch(gen.newId(), 1);
    s.insertOrchestration(o);
    const std::size_t empty = s.approxBytes();
    std::mt19937 rng(4);
    const int n = 100000;
    int made = 0;
    s.updateOrchestrationAddingOperations(o, [&](Operation& op) {
        if (made == n) return false;
        op.operationID = gen.newId();
        op.orchestrationID = o.orchestrationID;
        op.runtimeID = gen.newId();
        op.instanceID = gen.newId();
        op.globalAccountID = accounts[rng() % accounts.size()];
        op.subAccountID = subaccounts[rng() % subaccounts.size()];
        const std::size_t p = rng() % 4;
        op.servicePlanID = "plan-" + std::string(plans[p]) + "-0000-0000-000000000000";
        op.servicePlanName = plans[p];
        op.region = regions[rng() % 6];
        op.shootName = "c-" + std::to_string(1000000 + made);
        op.description = "scheduled for the maintenance window";
        op.createdAt = 1000;
        op.startAt = 1000 + static_cast<Millis>(rng() % 24) * kHour;
        op.maintenanceWindowBegin = op.startAt;
        op.maintenanceWindowEnd = op.startAt + kHour;
        op.seq = made++;
        op.kymaConfig = KymaParams{"2.20.0"};
        return true;
    });
    ASSERT_EQ(s.operationCount(), static_cast<std::size_t>(n));
    const double perOp = static_cast<double>(s.approxBytes() - empty) / n;
    std::printf("MemoryStore: %.1f B per operation at %d operations\n", perOp, n);
    EXPECT_LT(perOp, 350.0);
    // approxBytes is not a made-up constant: the 160-byte records (which hold the packed
    // operation, runtime, instance and subaccount ids) are in it.
    EXPECT_GT(perOp, 160.0);
}

// ---------------------------------------------------------------------------------------------
// Random operations against a plain reference model (vectors sorted the obvious way).
struct Reference {
    std::map<std::string, std::vector<Operation>> ops;  // orchestration -> operations, sorted

    Operation* find(const std::string& orch, const std::string& id) {
        auto it = ops.find(orch);
        if (it == ops.end()) return nullptr;
        for (auto& op : it->second)
            if (op.operationID == id) return &op;
        return nullptr;
    }
    void sortAll() {
        for (auto& [k, v] : ops) std::stable_sort(v.begin(), v.end(), opLess);
    }
};

TEST(MemoryStore, RandomisedAgainstAReferenceModel) {
    MemoryStore s;
    Reference ref;
    std::mt19937 rng(12345);
    SeededIdGenerator gen(77);
    std::vector<std::string> orchIds;
    for (int k = 0; k < 4; ++k) {
        orchIds.push_back(k == 3 ? "plain-orchestration" : gen.newId());
        s.insertOrchestration(makeOrch(orchIds.back(), k));
        ref.ops[orchIds.back()];
    }
    std::vector<std::pair<std::string, std::string>> known;  // (orch, op id)
    auto randomId = [&]() -> std::string {
        switch (rng() % 4) {
            case 0: return "op-" + std::to_string(rng() % 400);
            case 1: {
                std::string u = gen.newId();
                if (rng() % 2) std::transform(u.begin(), u.end(), u.begin(), ::toupper);
                return u;
            }
            default: return gen.newId();
        }
    };
    const OperationState states[] = {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                                     OperationState::Failed, OperationState::Canceled};
    const std::vector<std::string> texts = {"queued for processing", "upgrade started", "", std::string(300, 'q'),
                                            "upgrade failed: \xe2\x9c\x97"};
    Operation buffer;
    for (int step = 0; step < 3000; ++step) {
        const int kind = static_cast<int>(rng() % 10);
        if (kind < 4) {  // insert a batch, sometimes with a duplicate
            std::vector<Operation> batch;
            const int n = 1 + static_cast<int>(rng() % 6);
            for (int i = 0; i < n; ++i) {
                const std::string& orch = orchIds[rng() % orchIds.size()];
                std::string id = (rng() % 15 == 0 && !known.empty()) ? known[rng() % known.size()].second : randomId();
                Operation op = makeOp(orch, id, static_cast<Millis>(rng() % 50), static_cast<std::int64_t>(rng() % 5),
                                      states[rng() % 5]);
                op.description = texts[rng() % texts.size()];
                if (rng() % 3 == 0) {
                    op.kymaConfig.reset();
                    op.clusterConfig = KubernetesParams{"1.3" + std::to_string(rng() % 3), "gardenlinux", "1443." + std::to_string(rng() % 4)};
                }
                batch.push_back(op);
            }
            bool dup = false;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (ref.find(batch[i].orchestrationID, batch[i].operationID)) dup = true;
                for (std::size_t j = 0; j < i; ++j)
                    if (batch[j].orchestrationID == batch[i].orchestrationID && batch[j].operationID == batch[i].operationID)
                        dup = true;
            }
            if (dup) {
                EXPECT_THROW(s.insertOperations(batch), std::exception);
            } else {
                s.insertOperations(batch);
                for (const auto& op : batch) {
                    ref.ops[op.orchestrationID].push_back(op);
                    known.emplace_back(op.orchestrationID, op.operationID);
                }
                ref.sortAll();
            }
        } else if (kind < 7 && !known.empty()) {  // update a batch (order key changes now and then)
            std::vector<Operation> batch;
            const int n = 1 + static_cast<int>(rng() % 4);
            for (int i = 0; i < n; ++i) {
                const auto& [orch, id] = known[rng() % known.size()];
                Operation op = *ref.find(orch, id);
                op.state = states[rng() % 5];
                op.description = texts[rng() % texts.size()];
                op.updatedAt = step;
                op.upgradeStarted = rng() % 2;
                if (rng() % 10 == 0) op.seq = static_cast<std::int64_t>(rng() % 5);
                if (rng() % 10 == 0) op.createdAt = static_cast<Millis>(rng() % 50);
                batch.push_back(op);
            }
            const bool ghost = rng() % 8 == 0;
            if (ghost) batch.push_back(makeOp(orchIds[0], "ghost-" + std::to_string(step), 1, 1));
            if (ghost) {
                EXPECT_THROW(s.updateOperations(batch), std::exception);
            } else {
                if (batch.size() == 1 && rng() % 2) s.updateOperation(batch[0]);  // the single-op path
                else s.updateOperations(batch);
                for (const auto& op : batch) *ref.find(op.orchestrationID, op.operationID) = op;
                ref.sortAll();
            }
        } else {  // read and compare
            const std::string& orch = orchIds[rng() % orchIds.size()];
            const auto& want = ref.ops[orch];
            OperationQuery q;
            q.pageSize = 1 + static_cast<int>(rng() % 20);
            q.page = 1 + static_cast<int>(rng() % 6);
            if (rng() % 2) q.states = {states[rng() % 5], states[rng() % 5]};
            std::vector<Operation> filtered;
            for (const auto& op : want)
                if (q.states.empty() || std::find(q.states.begin(), q.states.end(), op.state) != q.states.end())
                    filtered.push_back(op);
            auto page = s.listOperations(orch, q);
            ASSERT_EQ(page.totalCount, static_cast<std::int64_t>(filtered.size())) << "step " << step;
            const std::size_t first = static_cast<std::size_t>(q.page - 1) * static_cast<std::size_t>(q.pageSize);
            std::vector<Operation> expect;
            for (std::size_t i = first; i < filtered.size() && i < first + static_cast<std::size_t>(q.pageSize); ++i)
                expect.push_back(filtered[i]);
            ASSERT_EQ(page.data, expect) << "step " << step;
            ASSERT_EQ(page.count, static_cast<std::int64_t>(expect.size()));
            if (!known.empty()) {  // one read into the reused buffer
                const auto& [o2, id] = known[rng() % known.size()];
                ASSERT_TRUE(s.readOperation(o2, id, buffer));
                ASSERT_EQ(buffer, *ref.find(o2, id)) << "step " << step;
            }
            if (step % 50 == 0) {
                std::vector<Operation> seen;
                s.forEachOperation(orch, [&](const Operation& op) { seen.push_back(op); });
                ASSERT_EQ(seen, want) << "step " << step;
                auto st = s.operationStats(orch);
                for (OperationState x : states)
                    EXPECT_EQ(st[x], std::count_if(want.begin(), want.end(), [&](const Operation& op) { return op.state == x; }));
            }
        }
    }
    std::size_t total = 0;
    for (const auto& [orch, v] : ref.ops) {
        EXPECT_EQ(s.operationsOf(orch), v);
        total += v.size();
    }
    EXPECT_EQ(s.operationCount(), total);
    EXPECT_GT(total, 1000u);
}

}  // namespace

// The contract itself runs here for the stores of the core (this binary needs no server
// library): the reference store first (the oracle must pass its own contract), MemoryStore, and
// MemoryStore behind a ForwardingStore (a decorator must not change any answer).
namespace contract {
struct ReferenceFactory {
    std::unique_ptr<keb::Store> open() { return std::make_unique<keb::ReferenceStore>(); }
    std::unique_ptr<keb::Store> reopen() { return nullptr; }
};
INSTANTIATE_TYPED_TEST_SUITE_P(Reference, StoreContract, ReferenceFactory);

struct MemoryFactory {
    std::unique_ptr<keb::Store> open() { return std::make_unique<keb::MemoryStore>(); }
    std::unique_ptr<keb::Store> reopen() { return nullptr; }
};
INSTANTIATE_TYPED_TEST_SUITE_P(Memory, StoreContract, MemoryFactory);

// A ForwardingStore that owns the store it forwards to.
class OwningForwarder : public keb::ForwardingStore {
public:
    explicit OwningForwarder(std::unique_ptr<keb::Store> inner) : ForwardingStore(*inner), owned_(std::move(inner)) {}

private:
    std::unique_ptr<keb::Store> owned_;
};
struct ForwardedMemoryFactory {
    std::unique_ptr<keb::Store> open() { return std::make_unique<OwningForwarder>(std::make_unique<keb::MemoryStore>()); }
    std::unique_ptr<keb::Store> reopen() { return nullptr; }
};
INSTANTIATE_TYPED_TEST_SUITE_P(ForwardedMemory, StoreContract, ForwardedMemoryFactory);

// Every read of the packed store against the reference store, over random writes.
TEST(MemoryStoreDifferential, AnswersLikeTheReferenceStore) {
    for (std::uint64_t seed : {1, 2, 3}) {
        keb::MemoryStore s;
        DifferentialRun run(s, seed);
        run.run(600);
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(MemoryStoreDifferential, ThroughAForwardingStore) {
    keb::MemoryStore s;
    keb::ForwardingStore f(s);
    DifferentialRun run(f, 99);
    run.alsoCheck(&s);
    run.run(300);
}
}  // namespace contract
}  // namespace keb
