// In-memory Store: the reference implementation of the store contract.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/store.h"

namespace keb {

class MemoryStore : public Store {
public:
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
    Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) override;
    std::vector<Operation> operationsOf(const std::string& orchestrationID) override;
    OperationStats operationStats(const std::string& orchestrationID) override;

    std::size_t operationCount() const;

private:
    void checkInsert(const std::vector<Operation>& ops) const;
    std::vector<Operation*> locate(const std::vector<Operation>& ops);
    void applyInsert(const std::vector<Operation>& ops);

    struct OrchRecord {
        Orchestration orchestration;
        std::vector<Operation> operations;                 // creation order
        std::unordered_map<std::string, std::size_t> index;  // operationID -> position
    };
    std::vector<std::unique_ptr<OrchRecord>> orchestrations_;  // creation order
    std::unordered_map<std::string, OrchRecord*> byId_;
};

}  // namespace keb
