// A throwaway PostgreSQL server for tests and benches (SPEC 11): initdb into a temp folder,
// listening only on a unix socket in a private folder (listen_addresses='', so ports never
// collide), stopped with `pg_ctl -m immediate stop`. Run as root, the server runs as the
// `postgres` user (initdb and postgres refuse root). About 2-4 s to start.
//
//   keb::test::PgServer pg;
//   if (!keb::test::PgServer::available(&why)) { skip: why }
//   std::string uri = pg.start();      // postgresql:///postgres?host=DIR&port=5432&user=postgres
//   std::string db = pg.createDatabase("keb_1");   // a fresh database's URI
//   pg.restart();  pg.stop();          // the destructor stops it and deletes the folder
// A process that ends without the destructor (ctest timeout, kill -9) leaves nothing running: a
// watchdog stops the server and deletes the folder within about a second.
#pragma once
#include <string>

namespace keb::test {

class PgServer {
public:
    PgServer() = default;
    ~PgServer();
    PgServer(const PgServer&) = delete;
    PgServer& operator=(const PgServer&) = delete;

    // true when initdb/pg_ctl/postgres are installed (else *why says what is missing).
    // KEB_PG_BIN overrides the folder searched (default: /usr/lib/postgresql/*/bin, newest).
    static bool available(std::string* why = nullptr);

    // initdb (first call only) and start; returns the URI of the `postgres` database. Throws
    // std::runtime_error with the server log's tail when it cannot start.
    std::string start();
    // Immediate stop (like a crash: no checkpoint). Safe to call when not running.
    void stop();
    // stop() then start() on the same data (same URI).
    std::string restart();
    bool running() const { return running_; }

    // CREATE DATABASE name; returns its URI.
    std::string createDatabase(const std::string& name);
    // The URI of database `name` on this server.
    std::string uri(const std::string& name = "postgres") const;
    // Runs SQL through psql on database `name` (throws on failure); returns psql's stdout
    // (unaligned, tuples only, trailing newline removed).
    std::string psql(const std::string& sql, const std::string& name = "postgres") const;
    const std::string& dir() const { return dir_; }

private:
    void startWatchdog();
    std::string stopCommand() const;  // pg_ctl's immediate stop (run as `postgres` when we are root)
    std::string bin_;
    std::string dir_;
    bool initialised_ = false;
    bool running_ = false;
    bool watchdog_ = false;
    int port_ = 5432;
};

}  // namespace keb::test
