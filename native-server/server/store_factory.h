// Opening the store named by `--store SPEC`: the one place of the server that knows which
// stores exist. Everything above it (App: engine, GET handlers, metrics, the token secret file)
// uses what openStore returns and never asks which store it has.
//
//   memory          MemoryStore: no files, no concurrent readers (reads go to the engine thread)
//   sqlite:PATH     SqliteStore on PATH (WAL), the one-engine-per-store lock PATH.lock, and a
//                   pool of read-only connections for the HTTP threads
//   postgres://...  (and postgresql://) PostgresStore: the URI passed to libpq as-is, migrated at
//                   open; readers are connections of their own (SPEC 11)
//
// Adding a store: a branch in openStore (store_factory.cpp) that fills an OpenedStore, a case in
// tests/server/store_factory_test.cpp, and an instantiation of the store contract and the
// differential test (tests/store_contract/).
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "keb/store.h"

namespace keb::server {

// A spec that names no store this build has (the message says what is accepted).
class StoreSpecError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

struct StoreOpenOptions {
    bool synchronousFull = true;  // sqlite: --sqlite-synchronous full (true) or normal
    // Hold the store's one-engine lock while open (a second keb-server on the same store would
    // drive the same orchestrations and start upgrades twice). Tools that only fill or read a
    // store offline may turn it off.
    bool exclusive = true;
};

// Readers of the store for threads other than the engine's (HTTP GETs, metrics). Each lease is
// used by one thread at a time; it sees committed data and runs while the engine writes.
class StoreReaderPool {
public:
    virtual ~StoreReaderPool() = default;

    class Lease {
    public:
        Lease(StoreReaderPool& pool, std::unique_ptr<Store> reader) : pool_(&pool), reader_(std::move(reader)) {}
        Lease(Lease&& o) noexcept : pool_(o.pool_), reader_(std::move(o.reader_)) {}
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (reader_) pool_->give(std::move(reader_));
        }
        StoreReader& operator*() { return *reader_; }
        StoreReader* operator->() { return reader_.get(); }
        // The reader as a Store, for interfaces that still take one (ApiRouter, until its reads go
        // through a StoreReader). Only read through it: its writes throw (read-only connection).
        Store& asStore() { return *reader_; }

    private:
        StoreReaderPool* pool_;
        std::unique_ptr<Store> reader_;
    };

    // A reader from the pool, or a new one (throws when it cannot be opened). Back to the pool
    // when the lease ends. Its reads see everything committed before the call.
    Lease borrow() { return Lease(*this, take(0)); }
    // The same, for a caller that read the server's cache generation (generation_store.h, never
    // 0) BEFORE calling: its reads may come from a read snapshot the reader kept from an earlier
    // lease taken at the same generation (no write has committed since, as for the response
    // cache), which saves beginning and ending a snapshot per request. SQLite readers do so;
    // other pools answer as borrow().
    Lease borrowAt(std::uint64_t generation) { return Lease(*this, take(generation)); }

protected:
    virtual std::unique_ptr<Store> take(std::uint64_t generation) = 0;
    virtual void give(std::unique_ptr<Store> reader) noexcept = 0;
};

class StoreLock;  // store_factory.cpp: the one-engine-per-store lock

struct OpenedStore {
    OpenedStore();
    OpenedStore(OpenedStore&&) noexcept;
    OpenedStore& operator=(OpenedStore&&) noexcept;
    ~OpenedStore();

    std::unique_ptr<StoreLock> lock;  // first: released after everything below is closed
    std::string kind;                 // "memory", "sqlite" (logs, /healthz)
    std::unique_ptr<Store> store;     // the engine's store: written and read by the engine thread
    // Readers beside the engine (own connections); nullptr when the store has none: then reads
    // go through the engine thread (EngineLoop::call), as for the memory store.
    std::unique_ptr<StoreReaderPool> readers;
    // Where files that belong with the store go, as a path prefix (PREFIX.jwt-secret, the demo's
    // PREFIX.upgrades.jsonl); empty when the store keeps no files (they are then not kept).
    std::string filesPrefix;
};

// "" when the spec names a store of this build, else the error openStore would throw (for
// option parsing: fail before anything starts).
std::string storeSpecError(const std::string& spec);

// Opens (creating if needed) the store. Throws StoreSpecError for a spec this build does not
// have, SqliteError when the file cannot be opened or migrated, PgError when PostgreSQL cannot be
// reached or migrated, std::runtime_error when another
// keb-server holds the store's lock.
OpenedStore openStore(const std::string& spec, const StoreOpenOptions& options = {});

}  // namespace keb::server
