// SPEC 14 in the simulator: the notification service at the other end of keb-server's sender.
// The engine writes outbox rows into the store (Store::WriteBatch::notifications, scenario
// `engine.notifications: true` plus a request's `"notification": true`); the sink drains them the
// way native-server/server/notification_sender.cpp does: Store::pendingNotifications in sequence
// order, then Store::markNotificationsDelivered. It counts what it received by kind, with the
// tenants (instance ids) each payload carries, and notes payloads that break the contract
// (keb/notify.h) or name a tenant their orchestration's create event never announced.
//
// Delivery is exactly once here: a row is counted and marked in the same simulator step, so a
// simulated restart never falls between the send and the mark (the server's at-least-once window;
// tests/server/notification_e2e_test.cpp covers it). While the service is down (scenario
// `faults.notificationOutages`) rows stay in the store's outbox, across restarts, until it is up.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "keb/store.h"
#include "keb/wire.h"

namespace keb::sim {

class NotificationSink {
public:
    // Everything pending in `store`'s outbox, oldest first, each passed to `delivered` (for the
    // event log) and then marked delivered. Returns how many rows were delivered.
    std::size_t drain(Store& store, const std::function<void(const Notification&, std::size_t tenants)>& delivered);

    std::int64_t count(Notification::Kind k) const { return counts_[static_cast<std::size_t>(k)]; }
    std::int64_t total() const;
    // Tenants announced by create events; instances that got a start, an end event.
    std::size_t tenantsAnnounced() const { return announced_.size(); }
    std::size_t instancesStarted() const { return started_.size(); }
    std::size_t instancesEnded() const { return ended_.size(); }
    // End events of an (orchestration, instance) that had no start event before (the engine ends
    // operations it skipped or superseded without starting them: reported, not an error).
    std::int64_t endsWithoutStart() const { return endsWithoutStart_; }
    // Contract violations: a payload that is not the notify.h shape, whose orchestrationId is not
    // the row's, or a start/end of a tenant no create event of that orchestration announced.
    std::int64_t problems() const { return problems_; }
    const std::vector<std::string>& problemSamples() const { return samples_; }
    Json summary() const;

private:
    void take(const Notification& n, std::size_t& tenants);
    void problem(std::string what);

    std::array<std::int64_t, 4> counts_{};
    std::unordered_set<std::string> announced_;  // orchestrationID + '/' + instanceID
    std::unordered_set<std::string> started_, ended_;
    std::int64_t endsWithoutStart_ = 0;
    std::int64_t problems_ = 0;
    std::vector<std::string> samples_;
};

}  // namespace keb::sim
