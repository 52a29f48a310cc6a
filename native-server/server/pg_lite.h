// A few lines of RAII over libpq for the replica machinery (lease.cpp, the demo backend's
// PostgreSQL journal): one connection, parameterised statements, results freed on scope exit.
// Each PgLite connection is used by one thread at a time.
#pragma once
#include <libpq-fe.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace keb::server {

class PgLiteError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class PgLiteResult {
public:
    explicit PgLiteResult(PGresult* r) : r_(r, &PQclear) {}
    // (PQexec of a script returns the last statement's result)
    int rows() const { return PQntuples(r_.get()); }
    bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
    long long integer(int row, int col) const { return std::stoll(text(row, col)); }
    bool boolean(int row, int col) const { return text(row, col) == "t"; }

private:
    std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class PgLite {
public:
    // Connects (throws PgLiteError with libpq's message). The URI is passed to libpq as-is.
    // statementTimeoutMs > 0: the server cancels statements running longer (a stuck lock wait
    // must not hold the caller past its deadline). connect_timeout is 2 s.
    explicit PgLite(const std::string& uri, int statementTimeoutMs = 0) : c_(connect(uri, statementTimeoutMs), &PQfinish) {
        if (!c_ || PQstatus(c_.get()) != CONNECTION_OK)
            throw PgLiteError(std::string("cannot connect to PostgreSQL: ") + (c_ ? PQerrorMessage(c_.get()) : "out of memory"));
        PQsetNoticeProcessor(c_.get(), [](void*, const char*) {}, nullptr);  // "already exists, skipping"
    }
    bool ok() const { return PQstatus(c_.get()) == CONNECTION_OK; }

    // Runs sql with text parameters $1..$n. Throws PgLiteError on failure (with the SQLSTATE).
    PgLiteResult exec(const std::string& sql, const std::vector<std::string>& params = {}) {
        std::vector<const char*> p;
        for (auto& s : params) p.push_back(s.c_str());
        // Without parameters: the simple protocol (a script of several statements is allowed).
        PGresult* r = p.empty() ? PQexec(c_.get(), sql.c_str())
                                : PQexecParams(c_.get(), sql.c_str(), static_cast<int>(p.size()), nullptr, p.data(),
                                               nullptr, nullptr, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c_.get());
            const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
            sqlstate_ = state ? state : "";
            PQclear(r);
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
            throw PgLiteError(msg.empty() ? "PostgreSQL connection lost" : msg);
        }
        return PgLiteResult(r);
    }
    const std::string& lastSqlState() const { return sqlstate_; }

private:
    static PGconn* connect(const std::string& uri, int statementTimeoutMs) {
        const std::string options = statementTimeoutMs > 0 ? "-c statement_timeout=" + std::to_string(statementTimeoutMs) : "";
        const char* keys[] = {"dbname", "connect_timeout", statementTimeoutMs > 0 ? "options" : nullptr, nullptr};
        const char* values[] = {uri.c_str(), "2", options.c_str(), nullptr};
        return PQconnectdbParams(keys, values, 1);  // 1: dbname is a URI whose settings the later keys override
    }
    std::unique_ptr<PGconn, void (*)(PGconn*)> c_;
    std::string sqlstate_;
};

}  // namespace keb::server
