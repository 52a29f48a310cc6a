#include "pg_server.h"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace keb::test {

namespace {

std::string findBin() {
    if (const char* env = std::getenv("KEB_PG_BIN")) return env;
    std::string best;
    int bestVersion = -1;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = e.path().filename().string();
        const int v = std::atoi(name.c_str());
        if (v > bestVersion && fs::exists(e.path() / "bin" / "initdb")) {
            bestVersion = v;
            best = (e.path() / "bin").string();
        }
    }
    return best;
}

bool isRoot() { return ::geteuid() == 0; }

// Runs a shell command (as `postgres` when we are root); returns its exit status and stdout.
int run(const std::string& cmd, std::string* out = nullptr) {
    std::string full = isRoot() ? "runuser -u postgres -- sh -c '" + cmd + "'" : cmd;
    FILE* p = ::popen((full + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::string text;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
    const int st = ::pclose(p);
    if (out) *out = text;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string tail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

bool PgServer::available(std::string* why) {
    const std::string bin = findBin();
    for (const char* tool : {"initdb", "pg_ctl", "postgres", "psql"}) {
        const std::string path = (bin.empty() ? std::string("/usr/lib/postgresql/*/bin") : bin) + "/" + tool;
        if (bin.empty() || !fs::exists(path)) {
            if (why) *why = "PostgreSQL server binaries not found (" + path + "): apt-get install postgresql-15";
            return false;
        }
    }
    if (isRoot() && ::getpwnam("postgres") == nullptr) {
        if (why) *why = "running as root but there is no 'postgres' user to run the server as";
        return false;
    }
    return true;
}

PgServer::~PgServer() {
    try {
        stop();
    } catch (...) {
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
}

std::string PgServer::uri(const std::string& name) const {
    return "postgresql:///" + name + "?host=" + dir_ + "&port=" + std::to_string(port_) + "&user=postgres";
}

std::string PgServer::start() {
    if (running_) return uri();
    std::string why;
    if (!available(&why)) throw std::runtime_error(why);
    bin_ = findBin();
    if (dir_.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "keb-pg-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        if (isRoot()) {
            const passwd* pw = ::getpwnam("postgres");
            if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + dir_ + " failed");
        }
    }
    std::string out;
    if (!initialised_) {
        if (run(bin_ + "/initdb -D " + dir_ + "/data -U postgres -A trust -N -E UTF8 --locale=C", &out) != 0)
            throw std::runtime_error("initdb failed: " + out);
        initialised_ = true;
    }
    // fsync off: a throwaway server; a crash of keb-server (not of PostgreSQL) is what tests make.
    const std::string opts = "-c listen_addresses= -c unix_socket_directories=" + dir_ + " -p " +
                             std::to_string(port_) + " -c fsync=off -c full_page_writes=off -c max_connections=200";
    if (run(bin_ + "/pg_ctl -D " + dir_ + "/data -w -t 60 -l " + dir_ + "/log -o \"" + opts + "\" start", &out) != 0)
        throw std::runtime_error("pg_ctl start failed: " + out + "\nserver log:\n" + tail(dir_ + "/log"));
    running_ = true;
    startWatchdog();
    return uri();
}

// pg_ctl daemonises the server: a test process killed on a ctest timeout (or kill -9, or an
// abort) never runs the destructor, and the server, its shared memory and its folder stayed
// behind. A watchdog in its own session (ctest kills the test's process group, not this) waits
// for this process to end, then stops the server if it still runs and deletes the folder. One
// per PgServer; on a normal end the destructor has done both and it finds nothing to do.
void PgServer::startWatchdog() {
    if (watchdog_) return;
    const std::string stopCmd = (isRoot() ? "runuser -u postgres -- " : "") + stopCommand();
    const std::string script = "while kill -0 " + std::to_string(::getpid()) + " 2>/dev/null; do sleep 1; done; " +
                               "if [ -f " + dir_ + "/data/postmaster.pid ]; then " + stopCmd + "; fi; rm -rf " + dir_;
    const std::string cmd = "setsid sh -c '" + script + "' </dev/null >/dev/null 2>&1 &";
    if (std::system(cmd.c_str()) != 0) return;  // no watchdog: the destructor still cleans up
    watchdog_ = true;
}

std::string PgServer::stopCommand() const { return bin_ + "/pg_ctl -D " + dir_ + "/data -w -m immediate stop"; }

void PgServer::stop() {
    if (!running_) return;
    running_ = false;
    std::string out;
    if (run(stopCommand(), &out) != 0)
        throw std::runtime_error("pg_ctl stop failed: " + out);
}

std::string PgServer::restart() {
    stop();
    return start();
}

std::string PgServer::psql(const std::string& sql, const std::string& name) const {
    // The SQL goes through a file: no shell quoting of statements.
    const std::string file = dir_ + "/psql-" + std::to_string(::getpid()) + ".sql";
    {
        std::ofstream f(file);
        f << sql << "\n";
    }
    if (isRoot()) {
        const passwd* pw = ::getpwnam("postgres");
        if (::chown(file.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
    }
    std::string out;
    const int rc = run(bin_ + "/psql -X -q -A -t -v ON_ERROR_STOP=1 -h " + dir_ + " -p " + std::to_string(port_) +
                           " -U postgres -d " + name + " -f " + file,
                       &out);
    std::error_code ec;
    fs::remove(file, ec);
    if (rc != 0) throw std::runtime_error("psql failed: " + out);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

std::string PgServer::createDatabase(const std::string& name) {
    psql("CREATE DATABASE " + name);
    return uri(name);
}

}  // namespace keb::test
