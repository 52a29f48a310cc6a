// SPEC 14: the background sender of customer notifications (keb-server --notification-url).
// The engine writes outbox rows in the transaction of the state change that causes them
// (keb/store.h Notification); this thread reads the pending rows in sequence order, sends each
// to the notification service (POST createMaintenanceEvent, PATCH updateMaintenanceEvent /
// cancelMaintenanceEvent) and marks it delivered once the service answered 2xx. On an error it
// waits the retry interval (5 s) and tries the same row again: delivery is at least once, in
// order, and survives restarts (rows stay in the store until marked). It never runs on the engine
// thread: a slow or dead service delays notifications, never upgrades.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keb/model.h"
#include "keb/store.h"

namespace keb::server {

// A parsed --notification-url: http(s)://HOST[:PORT][/PATH] (no query, fragment or user info).
struct NotificationUrl {
    std::string scheme;  // http | https
    std::string host;
    int port = 0;        // the scheme's default when not given
    std::string path;    // without a trailing slash ("" for the root)
    std::string schemeHostPort() const;  // what cpp-httplib's Client takes
};
// nullopt with *error saying what is wrong.
std::optional<NotificationUrl> parseNotificationUrl(const std::string& url, std::string* error);

// Where a notification goes: method and path below the URL ("POST", "/createMaintenanceEvent").
std::pair<const char*, const char*> notificationEndpoint(Notification::Kind kind);

class NotificationSender {
public:
    struct StoreAccess {
        // Up to n pending rows, lowest sequence first (may throw: tried again after the retry).
        std::function<std::vector<Notification>(std::size_t n)> pending;
        std::function<void(const std::vector<std::int64_t>&)> markDelivered;
    };
    NotificationSender(NotificationUrl url, StoreAccess store, Millis retryInterval, Millis idlePoll = 200);
    ~NotificationSender();
    NotificationSender(const NotificationSender&) = delete;
    NotificationSender& operator=(const NotificationSender&) = delete;

    void start();
    // Stops after the request in flight (if any); rows not yet marked stay pending.
    void stop();
    // Look at the outbox now instead of at the next idle poll.
    void wake();

    std::uint64_t sent() const { return sent_.load(); }
    std::uint64_t failed() const { return failed_.load(); }

private:
    void run();
    bool send(const Notification& n);  // true: the service answered 2xx
    bool waitFor(Millis d, bool wakeable);  // false when stopping

    NotificationUrl url_;
    StoreAccess store_;
    Millis retryInterval_;
    Millis idlePoll_;
    std::atomic<std::uint64_t> sent_{0}, failed_{0};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace keb::server
