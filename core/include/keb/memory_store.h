// In-memory Store: the engine's store in the simulator, the browser and `keb-server --store memory`.
// Compact: strings live once in a deduplicating pool (UUID-shaped ids packed to 16 bytes),
// an operation is a 160-byte record of numbers, its packed id, the packed runtime, instance and
// subaccount ids and pool handles; ids are found through an open-addressing index. Reads
// materialise an Operation. Checked against the plain ReferenceStore (keb/reference_store.h) by
// tests/store_contract/store_differential.h. About 250 B per operation
// of a typical 100,000-operation rollout, all tables included (bench/store_bench.cpp,
// BM_StoreInsert; tests/store_contract/memory_store_test.cpp checks < 350).
// Threads: reads may run concurrently with each other; a write needs exclusive access.
#pragma once
#include <cstddef>
#include <map>  // kept for files that relied on it through this header
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/store.h"

namespace keb {

class MemoryStore : public Store {
public:
    MemoryStore();
    ~MemoryStore() override;
    MemoryStore(MemoryStore&&) noexcept;
    MemoryStore& operator=(MemoryStore&&) noexcept;
    MemoryStore(const MemoryStore&) = delete;
    MemoryStore& operator=(const MemoryStore&) = delete;

    void insertOrchestration(const Orchestration& o) override;
    void updateOrchestration(const Orchestration& o) override;
    std::optional<Orchestration> getOrchestration(const std::string& id) override;
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override;
    std::vector<Orchestration> unfinishedOrchestrations() override;
    void insertOperations(const std::vector<Operation>& ops) override;
    void updateOperations(const std::vector<Operation>& ops) override;
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override;
    std::optional<Operation> getOperation(const std::string& orchestrationID, const std::string& operationID) override;
    bool readOperation(const std::string& orchestrationID, const std::string& operationID, Operation& out) override;
    void updateOperation(const Operation& op) override;
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) override;
    void forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                 const std::function<void(const Operation&)>& fn) override;
    // Without materialising Operations: ids and numbers straight from the records.
    void forEachOperationBrief(const std::string& orchestrationID,
                               const std::function<void(const OperationBrief&)>& fn) override;
    void forEachOperationBriefPacked(const std::string& orchestrationID,
                                     const std::function<void(const OperationBrief&)>& fn) override;
    // In place: the records' times and window (and one interned description).
    bool readOperationAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                         Operation& out) override;
    // Starts loading the record the seq-th of the orchestration's order names (slotAt's guess).
    void prefetchOperation(const std::string& orchestrationID, std::int64_t seq) override;
    void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) override;
    void rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override;
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override;
    // All parts or none: every record, orchestration and count a part changed is restored from
    // an undo log when a later part throws.
    void apply(const WriteBatch& batch) override;
    std::vector<Notification> pendingNotifications(std::size_t limit) override;
    void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) override;
    std::int64_t pendingNotificationCount() override;

    std::size_t operationCount() const;
    // Heap bytes held by the store: string pool blocks and its hash table, operation records,
    // the id index, per-orchestration order vectors and the orchestrations themselves
    // (allocated capacity, not just the used part).
    std::size_t approxBytes() const;

private:
    void applyParts(const WriteBatch& batch);
    struct Impl;
    std::unique_ptr<Impl> impl_;
    // SPEC 14 outbox: undelivered notifications by sequence (appended after the batch's other
    // parts succeeded, so the batch stays all-or-nothing).
    std::map<std::int64_t, Notification> outbox_;
    std::int64_t lastNotification_ = 0;
};

}  // namespace keb
