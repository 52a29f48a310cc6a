// Leadership between keb-server replicas on one PostgreSQL database (SPEC 11). One lease row
// (keb_lease, id = 1) names the holder, its epoch and when it expires, by the DATABASE's clock.
// A replica takes the row when it has expired (epoch + 1), renews it every ttl/3, and steps down
// by its OWN monotonic clock when it could not renew within ttl minus a margin: by then a follower
// may already lead. What makes a late writer harmless is the fence (the epoch checked in every
// write transaction, PostgresStore::setFence); the lease only decides who should lead.
//
// The manager runs on its own thread and its own connection. Every take-over also appends a row
// to keb_lease_history (epoch, holder, taken_at = clock_timestamp() after the row lock), the
// evidence the HA test reads ("epochs only grow", "no write after the lease was lost").
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "keb/model.h"

namespace keb::server {

struct LeaseOptions {
    std::string uri;           // libpq connection URI
    std::string replicaId;     // --replica-id
    std::string advertiseUrl;  // --advertise-url: where followers forward writes
    Millis ttl = 15 * kSecond; // --lease-ttl
};

struct LeaseView {
    bool leader = false;
    std::int64_t epoch = 0;    // ours when leader, else the last one seen in the row
    std::string holder;        // the row's holder ("" when no row yet)
    std::string leaderUrl;     // its advertise URL, "" when the lease has expired (no leader)
    std::string problem;       // "" or why the database could not be reached
    std::uint64_t version = 0; // grows on every change of leader/epoch/problem
};

class LeaseManager {
public:
    explicit LeaseManager(LeaseOptions options);
    ~LeaseManager();
    LeaseManager(const LeaseManager&) = delete;
    LeaseManager& operator=(const LeaseManager&) = delete;

    // Creates the tables if needed (throws PgLiteError when the database cannot be reached) and
    // starts the thread.
    void start();
    // Stops the thread; release: give the lease up (expires_at = now()) so that a follower takes
    // over at its next poll. Call after the engine has stopped writing.
    void stop(bool release);

    LeaseView view() const;
    // True while we lead with this epoch and our monotonic deadline has not passed.
    bool holds(std::int64_t epoch) const;
    // Our write was fenced (someone else took the lease): follower now, without waiting.
    void demote(const std::string& why);
    // Waits until view().version != seen or the timeout passes.
    LeaseView waitChange(std::uint64_t seen, Millis timeout) const;

private:
    void run();
    void loseLocked(const std::string& why);
    void tick(class PgLite& db);

    const LeaseOptions o_;
    const Millis margin_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    LeaseView view_;
    std::chrono::steady_clock::time_point deadline_{}, nextRenew_{};
    bool stopping_ = false;
    std::thread thread_;
};

// The lease tables, created idempotently (also by the store's migration).
extern const char* const kLeaseSchemaSql;

}  // namespace keb::server
