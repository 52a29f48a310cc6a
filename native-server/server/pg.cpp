#include "pg.h"

#include <libpq-fe.h>

#include <charconv>

namespace keb::server::pg {

namespace {
std::string trimmed(const char* msg) {
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}
}  // namespace

Result::~Result() {
    if (r_) PQclear(r_);
}
Result& Result::operator=(Result&& o) noexcept {
    if (this != &o) {
        if (r_) PQclear(r_);
        r_ = o.r_;
        o.r_ = nullptr;
    }
    return *this;
}
int Result::rows() const { return r_ ? PQntuples(r_) : 0; }
bool Result::isNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
std::string_view Result::view(int row, int col) const {
    return std::string_view(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}
std::int64_t Result::i64(int row, int col) const {
    const std::string_view v = view(row, col);
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size())
        throw PgError("postgres: expected an integer in column " + std::to_string(col) + ", got '" + std::string(v) + "'");
    return out;
}
std::int64_t Result::affected() const {
    const char* n = r_ ? PQcmdTuples(r_) : "";
    return (n && *n) ? std::stoll(n) : 0;
}

Connection::Connection(const std::string& uri) {
    c_ = PQconnectdb(uri.c_str());
    if (!c_ || PQstatus(c_) != CONNECTION_OK) {
        std::string msg = c_ ? trimmed(PQerrorMessage(c_)) : "out of memory";
        if (c_) PQfinish(c_);
        c_ = nullptr;
        throw PgUnavailableError("cannot connect to PostgreSQL: " + msg);
    }
    // Notices (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
    PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
    if (c_) PQfinish(c_);
}

bool Connection::ensureConnected() {
    if (PQstatus(c_) == CONNECTION_OK) return true;
    PQreset(c_);
    prepared_.clear();
    return PQstatus(c_) == CONNECTION_OK;
}

bool Connection::inTransaction() const {
    const auto s = PQtransactionStatus(c_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

bool Connection::transactionFailed() const { return PQtransactionStatus(c_) == PQTRANS_INERROR; }

Result Connection::check(pg_result* r, const std::string& sql) {
    Result res(r);
    const auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return res;
    std::string msg = r ? trimmed(PQresultErrorMessage(r)) : "";
    if (msg.empty()) msg = trimmed(PQerrorMessage(c_));
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string head = sql.substr(0, 80);
    for (char& ch : head)
        if (ch == '\n') ch = ' ';
    std::string what = "postgres: " + msg + " (in: " + head + (sql.size() > 80 ? "..." : "") + ")";
    const std::string code = state ? state : "";
    // No SQLSTATE: libpq's own error (the connection broke under the query), not the server's.
    if (PQstatus(c_) != CONNECTION_OK || code.empty() || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0)
        throw PgUnavailableError(what, code);
    throw PgError(what, code);
}

void Connection::exec(const std::string& sql) { check(PQexec(c_, sql.c_str()), sql); }

namespace {
struct Raw {
    std::vector<const char*> values;
    explicit Raw(const Params& p) {
        values.reserve(p.size());
        for (const auto& v : p.values()) values.push_back(v ? v->c_str() : nullptr);
    }
};
}  // namespace

Result Connection::query(const std::string& sql, const Params& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "keb_s" + std::to_string(nextName_++);
        check(PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr), sql);
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    Raw raw(params);
    return check(PQexecPrepared(c_, it->second.c_str(), static_cast<int>(raw.values.size()), raw.values.data(),
                                nullptr, nullptr, 0),
                 sql);
}

Result Connection::queryOnce(const std::string& sql, const Params& params) {
    Raw raw(params);
    return check(PQexecParams(c_, sql.c_str(), static_cast<int>(raw.values.size()), nullptr, raw.values.data(),
                              nullptr, nullptr, 0),
                 sql);
}

void Connection::execIgnoringErrors(const char* sql) noexcept {
    PGresult* r = PQexec(c_, sql);
    if (r) PQclear(r);
}

Transaction::Transaction(Connection& c, const char* begin) : c_(c) { c_.exec(begin); }
Transaction::~Transaction() {
    // Best effort: a broken connection has no transaction left to roll back.
    if (!done_) c_.execIgnoringErrors("ROLLBACK");
}
void Transaction::commit() {
    done_ = true;
    c_.exec("COMMIT");
}

}  // namespace keb::server::pg
