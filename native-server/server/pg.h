// A thin RAII wrapper over libpq (SPEC 11): a connection, results, cached prepared statements
// and transactions. Errors throw PgError carrying the server's message (and SQLSTATE). No ORM.
// Parameters and results travel as text; a Connection is used by one thread at a time.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keb/store.h"

struct pg_conn;
struct pg_result;

namespace keb::server::pg {

class PgError : public std::runtime_error {
public:
    PgError(const std::string& what, std::string sqlstate = "")
        : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const { return sqlstate_; }  // e.g. "23505" (unique violation)

private:
    std::string sqlstate_;
};

// The database cannot be reached: connecting failed, the connection broke, the server is shutting
// down or refuses connections (SQLSTATE classes 08 and 57P). A request that meets it answers 503.
class PgUnavailableError : public PgError, public keb::StoreUnavailable {
public:
    using PgError::PgError;
};

// One query's answer. Values are views into the result (valid while it lives).
class Result {
public:
    Result() = default;
    explicit Result(pg_result* r) : r_(r) {}
    ~Result();
    Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
    Result& operator=(Result&& o) noexcept;
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;

    int rows() const;
    bool isNull(int row, int col) const;
    std::string_view view(int row, int col) const;
    std::string text(int row, int col) const { return std::string(view(row, col)); }
    std::int64_t i64(int row, int col) const;
    bool boolean(int row, int col) const { return view(row, col) == "t"; }
    // Rows changed by an INSERT/UPDATE/DELETE.
    std::int64_t affected() const;

private:
    pg_result* r_ = nullptr;
};

// Statement parameters as text (nullopt: SQL NULL).
class Params {
public:
    Params& add(std::string_view v) {
        values_.emplace_back(v);
        return *this;
    }
    Params& add(const std::string& v) { return add(std::string_view(v)); }
    Params& add(const char* v) { return add(std::string_view(v)); }
    Params& add(std::int64_t v) {
        values_.emplace_back(std::to_string(v));
        return *this;
    }
    Params& add(int v) { return add(static_cast<std::int64_t>(v)); }
    Params& add(bool v) { return add(std::string_view(v ? "t" : "f")); }
    Params& addNull() {
        values_.emplace_back(std::nullopt);
        return *this;
    }
    std::size_t size() const { return values_.size(); }
    void clear() { values_.clear(); }
    const std::vector<std::optional<std::string>>& values() const { return values_; }

private:
    std::vector<std::optional<std::string>> values_;
};

class Connection {
public:
    // Connects with a libpq connection string or URI (as given). Throws PgError with libpq's
    // message (the URI itself is not repeated: it may carry a password).
    explicit Connection(const std::string& uri);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Runs one or more statements without parameters.
    void exec(const std::string& sql);
    // One statement with parameters; prepared once per connection and reused (by its text).
    Result query(const std::string& sql, const Params& params = {});
    // One statement with parameters, not kept prepared (statements built per call).
    Result queryOnce(const std::string& sql, const Params& params = {});

    // After a broken connection (server restart), reconnects; prepared statements are
    // forgotten. Returns false when the server is still unreachable.
    bool ensureConnected();
    bool inTransaction() const;
    // In a transaction that a failed statement aborted (COMMIT would quietly roll it back).
    bool transactionFailed() const;
    // Best effort, never throws (rollbacks on error paths: a broken connection has nothing to roll back).
    void execIgnoringErrors(const char* sql) noexcept;
    pg_conn* raw() { return c_; }

private:
    Result check(pg_result* r, const std::string& sql);
    pg_conn* c_ = nullptr;
    std::map<std::string, std::string> prepared_;  // sql -> statement name
    int nextName_ = 0;
};

// BEGIN on construction, ROLLBACK on destruction unless commit() was called.
class Transaction {
public:
    explicit Transaction(Connection& c, const char* begin = "BEGIN");
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

private:
    Connection& c_;
    bool done_ = false;
};

}  // namespace keb::server::pg
