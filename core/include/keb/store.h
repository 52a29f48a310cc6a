// Store interface (SPEC 2 paging semantics, SPEC 7 restart). Every implementation
// (memory, SQLite, the plain reference store) must pass the typed suite in
// tests/store_contract/store_contract.h, and the packed and durable stores must answer every read
// like the reference store (tests/store_contract/store_differential.h).
// Semantics (identical in every implementation):
//  - orchestrations are ordered by (createdAt, orchestrationID) ascending;
//  - operations of one orchestration by (createdAt, seq, operationID) ascending, where seq is the
//    per-orchestration creation index the engine assigns (0, 1, 2, ... continuing on retries);
//  - filter = any of `states` (empty: all); page p of size s returns items [(p-1)*s, p*s) of the
//    filtered order (empty past the end); count = items on this page; totalCount = all matching.
// Writes are durable when the call returns (a SQLite store commits before returning).
//
// Two levels: StoreReader is everything that only reads (what GET handlers, metrics and a read
// replica need); Store adds the writes (what the engine needs). A decorator derives from
// ForwardingStore (keb/forwarding_store.h), which forwards every method of both.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keb/model.h"

namespace keb {

class OperationPageSource;  // keb/api.h: the GET fast paths

// SPEC 11 fencing: a write refused because this process no longer holds the lease epoch it was
// fenced with (another replica took over). Nothing of the refused write was applied. The engine
// loop catches it by type: stop the engine, become a follower.
// A store call that failed because the store cannot be used right now (this replica was fenced, the
// database is unreachable), not because of the request: the API answers 503 and the client
// retries (SPEC 11). A marker base next to the exception's std::exception base; the API finds it
// with dynamic_cast.
class StoreUnavailable {
public:
    virtual ~StoreUnavailable() = default;
};

class StoreFencedError : public std::runtime_error, public StoreUnavailable {
public:
    using std::runtime_error::runtime_error;
};

// SPEC 14: one customer notification waiting in the outbox. The engine writes it in the same
// batch as the state change that causes it; the server's sender reads the pending ones in
// sequence order, sends them and marks them delivered (at least once: a crash between the send
// and the mark sends it again).
struct Notification {
    enum class Kind { Create, Start, End, Cancel };
    Kind kind = Kind::Create;
    std::string orchestrationID;
    std::string payload;        // the JSON body sent to the notification service
    std::int64_t sequence = 0;  // assigned by the store when written: 1, 2, 3, ... in write order
    bool operator==(const Notification&) const = default;
};
// "create", "start", "end", "cancel"
const char* toString(Notification::Kind k);

class StoreReader {
public:
    virtual ~StoreReader() = default;

    virtual std::optional<Orchestration> getOrchestration(const std::string& id) = 0;
    virtual Page<Orchestration> listOrchestrations(const OrchestrationQuery& q) = 0;
    // Orchestrations in pending, in progress, canceling, retrying or paused (every state that is
    // not final), by creation order.
    virtual std::vector<Orchestration> unfinishedOrchestrations() = 0;

    virtual std::optional<Operation> getOperation(const std::string& orchestrationID,
                                                  const std::string& operationID) = 0;
    // getOperation into a caller's Operation (its strings' capacity is reused: the engine reads
    // operations on every state change). false when unknown (out unspecified).
    virtual bool readOperation(const std::string& orchestrationID, const std::string& operationID, Operation& out) {
        auto op = getOperation(orchestrationID, operationID);
        if (!op) return false;
        out = std::move(*op);
        return true;
    }
    // readOperation with the operation's seq as a lookup hint (see Store::ProgressChange::seq).
    virtual bool readOperationAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                                 Operation& out) {
        (void)seq;
        return readOperation(orchestrationID, operationID, out);
    }
    // A hint that the operation with this seq is read or written soon (readOperationAt, a progress
    // change or a move naming its seq): a store holding records in memory may start loading it.
    // No effect on results; by default nothing.
    virtual void prefetchOperation(const std::string& orchestrationID, std::int64_t seq) {
        (void)orchestrationID;
        (void)seq;
    }
    virtual Page<Operation> listOperations(const std::string& orchestrationID, const OperationQuery& q) = 0;
    // Every operation of an orchestration in creation order (restart, retry).
    virtual std::vector<Operation> operationsOf(const std::string& orchestrationID) = 0;
    virtual OperationStats operationStats(const std::string& orchestrationID) = 0;

