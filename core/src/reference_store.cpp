#include "keb/reference_store.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace keb {
namespace {

template <class State>
bool wanted(const std::vector<State>& states, State s) {
    return states.empty() || std::find(states.begin(), states.end(), s) != states.end();
}

// Items [(page-1)*size, page*size) of the filtered list, and the counts.
template <class T, class State>
Page<T> pageOf(const std::vector<T>& all, int page, int pageSize, const std::vector<State>& states) {
    std::vector<T> filtered;
    for (const T& x : all)
        if (wanted(states, x.state)) filtered.push_back(x);
    Page<T> out;
    out.totalCount = static_cast<std::int64_t>(filtered.size());
    const std::int64_t size = std::max(pageSize, 1);
    const std::int64_t first = static_cast<std::int64_t>(std::max(page, 1) - 1) * size;
    for (std::int64_t i = first; i < out.totalCount && i < first + size; ++i)
        out.data.push_back(filtered[static_cast<std::size_t>(i)]);
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Orchestration> sortedOrchestrations(const std::map<std::string, Orchestration>& m) {
    std::vector<Orchestration> v;
    for (const auto& [id, o] : m) v.push_back(o);
    std::sort(v.begin(), v.end(), [](const Orchestration& a, const Orchestration& b) {
        return std::tie(a.createdAt, a.orchestrationID) < std::tie(b.createdAt, b.orchestrationID);
    });
    return v;
}

OperationStats zeroStats() {
    OperationStats s;
    for (auto st : {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                    OperationState::Failed, OperationState::Canceled})
        s[st] = 0;
    return s;
}

}  // namespace

// --- reads

std::optional<Orchestration> ReferenceStore::getOrchestration(const std::string& id) {
    auto it = data_.orchestrations.find(id);
    if (it == data_.orchestrations.end()) return std::nullopt;
    return it->second;
}

Page<Orchestration> ReferenceStore::listOrchestrations(const OrchestrationQuery& q) {
    return pageOf(sortedOrchestrations(data_.orchestrations), q.page, q.pageSize, q.states);
}

std::vector<Orchestration> ReferenceStore::unfinishedOrchestrations() {
    std::vector<Orchestration> out;
    for (const Orchestration& o : sortedOrchestrations(data_.orchestrations))
        if (!isFinished(o.state)) out.push_back(o);
    return out;
}

std::optional<Operation> ReferenceStore::getOperation(const std::string& orchestrationID,
                                                      const std::string& operationID) {
    auto it = data_.operations.find(orchestrationID);
    if (it == data_.operations.end()) return std::nullopt;
    auto op = it->second.find(operationID);
    if (op == it->second.end()) return std::nullopt;
    return op->second;
}

std::vector<Operation> ReferenceStore::operationsOf(const std::string& orchestrationID) {
    std::vector<Operation> v;
    auto it = data_.operations.find(orchestrationID);
    if (it == data_.operations.end()) return v;
    for (const auto& [id, op] : it->second) v.push_back(op);
    std::sort(v.begin(), v.end(), [](const Operation& a, const Operation& b) {
        return std::tie(a.createdAt, a.seq, a.operationID) < std::tie(b.createdAt, b.seq, b.operationID);
    });
    return v;
}

Page<Operation> ReferenceStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    return pageOf(operationsOf(orchestrationID), q.page, q.pageSize, q.states);
}

OperationStats ReferenceStore::operationStats(const std::string& orchestrationID) {
    OperationStats s = zeroStats();
    for (const Operation& op : operationsOf(orchestrationID)) ++s[op.state];
    return s;
}

Store::StateCounts ReferenceStore::stateCounts() {
    StateCounts c;
    for (auto st : allOrchestrationStates()) c.orchestrations[st] = 0;
    c.operations = zeroStats();
    for (const auto& [id, o] : data_.orchestrations) ++c.orchestrations[o.state];
    for (const auto& [orch, ops] : data_.operations)
        for (const auto& [id, op] : ops) ++c.operations[op.state];
    return c;
}

// --- single steps

void ReferenceStore::addOrchestration(Data& d, const Orchestration& o) {
    if (!d.orchestrations.emplace(o.orchestrationID, o).second)
        throw std::runtime_error("orchestration exists: " + o.orchestrationID);
}

void ReferenceStore::replaceOrchestration(Data& d, const Orchestration& o) {
    auto it = d.orchestrations.find(o.orchestrationID);
    if (it == d.orchestrations.end()) throw std::runtime_error("no orchestration " + o.orchestrationID);
    it->second = o;
}

