#include "lease.h"
#include "redact.h"

#include <memory>

#include "log.h"
#include "pg_lite.h"

namespace keb::server {

const char* const kLeaseSchemaSql = R"SQL(
CREATE TABLE IF NOT EXISTS keb_lease (id integer PRIMARY KEY CHECK (id = 1), holder text NOT NULL,
    epoch bigint NOT NULL, expires_at timestamptz NOT NULL, advertise_url text NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS keb_lease_history (epoch bigint PRIMARY KEY, holder text NOT NULL,
    taken_at timestamptz NOT NULL);
)SQL";

namespace {

using Steady = std::chrono::steady_clock;

// Takes the lease when there is no row or it has expired, in one statement; returns the new epoch.
const char* const kTakeSql = R"SQL(
WITH took AS (
  INSERT INTO keb_lease AS l (id, holder, epoch, expires_at, advertise_url)
  VALUES (1, $1, 1, now() + $2::bigint * interval '1 millisecond', $3)
  ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1,
      expires_at = EXCLUDED.expires_at, advertise_url = EXCLUDED.advertise_url
  WHERE l.expires_at < now()
  RETURNING l.epoch, l.holder)
INSERT INTO keb_lease_history (epoch, holder, taken_at) SELECT epoch, holder, clock_timestamp() FROM took
RETURNING epoch)SQL";

const char* const kRenewSql =
    "UPDATE keb_lease SET expires_at = now() + $3::bigint * interval '1 millisecond' "
    "WHERE id = 1 AND holder = $1 AND epoch = $2 RETURNING epoch";

const char* const kReadSql =
    "SELECT holder, epoch, advertise_url, expires_at > now() FROM keb_lease WHERE id = 1";

const char* const kReleaseSql =
    "UPDATE keb_lease SET expires_at = now() - interval '1 millisecond' WHERE id = 1 AND holder = $1 AND epoch = $2";

}  // namespace

LeaseManager::LeaseManager(LeaseOptions options) : o_(std::move(options)), margin_(std::max<Millis>(o_.ttl / 5, 100)) {}

LeaseManager::~LeaseManager() { stop(false); }

void LeaseManager::start() {
    PgLite db(o_.uri);
    db.exec("BEGIN");
    db.exec("SELECT pg_advisory_xact_lock(7160201)");  // replicas starting together: one creates
    db.exec(kLeaseSchemaSql);
    db.exec("COMMIT");
    thread_ = std::thread([this] { run(); });
}

void LeaseManager::stop(bool release) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_ && !thread_.joinable()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lk(mu_);
    if (release && view_.leader) {
        try {
            PgLite db(o_.uri, 2000);
            db.exec(kReleaseSql, {o_.replicaId, std::to_string(view_.epoch)});
            logEvent("info", "lease.released", {{"epoch", view_.epoch}, {"replica", o_.replicaId}});
        } catch (const std::exception& ex) {
            logEvent("warn", "lease.release_failed", {{"error", ex.what()}});
        }
        view_.leader = false;
    }
}

LeaseView LeaseManager::view() const {
    std::lock_guard<std::mutex> lk(mu_);
    return view_;
}

bool LeaseManager::holds(std::int64_t epoch) const {
    std::lock_guard<std::mutex> lk(mu_);
    return view_.leader && view_.epoch == epoch && Steady::now() < deadline_;
}

void LeaseManager::demote(const std::string& why) {
    std::lock_guard<std::mutex> lk(mu_);
    if (view_.leader) loseLocked(why);
}

LeaseView LeaseManager::waitChange(std::uint64_t seen, Millis timeout) const {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::milliseconds(timeout), [&] { return view_.version != seen || stopping_; });
    return view_;
}

void LeaseManager::loseLocked(const std::string& why) {
    logEvent("warn", "lease.lost", {{"epoch", view_.epoch}, {"replica", o_.replicaId}, {"reason", why}});
    view_.leader = false;
    view_.leaderUrl.clear();
    ++view_.version;
    cv_.notify_all();
}

