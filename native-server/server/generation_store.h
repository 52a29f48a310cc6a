// A Store decorator that counts committed writes. The HTTP side caches GET responses
// tagged with the generation read BEFORE computing them; an entry is served only while
// no write has committed since, so a cached answer is never older than the last write.
#pragma once
#include <atomic>
#include <cstdint>

#include "keb/store.h"

namespace keb::server {

class GenerationStore : public Store {
public:
    explicit GenerationStore(Store& inner) : inner_(inner) {}
    std::uint64_t generation() const { return gen_.load(std::memory_order_acquire); }
    Store& inner() { return inner_; }

    void insertOrchestration(const Orchestration& o) override { bump([&] { inner_.insertOrchestration(o); }); }
    void updateOrchestration(const Orchestration& o) override { bump([&] { inner_.updateOrchestration(o); }); }
    std::optional<Orchestration> getOrchestration(const std::string& id) override { return inner_.getOrchestration(id); }
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override { return inner_.listOrchestrations(q); }
    std::vector<Orchestration> unfinishedOrchestrations() override { return inner_.unfinishedOrchestrations(); }
    void insertOperations(const std::vector<Operation>& ops) override { bump([&] { inner_.insertOperations(ops); }); }
    void updateOperations(const std::vector<Operation>& ops) override { bump([&] { inner_.updateOperations(ops); }); }
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override {
        bump([&] { inner_.updateOrchestrationWithOperations(o, inserted, updated); });
    }
    std::optional<Operation> getOperation(const std::string& oid, const std::string& opid) override {
        return inner_.getOperation(oid, opid);
    }
    Page<Operation> listOperations(const std::string& oid, const OperationQuery& q) override {
        return inner_.listOperations(oid, q);
    }
    std::vector<Operation> operationsOf(const std::string& oid) override { return inner_.operationsOf(oid); }
    OperationStats operationStats(const std::string& oid) override { return inner_.operationStats(oid); }
    // Forwarded so the inner store's own versions are used (the defaults go through copies);
    // the writes among them bump the generation like every other write.
    void updateOperation(const Operation& op) override { bump([&] { inner_.updateOperation(op); }); }
    bool readOperation(const std::string& oid, const std::string& opid, Operation& out) override {
        return inner_.readOperation(oid, opid, out);
    }
    bool readOperationAt(const std::string& oid, const std::string& opid, std::int64_t seq, Operation& out) override {
        return inner_.readOperationAt(oid, opid, seq, out);
    }
    void rescheduleOperations(const std::string& oid, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override {
        bump([&] { inner_.rescheduleOperations(oid, changes, description, updatedAt); });
    }
    void updateOperationProgress(const std::string& oid, const ProgressChange& c) override {
        bump([&] { inner_.updateOperationProgress(oid, c); });
    }
    void forEachOperationBrief(const std::string& oid, const std::function<void(const OperationBrief&)>& fn) override {
        inner_.forEachOperationBrief(oid, fn);
    }
    void forEachOperation(const std::string& oid, const std::function<void(const Operation&)>& fn) override {
        inner_.forEachOperation(oid, fn);
    }
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override {
        bump([&] { inner_.updateOrchestrationAddingOperations(o, next); });
    }

private:
    template <class F>
    void bump(F&& f) {
        // Bump on failure too: a failed transaction may have been partly visible to nobody,
        // but bumping is always safe (it only invalidates the cache).
        struct Guard {
            std::atomic<std::uint64_t>& g;
            ~Guard() { g.fetch_add(1, std::memory_order_acq_rel); }
        } guard{gen_};
        f();
    }
    Store& inner_;
    std::atomic<std::uint64_t> gen_{1};
};

}  // namespace keb::server
