// openStore: each spec gives the store it names and what the server needs from it (readers
// beside the engine, where side files go, the one-engine lock); specs this build does not have
// give a clear error (StoreSpecError) and open nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "keb/api.h"
#include "keb/memory_store.h"
#include "sqlite_store.h"
#include "store_contract.h"
#include "postgres_store.h"
#include "store_factory.h"
#include "redact.h"

// Only the test data helpers of the contract header are used here (it runs in keb-store-contract-tests).
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreContract);

namespace {

using namespace keb;
using namespace keb::server;
using contract::makeOp;
using contract::makeOrch;

// The store URI's password never printed (redact.h, SPEC 11).
TEST(RedactStoreSpec, HidesEveryFormOfThePassword) {
    EXPECT_EQ(redactStoreSpec("postgresql://keb:s3cret@db.example:5432/keb"), "postgresql://keb:***@db.example:5432/keb");
    EXPECT_EQ(redactStoreSpec("postgres://keb:p%40ss@h/db?sslmode=require&password=two&x=1"),
              "postgres://keb:***@h/db?sslmode=require&password=***&x=1");
    EXPECT_EQ(redactStoreSpec("host=h user=keb password='a b\\'c' dbname=keb"), "host=h user=keb password=*** dbname=keb");
    EXPECT_EQ(redactStoreSpec("host=h PASSWORD = pw dbname=keb"), "host=h PASSWORD = *** dbname=keb");
    EXPECT_EQ(redactStoreSpec("postgresql://keb@h/db"), "postgresql://keb@h/db");  // no password: unchanged
    EXPECT_EQ(redactStoreSpec("sqlite:/var/lib/keb.db"), "sqlite:/var/lib/keb.db");
    EXPECT_EQ(redactStoreSpec("password authentication failed for user \"keb\""),
              "password authentication failed for user \"keb\"");
    const auto secrets = storeSecrets("postgresql://keb:p%40ss-word@h/db?password=other1");
    EXPECT_EQ(scrubSecrets("invalid token \"p%40ss-word\", p@ss-word, other1", secrets), "invalid token \"***\", ***, ***");
    EXPECT_EQ(storeSpecError("postgre://keb:s3cret@h/db").find("s3cret"), std::string::npos);
}

struct TempDir {
    std::filesystem::path dir;
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "keb-store-factory-XXXXXX").string();
        dir = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

TEST(StoreFactory, MemoryHasNoFilesAndNoReaders) {
    OpenedStore s = openStore("memory");
    EXPECT_EQ(s.kind, "memory");
    ASSERT_NE(s.store, nullptr);
    EXPECT_NE(dynamic_cast<MemoryStore*>(s.store.get()), nullptr);
    EXPECT_EQ(s.readers, nullptr) << "memory reads go through the engine thread";
    EXPECT_EQ(s.filesPrefix, "");
    s.store->insertOrchestration(makeOrch("o", 1));
    EXPECT_TRUE(s.store->getOrchestration("o").has_value());
    EXPECT_EQ(openStore("memory").store->listOrchestrations({}).totalCount, 0) << "each memory store is new";
}

TEST(StoreFactory, SqliteGivesReadersThatSeeCommittedWritesAndTheFastPaths) {
    TempDir tmp;
    const std::string path = (tmp.dir / "keb.db").string();
    OpenedStore s = openStore("sqlite:" + path, StoreOpenOptions{false, true});
    EXPECT_EQ(s.kind, "sqlite");
    EXPECT_NE(dynamic_cast<SqliteStore*>(s.store.get()), nullptr);
    EXPECT_EQ(s.filesPrefix, path);
    EXPECT_TRUE(std::filesystem::exists(path));
    ASSERT_NE(s.readers, nullptr);

    s.store->insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.store->insertOperations({makeOp("o", "a", 1, 0), makeOp("o", "b", 1, 1, OperationState::Failed)});
    {
        auto r = s.readers->borrow();
        EXPECT_EQ(r->listOperations("o", {}).totalCount, 2);
        EXPECT_EQ(r->stateCounts(), s.store->stateCounts());
        ASSERT_NE(r->pageSource(), nullptr) << "SQLite readers render pages from the rows";
        std::string page;
        ASSERT_TRUE(r->pageSource()->appendOperationPage("o", {}, page));
        EXPECT_EQ(page, dumpWire(pageJson(s.store->listOperations("o", {}))));
        EXPECT_THROW(r.asStore().insertOrchestration(makeOrch("x", 2)), std::exception) << "readers are read-only";
    }
    // A reader back in the pool sees later commits (its snapshot does not stick).
    s.store->insertOperation(makeOp("o", "c", 1, 2));
    {
        auto r = s.readers->borrow();
        EXPECT_EQ(r->operationStats("o")[OperationState::Pending], 2);
    }
    // Concurrent leases are separate connections, usable from other threads while the engine writes.
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i) {
                auto r = s.readers->borrow();
                if (r->getOrchestration("o")) ++ok;
            }
        });
    for (int i = 0; i < 20; ++i) s.store->insertOperation(makeOp("o", "w" + std::to_string(i), 2, 10 + i));
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 80);
}

