// Runs the store contract against SqliteStore (a real file in a temp dir). The MemoryStore
// instantiation is in memory_store_test.cpp (it needs no server library).
#include <unistd.h>

#include <filesystem>

#include "sqlite_store.h"
#include "store_contract.h"

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
}  // namespace keb::contract