// One round: a leader renews (or steps down by its own clock); a follower reads the row and takes
// it when it has expired.
void LeaseManager::tick(PgLite& db) {
    std::unique_lock<std::mutex> lk(mu_);
    const bool leader = view_.leader;
    const std::int64_t epoch = view_.epoch;
    lk.unlock();
    const auto t0 = Steady::now();
    if (leader) {
        auto r = db.exec(kRenewSql, {o_.replicaId, std::to_string(epoch), std::to_string(o_.ttl)});
        lk.lock();
        if (!view_.leader || view_.epoch != epoch) return;  // demoted meanwhile
        if (r.rows() == 1 && t0 + std::chrono::milliseconds(o_.ttl - margin_) > Steady::now()) {
            deadline_ = t0 + std::chrono::milliseconds(o_.ttl - margin_);
            nextRenew_ = t0 + std::chrono::milliseconds(o_.ttl / 3);
        } else {
            loseLocked(r.rows() == 1 ? "renewal came too late" : "the lease was taken over");
        }
        return;
    }
    auto took = db.exec(kTakeSql, {o_.replicaId, std::to_string(o_.ttl), o_.advertiseUrl});
    lk.lock();
    if (took.rows() == 1) {
        view_.leader = true;
        view_.epoch = took.integer(0, 0);
        view_.holder = o_.replicaId;
        view_.leaderUrl = o_.advertiseUrl;
        deadline_ = t0 + std::chrono::milliseconds(o_.ttl - margin_);
        nextRenew_ = t0 + std::chrono::milliseconds(o_.ttl / 3);
        ++view_.version;
        cv_.notify_all();
        logEvent("info", "lease.taken", {{"epoch", view_.epoch}, {"replica", o_.replicaId}});
        return;
    }
    lk.unlock();
    auto row = db.exec(kReadSql);
    lk.lock();
    if (row.rows() != 1 || view_.leader) return;
    std::string holder = row.text(0, 0), url = row.boolean(0, 3) ? row.text(0, 2) : "";
    std::int64_t e = row.integer(0, 1);
    if (holder != view_.holder || e != view_.epoch || url != view_.leaderUrl) {
        view_.holder = holder;
        view_.epoch = e;
        view_.leaderUrl = url;
        ++view_.version;
        cv_.notify_all();
    }
}

void LeaseManager::run() {
    std::unique_ptr<PgLite> db;
    const Millis followerPoll = std::clamp<Millis>(o_.ttl / 10, 50, 500);
    const std::vector<std::string> secrets = storeSecrets(o_.uri);
    for (;;) {
        {
            std::unique_lock<std::mutex> lk(mu_);
            if (stopping_) return;
            // Step down by our own clock first: a renewal that cannot get through does not keep us.
            if (view_.leader && Steady::now() >= deadline_) loseLocked("could not renew within ttl - margin");
        }
        try {
            if (!db || !db->ok()) db = std::make_unique<PgLite>(o_.uri, static_cast<int>(std::max<Millis>(o_.ttl / 3, 100)));
            tick(*db);
            std::lock_guard<std::mutex> lk(mu_);
            if (!view_.problem.empty()) {
                view_.problem.clear();
                ++view_.version;
                cv_.notify_all();
                logEvent("info", "lease.database_back", {});
            }
        } catch (const std::exception& ex) {
            db.reset();  // reconnect next round (terminated session, restarted server)
            // Shown by /healthz and in 503 answers: never the URI's password (redact.h).
            const std::string problem = scrubSecrets(ex.what(), secrets);
            std::lock_guard<std::mutex> lk(mu_);
            if (view_.problem != problem) {
                view_.problem = problem;
                ++view_.version;
                cv_.notify_all();
                logEvent("warn", "lease.database_error", {{"error", problem}});
            }
        }
        std::unique_lock<std::mutex> lk(mu_);
        auto until = Steady::now() + std::chrono::milliseconds(followerPoll);
        if (view_.leader && view_.problem.empty()) until = std::min(nextRenew_, deadline_);
        cv_.wait_until(lk, until, [&] { return stopping_; });
    }
}

}  // namespace keb::server
