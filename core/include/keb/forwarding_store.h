// The base of Store decorators: forwards every method of Store and StoreReader to an inner store,
// so a decorator overrides only what it changes and still gets the inner store's own fast
// versions of everything else (the Store defaults would go through copies).
//
// Every write runs between beforeWrite() and afterWrite(): a decorator that must see all writes
// (the server's cache generation, a fault injector) overrides those two instead of each write, so
// a write added to Store cannot slip past it. afterWrite() runs whether the write returned or
// threw.
//
// Adding a method to Store or StoreReader: forward it here too (writes through write()).
// tests/server/generation_store_test.cpp reads store.h and this file and fails when a virtual
// method of either class is not overridden here.
#pragma once
#include <utility>

#include "keb/store.h"

namespace keb {

class ForwardingStore : public Store {
public:
    explicit ForwardingStore(Store& inner) : inner_(inner) {}
    Store& inner() { return inner_; }

    // --- reads
    std::optional<Orchestration> getOrchestration(const std::string& id) override { return inner_.getOrchestration(id); }
    Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) override { return inner_.listOrchestrations(q); }
    std::vector<Orchestration> unfinishedOrchestrations() override { return inner_.unfinishedOrchestrations(); }
    std::optional<Operation> getOperation(const std::string& oid, const std::string& opid) override {
        return inner_.getOperation(oid, opid);
    }
    bool readOperation(const std::string& oid, const std::string& opid, Operation& out) override {
        return inner_.readOperation(oid, opid, out);
    }
    bool readOperationAt(const std::string& oid, const std::string& opid, std::int64_t seq, Operation& out) override {
        return inner_.readOperationAt(oid, opid, seq, out);
    }
    void prefetchOperation(const std::string& oid, std::int64_t seq) override { inner_.prefetchOperation(oid, seq); }
    Page<Operation> listOperations(const std::string& oid, const OperationQuery& q) override {
        return inner_.listOperations(oid, q);
    }
    std::vector<Operation> operationsOf(const std::string& oid) override { return inner_.operationsOf(oid); }
    OperationStats operationStats(const std::string& oid) override { return inner_.operationStats(oid); }
    void forEachOperation(const std::string& oid, const std::function<void(const Operation&)>& fn) override {
        inner_.forEachOperation(oid, fn);
    }
    void forEachOperationInState(const std::string& oid, OperationState state,
                                 const std::function<void(const Operation&)>& fn) override {
        inner_.forEachOperationInState(oid, state, fn);
    }
    void forEachOperationBrief(const std::string& oid, const std::function<void(const OperationBrief&)>& fn) override {
        inner_.forEachOperationBrief(oid, fn);
    }
    void forEachOperationBriefPacked(const std::string& oid,
                                     const std::function<void(const OperationBrief&)>& fn) override {
        inner_.forEachOperationBriefPacked(oid, fn);
    }
    StateCounts stateCounts() override { return inner_.stateCounts(); }
    OperationPageSource* pageSource() override { return inner_.pageSource(); }
    std::vector<Notification> pendingNotifications(std::size_t limit) override {
        return inner_.pendingNotifications(limit);
    }
    std::int64_t pendingNotificationCount() override { return inner_.pendingNotificationCount(); }

    // --- writes
    void insertOrchestration(const Orchestration& o) override {
        write("insertOrchestration", [&] { inner_.insertOrchestration(o); });
    }
    void updateOrchestration(const Orchestration& o) override {
        write("updateOrchestration", [&] { inner_.updateOrchestration(o); });
    }
    void insertOperations(const std::vector<Operation>& ops) override {
        write("insertOperations", [&] { inner_.insertOperations(ops); });
    }
    void updateOperations(const std::vector<Operation>& ops) override {
        write("updateOperations", [&] { inner_.updateOperations(ops); });
    }
    void updateOperation(const Operation& op) override {
        write("updateOperation", [&] { inner_.updateOperation(op); });
    }
    void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                           const std::vector<Operation>& updated) override {
        write("updateOrchestrationWithOperations", [&] { inner_.updateOrchestrationWithOperations(o, inserted, updated); });
    }
    void rescheduleOperations(const std::string& oid, const std::vector<ScheduleChange>& changes,
                              const std::string* description, Millis updatedAt) override {
        write("rescheduleOperations", [&] { inner_.rescheduleOperations(oid, changes, description, updatedAt); });
    }
    void updateOperationProgress(const std::string& oid, const ProgressChange& c) override {
        write("updateOperationProgress", [&] { inner_.updateOperationProgress(oid, c); });
    }
    void updateOrchestrationAddingOperations(const Orchestration& o,
                                             const std::function<bool(Operation&)>& next) override {
        write("updateOrchestrationAddingOperations", [&] { inner_.updateOrchestrationAddingOperations(o, next); });
    }
    void apply(const WriteBatch& batch) override {
        write(batch.describe(), [&] { inner_.apply(batch); });
    }
    void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) override {
        write("markNotificationsDelivered", [&] { inner_.markNotificationsDelivered(sequences); });
    }

protected:
    // Around every write (see the top of this file); `write` is the Store method's name (e.g.
    // "updateOperationProgress", "apply"). beforeWrite may throw: the write is then not
    // forwarded, and afterWrite still runs.
    virtual void beforeWrite(const char* write) { (void)write; }
    virtual void afterWrite() noexcept {}

    template <class F>
    void write(const char* name, F&& f) {
        struct After {
            ForwardingStore& s;
            ~After() { s.afterWrite(); }
        } after{*this};
        beforeWrite(name);
        f();
    }

private:
    Store& inner_;
};

}  // namespace keb