// borrowAt(generation): a SQLite reader keeps its read snapshot between leases at the same
// generation (the caller's promise that nothing committed since), starts a new one at another
// generation or for borrow(), and an idle reader's snapshot ends after ~100 ms (it would keep
// the engine's checkpoints from copying the WAL past it).
TEST(StoreFactory, SqliteReadersKeepASnapshotOnlyWhileTheGenerationIsUnchanged) {
    TempDir tmp;
    const std::string path = (tmp.dir / "keb.db").string();
    OpenedStore s = openStore("sqlite:" + path, StoreOpenOptions{false, true});
    ASSERT_NE(s.readers, nullptr);
    s.store->insertOrchestration(makeOrch("o", 1, OrchestrationState::InProgress));
    s.store->insertOperations({makeOp("o", "a", 1, 0), makeOp("o", "b", 1, 1)});
    auto total = [](StoreReaderPool::Lease& r) {
        std::string page;
        EXPECT_TRUE(r->pageSource()->appendOperationPage("o", {}, page));
        return Json::parse(page)["totalCount"].get<int>();
    };
    {
        auto r = s.readers->borrowAt(5);
        EXPECT_EQ(total(r), 2);
    }
    s.store->insertOperation(makeOp("o", "c", 1, 2));  // (the server would bump its generation here)
    {
        auto r = s.readers->borrowAt(5);
        EXPECT_EQ(total(r), 2) << "the same generation reads the kept snapshot";
        EXPECT_EQ(total(r), 2);
    }
    {
        auto r = s.readers->borrowAt(6);
        EXPECT_EQ(total(r), 3) << "a new generation starts a new snapshot";
    }
    s.store->insertOperation(makeOp("o", "d", 1, 3));
    {
        auto r = s.readers->borrow();
        EXPECT_EQ(total(r), 4) << "borrow() ends a kept snapshot";
        EXPECT_EQ(r->operationStats("o")[OperationState::Pending], 4);
    }
    {
        auto r = s.readers->borrowAt(7);
        EXPECT_EQ(total(r), 4);
    }
    s.store->insertOperation(makeOp("o", "e", 1, 4));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    {
        auto r = s.readers->borrowAt(7);
        EXPECT_EQ(total(r), 5) << "an idle reader's snapshot ends after ~100 ms";
    }
    // Nothing pins the WAL any more: a full checkpoint copies every frame.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto* writer = dynamic_cast<SqliteStore*>(s.store.get());
    ASSERT_NE(writer, nullptr);
    EXPECT_TRUE(writer->checkpointAll()) << "a reader still holds a snapshot";
}

TEST(StoreFactory, SqliteHoldsTheOneEngineLockWhileOpen) {
    TempDir tmp;
    const std::string spec = "sqlite:" + (tmp.dir / "keb.db").string();
    {
        OpenedStore first = openStore(spec);
        try {
            openStore(spec);
            FAIL() << "a second engine opened a locked store";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("another keb-server is already using the store"), std::string::npos)
                << e.what();
        }
        StoreOpenOptions shared;
        shared.exclusive = false;  // an offline tool may open it without the lock
        OpenedStore tool = openStore(spec, shared);
        EXPECT_EQ(tool.lock, nullptr);
    }
    OpenedStore again = openStore(spec);  // closed: the lock is free again
    EXPECT_NE(again.lock, nullptr);
    // Moving the opened store keeps the lock with it.
    OpenedStore moved = std::move(again);
    EXPECT_THROW(openStore(spec), std::runtime_error);
}

TEST(StoreFactory, UnknownStoresGiveClearErrors) {
    struct Case {
        std::string spec, mentions;
    };
    for (const Case& c : {Case{"sqlite:", "has no file path"},
                          Case{"", "no store given"},
                          Case{"mysql://db", "unknown store 'mysql://db'"},
                          Case{"Memory", "unknown store 'Memory'"},
                          Case{"sqlite", "unknown store 'sqlite'"}}) {
        const std::string err = storeSpecError(c.spec);
        EXPECT_NE(err.find(c.mentions), std::string::npos) << c.spec << " -> " << err;
        EXPECT_NE(err.find("expected memory, sqlite:PATH or a postgresql:// URI"), std::string::npos) << err;
        EXPECT_EQ(err.find("secret"), std::string::npos) << "a password in the URL was echoed: " << err;
        try {
            openStore(c.spec);
            ADD_FAILURE() << c.spec << " opened";
        } catch (const StoreSpecError& e) {
            EXPECT_EQ(std::string(e.what()), err);
        }
    }
    EXPECT_EQ(storeSpecError("memory"), "");
    EXPECT_EQ(storeSpecError("sqlite:/tmp/x.db"), "");
    // PostgreSQL URIs are accepted as-is (libpq judges them when the store opens).
    EXPECT_EQ(storeSpecError("postgres://keb:secret@db.example:5432/keb"), "");
    EXPECT_EQ(storeSpecError("postgresql:///keb?host=/tmp"), "");
}

// A PostgreSQL that cannot be reached: a PgError with libpq's reason, never the password.
TEST(StoreFactory, AnUnreachablePostgresIsAPgErrorWithoutThePassword) {
    TempDir tmp;  // an empty socket directory: nothing listens there
    const std::string uri = "postgresql://keb:s3cr3t-pw@/keb?host=" + tmp.dir.string() + "&port=5999&connect_timeout=2";
    try {
        openStore(uri);
        FAIL() << "opened an unreachable PostgreSQL";
    } catch (const PgError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("cannot connect to PostgreSQL"), std::string::npos) << what;
        EXPECT_EQ(what.find("s3cr3t-pw"), std::string::npos) << "password echoed: " << what;
    }
}

TEST(StoreFactory, AnUnopenableFileIsASqliteErrorNamingThePath) {
    TempDir tmp;
    const std::string path = (tmp.dir / "no-such-dir" / "keb.db").string();
    StoreOpenOptions o;
    o.exclusive = false;  // the lock file would fail first, with its own message
    try {
        openStore("sqlite:" + path, o);
        FAIL() << "opened a file in a missing directory";
    } catch (const SqliteError& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_THROW(openStore("sqlite:" + path), std::runtime_error);  // with the lock: the lock file's error
}

}  // namespace
