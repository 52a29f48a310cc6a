// Runs the store contract against SqliteStore (a real file in a temp dir). The MemoryStore
// instantiation is in memory_store_test.cpp (it needs no server library).
#include <unistd.h>

#include <filesystem>

#include "sqlite_store.h"
#include "store_contract.h"
#include "store_differential.h"

namespace keb::contract {

struct SqliteFactory {
    std::filesystem::path dir;
    SqliteFactory() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "keb-store-contract-XXXXXX").string();
        dir = ::mkdtemp(tmpl.data());
    }
    ~SqliteFactory() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::unique_ptr<keb::Store> open() { return std::make_unique<keb::server::SqliteStore>((dir / "keb.db").string()); }
    std::unique_ptr<keb::Store> reopen() { return open(); }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreContract, SqliteFactory);

// Every read of SQLite, and of a read-only connection on the same file (what the server's GET
// threads use), against the reference store; the page fast paths against the JSON path.
TEST(SqliteStoreDifferential, AnswersLikeTheReferenceStore) {
    for (std::uint64_t seed : {11, 12}) {
        SqliteFactory files;
        keb::server::SqliteOptions fast;
        fast.synchronousFull = false;  // no fsync per commit: the test is about answers, not durability
        keb::server::SqliteStore store((files.dir / "keb.db").string(), fast);
        keb::server::SqliteOptions ro;
        ro.readOnly = true;
        keb::server::SqliteStore reader((files.dir / "keb.db").string(), ro);
        DifferentialRun run(store, seed);
        run.alsoCheck(&reader);
        run.run(400);
        if (::testing::Test::HasFatalFailure()) return;
    }
}
}  // namespace keb::contract
