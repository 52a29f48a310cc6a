// The plain reference Store: ordered maps of whole Orchestrations and Operations, every read
// sorted on the spot, every write done on a copy of all the data that replaces it only when the
// whole write succeeded. Slow and obviously right: the oracle the packed MemoryStore and the
// SQLite store are checked against (tests/store_contract/store_differential.h), and the first
// store the contract suite runs on. Not for production (every write copies everything).
#pragma once
#include <map>
#include <string>

#include "keb/store.h"

namespace keb {

class ReferenceStore : public Store {
public:
    // --- reads (readOperation, readOperationAt, forEachOperation and forEachOperationBrief are
    // the StoreReader defaults on top of these)
    std::optional<Orchestration> getOrchestration(const std::string& id) override;
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override;
    std::vector<Orchestration> unfinishedOrchestrations() override;
    std::optional<Operation> getOperation(const std::string& orchestrationID, const std::string& operationID) override;
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;
    StateCounts stateCounts() override;

    // --- writes
    void insertOrchestration(const Orchestration& o) override;
    void updateOrchestration(const Orchestration& o) override;
    void insertOperations(const std::vector<Operation>& ops) override;
    void updateOperations(const std::vector<Operation>& ops) override;
    void updateOperation(const Operation& op) override;
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override;
    void rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override;
    void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) override;
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override;
    void apply(const WriteBatch& batch) override;
    std::vector<Notification> pendingNotifications(std::size_t limit) override;
    void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) override;
    std::int64_t pendingNotificationCount() override;

private:
    struct Data {
        std::map<std::string, Orchestration> orchestrations;                  // by id
        std::map<std::string, std::map<std::string, Operation>> operations;  // orchestration id -> id -> op
        std::map<std::int64_t, Notification> outbox;  // undelivered, by sequence
        std::int64_t lastNotification = 0;            // the last sequence assigned
    };
    // The single-write steps, on a copy (each throws std::runtime_error naming what is wrong).
    static void addOrchestration(Data& d, const Orchestration& o);
    static void replaceOrchestration(Data& d, const Orchestration& o);
    static void addOperation(Data& d, const Operation& op);
    static Operation& existing(Data& d, const std::string& orchestrationID, const std::string& operationID);
    static void reschedule(Data& d, const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                           const std::string* description, Millis updatedAt);
    // Runs f on a copy of the data and keeps the copy only when f returns.
    template <class F>
    void write(F&& f) {
        Data next = data_;
        f(next);
        data_ = std::move(next);
    }

    Data data_;
};

}  // namespace keb