    // Visits every operation of an orchestration in creation order, without holding them all in
    // memory at once (restart, final counts, checks over 100,000 operations). fn must not call
    // into the store. The default copies operationsOf(); stores override it to stream.
    virtual void forEachOperation(const std::string& orchestrationID, const std::function<void(const Operation&)>& fn) {
        for (const Operation& op : operationsOf(orchestrationID)) fn(op);
    }
    // Every operation of an orchestration that is in `state`, whole, in creation order: a restart
    // reads the operations in progress with it (one streamed query, not one read per operation:
    // 100,000 round trips to PostgreSQL took seconds). fn must not call into the store. The default
    // filters forEachOperation; stores override it to filter before building Operations.
    virtual void forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                         const std::function<void(const Operation&)>& fn) {
        forEachOperation(orchestrationID, [&](const Operation& op) {
            if (op.state == state) fn(op);
        });
    }
    // The scheduling fields of every operation, in creation order: what a restart, the final count
    // and a retry need, without descriptions, configs or account fields (a store can produce it
    // without building whole Operations). The views are valid during the call only.
    struct OperationBrief {
        std::string_view operationID;
        std::string_view runtimeID;
        std::int64_t seq = 0;
        OperationState state = OperationState::Pending;
        Millis startAt = 0;
        bool immediate = false;
        bool isRetry = false;  // retryOf is set
        // Only from forEachOperationBriefPacked: the id's 16 bytes (keb/uuid.h) when the store
        // keeps it packed, its text view then empty; nullptr: the text view holds the id.
        const unsigned char* operationUuid = nullptr;
        const unsigned char* runtimeUuid = nullptr;
    };
    virtual void forEachOperationBrief(const std::string& orchestrationID,
                                       const std::function<void(const OperationBrief&)>& fn) {
        forEachOperation(orchestrationID, [&](const Operation& op) {
            fn(OperationBrief{op.operationID, op.runtimeID, op.seq, op.state, op.startAt, op.immediate,
                              !op.retryOf.empty(), nullptr, nullptr});
        });
    }
    // forEachOperationBrief for readers that keep ids packed or need none: a store that keeps an
    // id as 16 bytes may give those (operationUuid, runtimeUuid) instead of its text, so that
    // neither side converts (a restart of a 100,000-operation rollout visits every operation).
    // The default gives the text.
    virtual void forEachOperationBriefPacked(const std::string& orchestrationID,
                                             const std::function<void(const OperationBrief&)>& fn) {
        forEachOperationBrief(orchestrationID, fn);
    }

    // Orchestrations and operations of the whole store per state, every state present (zeros
    // included): the server's metrics. The default walks every orchestration; stores that keep
    // counters answer from them.
    struct StateCounts {
        std::map<OrchestrationState, std::int64_t> orchestrations;
        std::map<OperationState, std::int64_t> operations;
        bool operator==(const StateCounts&) const = default;
    };
    virtual StateCounts stateCounts() {
        StateCounts c;
        for (auto s : allOrchestrationStates()) c.orchestrations[s] = 0;
        for (auto s : {OperationState::Pending, OperationState::InProgress, OperationState::Succeeded,
                       OperationState::Failed, OperationState::Canceled})
            c.operations[s] = 0;
        for (int page = 1;; ++page) {
            OrchestrationQuery q;
            q.page = page;
            const Page<Orchestration> p = listOrchestrations(q);
            for (const Orchestration& o : p.data) {
                ++c.orchestrations[o.state];
                for (const auto& [s, n] : operationStats(o.orchestrationID)) c.operations[s] += n;
            }
            if (p.data.empty() || static_cast<std::int64_t>(page) * q.pageSize >= p.totalCount) break;
        }
        return c;
    }

    // The GET fast paths (pages and orchestrations as wire JSON straight from storage, same bytes
    // as the JSON path), when this store has them; nullptr otherwise. The source reads this
    // store's data and lives as long as it.
    virtual OperationPageSource* pageSource() { return nullptr; }

    // SPEC 14 outbox: up to `limit` undelivered notifications, lowest sequence first (the
    // server's sender; Store::markNotificationsDelivered removes them).
    virtual std::vector<Notification> pendingNotifications(std::size_t limit) = 0;
    // Undelivered notifications (the server's keb_notifications_queued).
    virtual std::int64_t pendingNotificationCount() = 0;
};

class Store : public StoreReader {
public:
    // Adding a write here? ForwardingStore (keb/forwarding_store.h) must forward it through its
    // write hook, the stores implement it, and tests/server/generation_store_test.cpp checks (by
    // reading this file) that every write of this class bumps the server's cache generation.

