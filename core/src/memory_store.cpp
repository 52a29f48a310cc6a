#include "keb/memory_store.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <unordered_set>

namespace keb {
namespace {

bool orchLess(const Orchestration& a, const Orchestration& b) {
    return std::tie(a.createdAt, a.orchestrationID) < std::tie(b.createdAt, b.orchestrationID);
}
bool opLess(const Operation& a, const Operation& b) {
    return std::tie(a.createdAt, a.seq, a.operationID) < std::tie(b.createdAt, b.seq, b.operationID);
}

template <class State>
bool wanted(const std::vector<State>& states, State s) {
    return states.empty() || std::find(states.begin(), states.end(), s) != states.end();
}

// One pass over items in order: count matches, keep those on the requested page.
// get(item) yields the stored value (T) of one element of the range.
template <class T, class Range, class States, class Get>
Page<T> pageOf(const Range& items, const States& states, int page, int pageSize, Get get) {
    Page<T> out;
    const std::int64_t size = std::max(pageSize, 1);
    const std::int64_t first = static_cast<std::int64_t>(std::max(page, 1) - 1) * size;
    for (const auto& item : items) {
        const T& value = get(item);
        if (!wanted(states, value.state)) continue;
        if (out.totalCount >= first && out.totalCount < first + size) out.data.push_back(value);
        ++out.totalCount;
    }
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

}  // namespace

void MemoryStore::insertOrchestration(const Orchestration& o) {
    if (byId_.count(o.orchestrationID)) throw std::runtime_error("orchestration exists: " + o.orchestrationID);
    auto rec = std::make_unique<OrchRecord>();
    rec->orchestration = o;
    OrchRecord* raw = rec.get();
    auto pos = std::upper_bound(orchestrations_.begin(), orchestrations_.end(), o,
                                [](const Orchestration& v, const std::unique_ptr<OrchRecord>& r) {
                                    return orchLess(v, r->orchestration);
                                });
    orchestrations_.insert(pos, std::move(rec));
    byId_[o.orchestrationID] = raw;
}

void MemoryStore::updateOrchestration(const Orchestration& o) {
    auto it = byId_.find(o.orchestrationID);
    if (it == byId_.end()) throw std::runtime_error("no orchestration " + o.orchestrationID);
    // createdAt is immutable, so the position in the order does not change.
    it->second->orchestration = o;
}

std::optional<Orchestration> MemoryStore::getOrchestration(const std::string& id) {
    auto it = byId_.find(id);
    if (it == byId_.end()) return std::nullopt;
    return it->second->orchestration;
}

Page<Orchestration> MemoryStore::listOrchestrations(const OrchestrationQuery& q) {
    return pageOf<Orchestration>(orchestrations_, q.states, q.page, q.pageSize,
                                 [](const std::unique_ptr<OrchRecord>& r) -> const Orchestration& {
                                     return r->orchestration;
                                 });
}

std::vector<Orchestration> MemoryStore::unfinishedOrchestrations() {
    std::vector<Orchestration> out;
    for (const auto& rec : orchestrations_)
        if (!isFinished(rec->orchestration.state)) out.push_back(rec->orchestration);
    return out;
}

// Batches are all or nothing: every check runs before the first change.
void MemoryStore::checkInsert(const std::vector<Operation>& ops) const {
    std::unordered_set<std::string> batch;
    for (const auto& op : ops) {
        auto it = byId_.find(op.orchestrationID);
        if (it == byId_.end()) throw std::runtime_error("no orchestration " + op.orchestrationID);
        if (it->second->index.count(op.operationID) || !batch.insert(op.operationID).second)
            throw std::runtime_error("operation exists: " + op.operationID);
    }
}

std::vector<Operation*> MemoryStore::locate(const std::vector<Operation>& ops) {
    std::vector<Operation*> targets;
    targets.reserve(ops.size());
    for (const auto& op : ops) {
        auto it = byId_.find(op.orchestrationID);
        if (it == byId_.end()) throw std::runtime_error("no orchestration " + op.orchestrationID);
        auto jt = it->second->index.find(op.operationID);
        if (jt == it->second->index.end()) throw std::runtime_error("no operation " + op.operationID);
        targets.push_back(&it->second->operations[jt->second]);
    }
    return targets;
}

void MemoryStore::applyInsert(const std::vector<Operation>& ops) {
    for (const auto& op : ops) {
        OrchRecord& rec = *byId_[op.orchestrationID];
        if (rec.operations.empty() || !opLess(op, rec.operations.back())) {
            rec.index[op.operationID] = rec.operations.size();
            rec.operations.push_back(op);
        } else {  // out of order: insert and renumber the positions after it
            auto pos = std::upper_bound(rec.operations.begin(), rec.operations.end(), op, opLess);
            const auto at = static_cast<std::size_t>(pos - rec.operations.begin());
            rec.operations.insert(pos, op);
            for (std::size_t i = at; i < rec.operations.size(); ++i) rec.index[rec.operations[i].operationID] = i;
        }
    }
}

void MemoryStore::insertOperations(const std::vector<Operation>& ops) {
    checkInsert(ops);
    applyInsert(ops);
}

void MemoryStore::updateOperations(const std::vector<Operation>& ops) {
    std::vector<Operation*> targets = locate(ops);
    for (std::size_t i = 0; i < ops.size(); ++i) *targets[i] = ops[i];
}

void MemoryStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                    const std::vector<Operation>& updated) {
    auto it = byId_.find(o.orchestrationID);
    if (it == byId_.end()) throw std::runtime_error("no orchestration " + o.orchestrationID);
    checkInsert(inserted);
    locate(updated);  // throws before anything changed
    applyInsert(inserted);
    updateOperations(updated);  // positions are re-resolved after the inserts
    it->second->orchestration = o;
}

std::optional<Operation> MemoryStore::getOperation(const std::string& orchestrationID, const std::string& operationID) {
    auto it = byId_.find(orchestrationID);
    if (it == byId_.end()) return std::nullopt;
    auto jt = it->second->index.find(operationID);
    if (jt == it->second->index.end()) return std::nullopt;
    return it->second->operations[jt->second];
}

Page<Operation> MemoryStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    auto it = byId_.find(orchestrationID);
    if (it == byId_.end()) return {};
    return pageOf<Operation>(it->second->operations, q.states, q.page, q.pageSize,
                             [](const Operation& op) -> const Operation& { return op; });
}

std::vector<Operation> MemoryStore::operationsOf(const std::string& orchestrationID) {
    auto it = byId_.find(orchestrationID);
    if (it == byId_.end()) return {};
    return it->second->operations;
}

OperationStats MemoryStore::operationStats(const std::string& orchestrationID) {
    OperationStats stats;
    for (auto s : {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                   OperationState::Failed, OperationState::Canceled})
        stats[s] = 0;
    auto it = byId_.find(orchestrationID);
    if (it == byId_.end()) return stats;
    for (const auto& op : it->second->operations) ++stats[op.state];
    return stats;
}

std::size_t MemoryStore::operationCount() const {
    std::size_t n = 0;
    for (const auto& rec : orchestrations_) n += rec->operations.size();
    return n;
}

}  // namespace keb
