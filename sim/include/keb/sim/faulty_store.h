// A Store decorator that makes the next N writes throw, as a full disk or a lost database
// connection would: the simulator's way into the engine's fatal path (a store write throwing under
// Engine::tick/complete; the server exits and its supervisor restarts it, see
// native-server/server/engine_loop.cpp) and the recovery after it.
//
// A failing write throws before it reaches the wrapped store: nothing of it is written, like a
// transaction that did not commit. Reads always pass through.
//
// It forwards every virtual method of Store by hand. When Store gets a forwarding base for
// decorators, derive from it and keep only the write overrides.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "keb/store.h"

namespace keb::sim {

class StoreWriteFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class FaultyStore : public Store {
public:
    explicit FaultyStore(Store& inner) : inner_(inner) {}

    // The next `writes` write calls throw StoreWriteFailure (added to any still armed).
    void failNextWrites(int writes) { armed_ += writes > 0 ? writes : 0; }
    int armed() const { return armed_; }
    std::uint64_t failedWrites() const { return failed_; }

    void insertOrchestration(const Orchestration& o) override;
    void updateOrchestration(const Orchestration& o) override;
    std::optional<Orchestration> getOrchestration(const std::string& id) override;
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override;
    std::vector<Orchestration> unfinishedOrchestrations() override;
    void insertOperations(const std::vector<Operation>& ops) override;
    void updateOperations(const std::vector<Operation>& ops) override;
    void updateOperation(const Operation& op) override;
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override;
    std::optional<Operation> getOperation(const std::string& orchestrationID, const std::string& operationID) override;
    bool readOperation(const std::string& orchestrationID, const std::string& operationID, Operation& out) override;
    bool readOperationAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                         Operation& out) override;
    void rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override;
    void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) override;
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;
    void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) override;
    void forEachOperationBrief(const std::string& orchestrationID,
                               const std::function<void(const OperationBrief&)>& fn) override;
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override;

private:
    // Throws when a failure is armed (one fewer then). Inline: the engine writes on every step.
    void write(const char* what) {
        if (armed_ > 0) fail(what);
    }
    [[noreturn]] void fail(const char* what);

    Store& inner_;
    int armed_ = 0;
    std::uint64_t failed_ = 0;
};

}  // namespace keb::sim
