#include "log.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>

#include "keb/timefmt.h"

namespace keb::server {

namespace {
void writeLine(const std::string& text) {
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(2, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // stderr gone: nothing sensible to do
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

// Appends s as a JSON string literal.
void appendJsonString(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c >= 0x7f) {  // control bytes and non-ASCII (may be invalid UTF-8): escaped
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    out += '"';
}
// Access lines go through a buffer that a background thread writes out (every 20 ms or
// when it grows): HTTP threads copy a line under a short lock instead of each making a
// write(2) on the same file (which serialises them in the kernel). On kill -9 the last
// few milliseconds of access lines may be lost; events (logEvent) are written at once.
class AccessSink {
public:
    AccessSink() : thread_([this] { run(); }) {}
    ~AccessSink() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void add(const std::string& line) {
        bool big = false;
        {
            std::lock_guard<std::mutex> lk(mu_);
            buf_ += line;
            big = buf_.size() > (64u << 10);
            if (buf_.size() > (4u << 20)) {  // the writer cannot keep up: write in this thread
                std::string out;
                out.swap(buf_);
                writeLine(out);
                return;
            }
        }
        if (big) cv_.notify_one();
    }
    void flush() {
        std::string out;
        {
            std::lock_guard<std::mutex> lk(mu_);
            out.swap(buf_);
        }
        writeLine(out);
    }

private:
    void run() {
        std::unique_lock<std::mutex> lk(mu_);
        for (;;) {
            cv_.wait_for(lk, std::chrono::milliseconds(20));
            std::string out;
            out.swap(buf_);
            const bool stop = stop_;
            lk.unlock();
            writeLine(out);
            lk.lock();
            if (stop && buf_.empty()) return;
        }
    }
    std::mutex mu_;
    std::condition_variable cv_;
    std::string buf_;
    bool stop_ = false;
    std::thread thread_;
};

AccessSink& accessSink() {
    static AccessSink sink;
    return sink;
}
}  // namespace

void flushAccessLog() { accessSink().flush(); }

void logAccess(std::string_view method, std::string_view path, int status, std::size_t bytes, double durationMs,
               std::string_view remote, std::string_view note) {
    const Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    // The timestamp text changes once per millisecond: keep the last one per thread.
    thread_local Millis lastMs = -1;
    thread_local std::string lastTs;
    if (now != lastMs) {
        lastMs = now;
        lastTs = formatRfc3339(now);
    }
    thread_local std::string line;  // reused: no allocation per request once warm
    line.clear();
    line += "{\"ts\":\"";
    line += lastTs;
    line += status >= 500 ? "\",\"level\":\"error\"" : "\",\"level\":\"info\"";
    line += ",\"event\":\"http.request\",\"method\":";
    appendJsonString(line, method);
    line += ",\"path\":";
    appendJsonString(line, path);
    char buf[32];
    auto num = [&](std::int64_t v) {
        auto r = std::to_chars(buf, buf + sizeof buf, v);
        line.append(buf, static_cast<std::size_t>(r.ptr - buf));
    };
    line += ",\"status\":";
    num(status);
    line += ",\"bytes\":";
    num(static_cast<std::int64_t>(bytes));
    // durationMs with 3 decimals (microseconds), without printf.
    const std::int64_t us = durationMs <= 0 ? 0 : static_cast<std::int64_t>(durationMs * 1000.0 + 0.5);
    line += ",\"durationMs\":";
    num(us / 1000);
    line += '.';
    const auto frac = static_cast<int>(us % 1000);
    line += static_cast<char>('0' + frac / 100);
    line += static_cast<char>('0' + frac / 10 % 10);
    line += static_cast<char>('0' + frac % 10);
    line += ",\"remote\":";
    appendJsonString(line, remote);
    if (!note.empty()) {
        line += ",\"note\":";
        appendJsonString(line, note);
    }
    line += "}\n";
    accessSink().add(line);
}

void logEvent(std::string_view level, std::string_view event, const Json& fields) {
    const Millis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    // ts, level and event first, then the fields (sorted), on one line.
    std::string text = "{\"ts\":" + Json(formatRfc3339(now)).dump() + ",\"level\":" + Json(level).dump() +
                       ",\"event\":" + Json(event).dump();
    if (fields.is_object() && !fields.empty()) {
        std::string rest = fields.dump(-1, ' ', false, Json::error_handler_t::replace);
        text += "," + rest.substr(1);
    } else {
        text += "}";
    }
    text += '\n';
    // One write(2) per line, no lock: lines from many threads never interleave (a single write
    // to a pipe up to PIPE_BUF is atomic; files are written under the kernel's own lock).
    writeLine(text);
}

}  // namespace keb::server
