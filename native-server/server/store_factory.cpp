#include "store_factory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "keb/memory_store.h"
#include "postgres_store.h"
#include "redact.h"
#include "sqlite_store.h"

namespace keb::server {

// flock on PATH.lock, held while open. The kernel drops it when the process dies (kill -9), so a
// stale lock file never blocks a restart.
class StoreLock {
public:
    explicit StoreLock(const std::string& storePath) {
        const std::string lockPath = storePath + ".lock";
        fd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw std::runtime_error("cannot open lock file '" + lockPath + "': " + std::strerror(errno));
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            ::close(fd_);
            throw std::runtime_error("another keb-server is already using the store '" + storePath + "' (lock " +
                                     lockPath + " is held)");
        }
    }
    ~StoreLock() { ::close(fd_); }
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

private:
    int fd_ = -1;
};

OpenedStore::OpenedStore() = default;
OpenedStore::OpenedStore(OpenedStore&&) noexcept = default;
OpenedStore& OpenedStore::operator=(OpenedStore&&) noexcept = default;
OpenedStore::~OpenedStore() = default;

namespace {

// Read-only SQLite connections on the store's file (WAL: readers never block the writer).
// A reader taken with a generation keeps its read snapshot between leases while the generation
// is unchanged (borrowAt); a snapshot pins the WAL frames it sees (the engine's checkpoints cannot
// copy past them), so a sweeper ends the snapshots of idle readers older than kSnapshotMaxAge, and
// a reader taken for anything else (borrow, another generation) ends its snapshot first.
class SqliteReaderPool : public StoreReaderPool {
public:
    explicit SqliteReaderPool(std::string path) : path_(std::move(path)), sweeper_([this] { sweep(); }) {}
    ~SqliteReaderPool() override {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        sweeper_.join();
    }

protected:
    std::unique_ptr<Store> take(std::uint64_t generation) override {
        std::unique_ptr<SqliteStore> r;
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (!idle_.empty()) {
                auto it = idle_.end() - 1;  // the most recently used, unless another holds this generation's snapshot
                if (generation != 0 && (*it)->heldSnapshot() != generation) {
                    for (auto j = idle_.begin(); j != idle_.end(); ++j)
                        if ((*j)->heldSnapshot() == generation) it = j;
                }
                r = std::move(*it);
                idle_.erase(it);
            }
        }
        if (!r) {
            SqliteOptions ro;
            ro.readOnly = true;
            ro.pageAnchors = anchors_;  // one scan per orchestration for all readers
            r = std::make_unique<SqliteStore>(path_, ro);
        }
        if (generation != 0 && r->heldSnapshot() == generation) {
            r->resetBusyStatements();
        } else {
            r->endAbandonedReads();  // a read that failed half-way (or an older snapshot) must not stay pinned
            if (generation != 0) r->holdSnapshot(generation);
        }
        return r;
    }
    void give(std::unique_ptr<Store> reader) noexcept override {
        // Every reader of this pool was made by take(): a SqliteStore.
        std::unique_ptr<SqliteStore> r(static_cast<SqliteStore*>(reader.release()));
        std::lock_guard<std::mutex> lk(mu_);
        try {
            idle_.push_back(std::move(r));
        } catch (...) {  // out of memory: the connection closes instead of going back
        }
    }

private:
    static constexpr std::chrono::milliseconds kSnapshotMaxAge{100};
    void sweep() {
        std::unique_lock<std::mutex> lk(mu_);
        while (!cv_.wait_for(lk, kSnapshotMaxAge / 2, [this] { return stop_; })) {
            const auto now = std::chrono::steady_clock::now();
            for (auto& r : idle_)
                if (r->heldSnapshot() != 0 && now - r->heldSince() > kSnapshotMaxAge) r->endAbandonedReads();
        }
    }

    const std::string path_;
    const std::shared_ptr<PageAnchors> anchors_ = std::make_shared<PageAnchors>();
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::vector<std::unique_ptr<SqliteStore>> idle_;
    std::thread sweeper_;  // last: starts after everything it uses exists
};

// Connections of their own to the same PostgreSQL database (readOnly: they never migrate).
class PostgresReaderPool : public StoreReaderPool {
public:
    explicit PostgresReaderPool(std::string uri) : uri_(std::move(uri)) {}

protected:
    std::unique_ptr<Store> take(std::uint64_t) override {
        {
            std::lock_guard<std::mutex> lk(mu_);
            while (!idle_.empty()) {
                std::unique_ptr<PostgresStore> r = std::move(idle_.back());
                idle_.pop_back();
                if (r->connection().ensureConnected()) return r;  // a dead one (server restarted) is dropped
            }
        }
        PostgresOptions ro;
        ro.readOnly = true;
        ro.pageAnchors = anchors_;  // one scan per orchestration for all readers
        return std::make_unique<PostgresStore>(uri_, ro);
    }
    void give(std::unique_ptr<Store> reader) noexcept override {
        std::unique_ptr<PostgresStore> r(static_cast<PostgresStore*>(reader.release()));
        std::lock_guard<std::mutex> lk(mu_);
        try {
            idle_.push_back(std::move(r));
        } catch (...) {
        }
    }

private:
    const std::string uri_;
    const std::shared_ptr<PageAnchors> anchors_ = std::make_shared<PageAnchors>();
    std::mutex mu_;
    std::vector<std::unique_ptr<PostgresStore>> idle_;
};

const char* const kAccepted = "expected memory, sqlite:PATH or a postgresql:// URI";

bool startsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

std::string storeSpecError(const std::string& spec) {
    if (spec == "memory") return "";
    if (startsWith(spec, "sqlite:")) {
        if (spec.size() == 7) return "store 'sqlite:' has no file path (" + std::string(kAccepted) + ")";
        return "";
    }
    if (startsWith(spec, "postgres://") || startsWith(spec, "postgresql://")) return "";  // libpq judges the rest
    if (spec.empty()) return std::string("no store given; ") + kAccepted;
    return "unknown store '" + redactStoreSpec(spec) + "'; " + kAccepted;
}

OpenedStore openStore(const std::string& spec, const StoreOpenOptions& options) {
    if (std::string err = storeSpecError(spec); !err.empty()) throw StoreSpecError(err);
    OpenedStore out;
    if (spec == "memory") {
        out.kind = "memory";
        out.store = std::make_unique<MemoryStore>();
        return out;
    }
    if (startsWith(spec, "postgres://") || startsWith(spec, "postgresql://")) {
        // The URI goes to libpq as-is. No one-engine lock here: with several replicas on one
        // database, leadership (the lease row) decides who runs the engine (SPEC 11).
        out.kind = "postgres";
        out.store = std::make_unique<PostgresStore>(spec);  // connects and migrates: readers need the schema
        out.readers = std::make_unique<PostgresReaderPool>(spec);
        return out;
    }
    const std::string path = spec.substr(7);
    out.kind = "sqlite";
    if (options.exclusive) out.lock = std::make_unique<StoreLock>(path);  // before the file is touched
    SqliteOptions so;
    so.synchronousFull = options.synchronousFull;
    out.store = std::make_unique<SqliteStore>(path, so);  // creates and migrates: readers need the schema
    out.readers = std::make_unique<SqliteReaderPool>(path);
    out.filesPrefix = path;
    return out;
}

}  // namespace keb::server