    virtual void insertOrchestration(const Orchestration& o) = 0;
    virtual void updateOrchestration(const Orchestration& o) = 0;

    // Batch writes are atomic (one transaction).
    virtual void insertOperations(const std::vector<Operation>& ops) = 0;
    virtual void updateOperations(const std::vector<Operation>& ops) = 0;
    void insertOperation(const Operation& op) { insertOperations({op}); }
    // One operation (the engine's most frequent write); stores may override it to skip the
    // batch vector.
    virtual void updateOperation(const Operation& op) { updateOperations({op}); }
    // Orchestration + its operations in one transaction (used when scheduling).
    virtual void updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                   const std::vector<Operation>& updated) = 0;

    // Moves pending operations to new start times and windows in one transaction. Only these
    // fields, updatedAt and (when `description` is given) the description change: the engine's
    // "maintenance window missed" path, frequent while workers are the bottleneck, and window
    // re-placement after a restart. Throws when an operation is unknown (nothing changes then).
    struct ScheduleChange {
        std::string operationID;
        Millis startAt = 0;
        Millis windowBegin = 0;
        Millis windowEnd = 0;
        std::int64_t seq = -1;  // the operation's seq: a lookup hint, as in ProgressChange
        const unsigned char* operationUuid = nullptr;  // optional, as in ProgressChange
    };
    virtual void rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                      const std::string* description, Millis updatedAt) {
        std::vector<Operation> ops(changes.size());
        for (std::size_t i = 0; i < changes.size(); ++i) {
            const ScheduleChange& c = changes[i];
            if (!readOperation(orchestrationID, c.operationID, ops[i]))
                throw std::runtime_error("no operation " + c.operationID + " in orchestration " + orchestrationID);
            applySchedule(c, description, updatedAt, ops[i]);
        }
        updateOperations(ops);
    }
    static void applySchedule(const ScheduleChange& c, const std::string* description, Millis updatedAt,
                              Operation& op) {
        op.startAt = c.startAt;
        op.maintenanceWindowBegin = c.windowBegin;
        op.maintenanceWindowEnd = c.windowEnd;
        if (description) op.description = *description;
        op.updatedAt = updatedAt;
    }
    // The engine's progress writes to one operation: only the fields set here change, never its
    // identity, runtime or configuration (which a full updateOperation would re-write). `seq` is
    // the operation's seq: a store may use it to find the record without its id index, but must
    // check the id. Throws when the operation is unknown (nothing changes then).
    struct ProgressChange {
        std::string operationID;
        std::int64_t seq = -1;
        OperationState state = OperationState::Pending;
        const std::string* description = nullptr;  // nullptr: unchanged
        Millis updatedAt = 0;
        std::optional<Millis> startedAt;
        std::optional<bool> upgradeStarted;
        std::optional<std::pair<Millis, Millis>> window;  // maintenanceWindowBegin, maintenanceWindowEnd
        // Optional: operationID's 16 bytes (keb/uuid.h) when the writer keeps it packed (the
        // engine's slots); a store that keeps ids packed checks these instead of the text. Must
        // be the text's bytes; nullptr: the text alone counts.
        const unsigned char* operationUuid = nullptr;
    };
    virtual void updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
        Operation op;
        if (!readOperation(orchestrationID, c.operationID, op))
            throw std::runtime_error("no operation " + c.operationID + " in orchestration " + orchestrationID);
        applyProgress(c, op);
        updateOperation(op);
    }
    static void applyProgress(const ProgressChange& c, Operation& op) {
        op.state = c.state;
        if (c.description) op.description = *c.description;
        op.updatedAt = c.updatedAt;
        if (c.startedAt) op.startedAt = *c.startedAt;
        if (c.upgradeStarted) op.upgradeStarted = *c.upgradeStarted;
        if (c.window) {
            op.maintenanceWindowBegin = c.window->first;
            op.maintenanceWindowEnd = c.window->second;
        }
    }
    // Like updateOrchestrationWithOperations(o, inserted, {}), with the new operations produced one
    // at a time: next(out) fills `out` (a fresh Operation each call) and returns false when there
    // are no more (that last `out` is not inserted). One transaction. Lets a 100,000-runtime
    // resolution write its operations without a second copy of all of them in memory.
    virtual void updateOrchestrationAddingOperations(const Orchestration& o,
                                                     const std::function<bool(Operation&)>& next) {
        std::vector<Operation> ops;
        for (Operation op; next(op); op = Operation{}) ops.push_back(std::move(op));
        updateOrchestrationWithOperations(o, ops, {});
    }

    // One write of the engine, committed in ONE transaction: all of it or (apply throws) none of
    // it. The engine writes only through apply(). The parts are applied in the order they are
    // declared here, so a later part sees the earlier ones (a progress change may name an
    // operation the same batch inserts; moves come before progress, as the engine flushes window
    // moves before it finishes an operation; updated orchestrations come last, so an
    // operationSource may still set the orchestration it writes, as in
    // updateOrchestrationAddingOperations). Each part has the semantics of the single write named
    // next to it, including what makes it throw (an unknown orchestration or operation, a
    // duplicate id, a failing producer).
    // A fenced store (PostgresStore::setFence, SPEC 11) checks the lease epoch first and throws
    // StoreFencedError (nothing written) when another engine holds a newer lease.
    // The 16 bytes (keb/uuid.h) of a new operation's UUID-shaped ids, when its producer has them
    // at hand (the engine's slots, a fleet that keeps ids packed): a store that keeps ids packed
    // takes these instead of parsing the text again. Each must be its text's bytes; nullptr:
    // not given, the text counts.
    struct OperationUuids {
        const unsigned char* operationID = nullptr;
        const unsigned char* runtimeID = nullptr;
        const unsigned char* instanceID = nullptr;
    };
    struct WriteBatch {
        std::vector<Orchestration> insertedOrchestrations;  // insertOrchestration
        std::vector<Operation> insertedOperations;          // insertOperations
        // More new operations produced one at a time, as in updateOrchestrationAddingOperations
        // (after insertedOperations; empty: none).
        std::function<bool(Operation&)> operationSource;
        // About how many operations operationSource produces (0: unknown). A hint only: a store
        // may size its tables for them up front instead of growing them while they stream in.
        std::size_t operationSourceSize = 0;
        // Optional: the packed ids of the operation operationSource's last call produced (the
        // producer sets them before it returns true). A hint, like operationSourceSize.
        const OperationUuids* operationSourceUuids = nullptr;
        std::vector<Operation> updatedOperations;  // updateOperations (whole records)
        struct Moves {                             // rescheduleOperations
            std::string orchestrationID;
            std::vector<ScheduleChange> changes;
            std::optional<std::string> description;  // nullopt: unchanged
            Millis updatedAt = 0;
        };
        std::vector<Moves> moves;
        struct Progress {  // updateOperationProgress; change.description must outlive apply()
            std::string orchestrationID;
            ProgressChange change;
        };
        std::vector<Progress> progress;
        std::vector<Orchestration> updatedOrchestrations;  // updateOrchestration (whole record)
        // SPEC 14 outbox rows, written after every other part (an operationSource may still add
        // to them, as it may set updatedOrchestrations); the store assigns their sequence in
        // vector order. Only kind, orchestrationID and payload are read.
        std::vector<Notification> notifications;

        bool empty() const {
            return insertedOrchestrations.empty() && updatedOrchestrations.empty() && insertedOperations.empty() &&
                   !operationSource && updatedOperations.empty() && moves.empty() && progress.empty() &&
                   notifications.empty();
        }
        // Empties every part, keeping the vectors' capacity (a writer may reuse one batch).
        void clear() {
            insertedOrchestrations.clear();
            insertedOperations.clear();
            operationSource = nullptr;
            operationSourceSize = 0;
            operationSourceUuids = nullptr;
            updatedOperations.clear();
            moves.clear();
            progress.clear();
            updatedOrchestrations.clear();
            notifications.clear();
            label = nullptr;
        }
        // What the writer calls this write (logs, fault injection), e.g. the engine's
        // "updateOperationProgress"; nullptr: describe() derives it from the parts.
        const char* label = nullptr;
        // label, else the single write this batch amounts to ("updateOperationProgress" for one
        // progress change, "updateOrchestration" for one orchestration, ...), else "apply".
        const char* describe() const;
    };
    virtual void apply(const WriteBatch& batch) = 0;

    // --- SPEC 14 outbox (the sender's side; the engine writes through WriteBatch::notifications;
    // the reads are StoreReader's pendingNotifications and pendingNotificationCount)
    // Marks notifications delivered (they are never returned again); unknown or already
    // delivered sequences are ignored. Durable when it returns.
    virtual void markNotificationsDelivered(const std::vector<std::int64_t>& sequences) = 0;
};

}  // namespace keb