void ReferenceStore::addOperation(Data& d, const Operation& op) {
    if (!d.orchestrations.count(op.orchestrationID))
        throw std::runtime_error("no orchestration " + op.orchestrationID);
    if (!d.operations[op.orchestrationID].emplace(op.operationID, op).second)
        throw std::runtime_error("operation exists: " + op.operationID);
}

Operation& ReferenceStore::existing(Data& d, const std::string& orchestrationID, const std::string& operationID) {
    auto it = d.operations.find(orchestrationID);
    if (it != d.operations.end()) {
        auto op = it->second.find(operationID);
        if (op != it->second.end()) return op->second;
    }
    throw std::runtime_error("no operation " + operationID + " in orchestration " + orchestrationID);
}

void ReferenceStore::reschedule(Data& d, const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                const std::string* description, Millis updatedAt) {
    for (const ScheduleChange& c : changes)
        applySchedule(c, description, updatedAt, existing(d, orchestrationID, c.operationID));
}

// --- writes

void ReferenceStore::insertOrchestration(const Orchestration& o) {
    write([&](Data& d) { addOrchestration(d, o); });
}

void ReferenceStore::updateOrchestration(const Orchestration& o) {
    write([&](Data& d) { replaceOrchestration(d, o); });
}

void ReferenceStore::insertOperations(const std::vector<Operation>& ops) {
    write([&](Data& d) {
        for (const Operation& op : ops) addOperation(d, op);
    });
}

void ReferenceStore::updateOperations(const std::vector<Operation>& ops) {
    write([&](Data& d) {
        for (const Operation& op : ops) existing(d, op.orchestrationID, op.operationID) = op;
    });
}

void ReferenceStore::updateOperation(const Operation& op) { updateOperations({op}); }

void ReferenceStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                       const std::vector<Operation>& updated) {
    write([&](Data& d) {
        for (const Operation& op : inserted) addOperation(d, op);
        for (const Operation& op : updated) existing(d, op.orchestrationID, op.operationID) = op;
        replaceOrchestration(d, o);
    });
}

void ReferenceStore::rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                          const std::string* description, Millis updatedAt) {
    write([&](Data& d) { reschedule(d, orchestrationID, changes, description, updatedAt); });
}

void ReferenceStore::updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    write([&](Data& d) { applyProgress(c, existing(d, orchestrationID, c.operationID)); });
}

void ReferenceStore::updateOrchestrationAddingOperations(const Orchestration& o,
                                                         const std::function<bool(Operation&)>& next) {
    write([&](Data& d) {
        for (Operation op; next(op); op = Operation{}) addOperation(d, op);
        replaceOrchestration(d, o);
    });
}

void ReferenceStore::apply(const WriteBatch& b) {
    write([&](Data& d) {
        for (const Orchestration& o : b.insertedOrchestrations) addOrchestration(d, o);
        for (const Operation& op : b.insertedOperations) addOperation(d, op);
        if (b.operationSource)
            for (Operation op; b.operationSource(op); op = Operation{}) addOperation(d, op);
        for (const Operation& op : b.updatedOperations) existing(d, op.orchestrationID, op.operationID) = op;
        for (const WriteBatch::Moves& m : b.moves)
            reschedule(d, m.orchestrationID, m.changes, m.description ? &*m.description : nullptr, m.updatedAt);
        for (const WriteBatch::Progress& p : b.progress)
            applyProgress(p.change, existing(d, p.orchestrationID, p.change.operationID));
        for (const Orchestration& o : b.updatedOrchestrations) replaceOrchestration(d, o);
        for (const Notification& n : b.notifications) {
            Notification row = n;
            row.sequence = ++d.lastNotification;
            d.outbox.emplace(row.sequence, std::move(row));
        }
    });
}

std::vector<Notification> ReferenceStore::pendingNotifications(std::size_t limit) {
    std::vector<Notification> out;
    for (const auto& [seq, n] : data_.outbox) {
        if (out.size() >= limit) break;
        out.push_back(n);
    }
    return out;
}

void ReferenceStore::markNotificationsDelivered(const std::vector<std::int64_t>& sequences) {
    write([&](Data& d) {
        for (std::int64_t s : sequences) d.outbox.erase(s);
    });
}

std::int64_t ReferenceStore::pendingNotificationCount() { return static_cast<std::int64_t>(data_.outbox.size()); }

}  // namespace keb
