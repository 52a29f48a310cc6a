// FaultyStore (see faulty_store.h): every write first asks write(); everything else forwards.
#include "keb/sim/faulty_store.h"

#include <string>

namespace keb::sim {

void FaultyStore::fail(const char* what) {
    --armed_;
    ++failed_;
    throw StoreWriteFailure(std::string("simulated store failure: ") + what + " not written");
}

void FaultyStore::insertOrchestration(const Orchestration& o) {
    write("insertOrchestration");
    inner_.insertOrchestration(o);
}
void FaultyStore::updateOrchestration(const Orchestration& o) {
    write("updateOrchestration");
    inner_.updateOrchestration(o);
}
void FaultyStore::insertOperations(const std::vector<Operation>& ops) {
    write("insertOperations");
    inner_.insertOperations(ops);
}
void FaultyStore::updateOperations(const std::vector<Operation>& ops) {
    write("updateOperations");
    inner_.updateOperations(ops);
}
void FaultyStore::updateOperation(const Operation& op) {
    write("updateOperation");
    inner_.updateOperation(op);
}
void FaultyStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                    const std::vector<Operation>& updated) {
    write("updateOrchestrationWithOperations");
    inner_.updateOrchestrationWithOperations(o, inserted, updated);
}
void FaultyStore::rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                       const std::string* description, Millis updatedAt) {
    write("rescheduleOperations");
    inner_.rescheduleOperations(orchestrationID, changes, description, updatedAt);
}
void FaultyStore::updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    write("updateOperationProgress");
    inner_.updateOperationProgress(orchestrationID, c);
}
void FaultyStore::updateOrchestrationAddingOperations(const Orchestration& o,
                                                      const std::function<bool(Operation&)>& next) {
    write("updateOrchestrationAddingOperations");
    inner_.updateOrchestrationAddingOperations(o, next);
}

// Reads.
std::optional<Orchestration> FaultyStore::getOrchestration(const std::string& id) { return inner_.getOrchestration(id); }
Page<Orchestration> FaultyStore::listOrchestrations(const OrchestrationQuery& q) { return inner_.listOrchestrations(q); }
std::vector<Orchestration> FaultyStore::unfinishedOrchestrations() { return inner_.unfinishedOrchestrations(); }
std::optional<Operation> FaultyStore::getOperation(const std::string& orchestrationID, const std::string& operationID) {
    return inner_.getOperation(orchestrationID, operationID);
}
bool FaultyStore::readOperation(const std::string& orchestrationID, const std::string& operationID, Operation& out) {
    return inner_.readOperation(orchestrationID, operationID, out);
}
bool FaultyStore::readOperationAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                                  Operation& out) {
    return inner_.readOperationAt(orchestrationID, operationID, seq, out);
}
Page<Operation> FaultyStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    return inner_.listOperations(orchestrationID, q);
}
std::vector<Operation> FaultyStore::operationsOf(const std::string& orchestrationID) {
    return inner_.operationsOf(orchestrationID);
}
OperationStats FaultyStore::operationStats(const std::string& orchestrationID) {
    return inner_.operationStats(orchestrationID);
}
void FaultyStore::forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) {
    inner_.forEachOperation(orchestrationID, fn);
}
void FaultyStore::forEachOperationBrief(const std::string& orchestrationID,
                                        const std::function<void(const OperationBrief&)>& fn) {
    inner_.forEachOperationBrief(orchestrationID, fn);
}

}  // namespace keb::sim
