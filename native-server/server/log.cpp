#include "log.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <unistd.h>

#include "keb/timefmt.h"
#include "redact.h"

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
// Access lines are appended to a buffer of the calling thread (its own mutex, which only the
// writer thread ever contends for) and a background thread writes all buffers out every 20 ms.
// A shared buffer under one lock cost ~25 % of the cached-GET throughput (32 HTTP threads on 2
// cores: a preempted lock holder stalls the others); a write(2) per request serialised them in
// the kernel. On kill -9 the last few milliseconds of access lines may be lost; events
// (logEvent) are written at once. Lines of one thread stay in order; lines of different
// threads are ordered by their "ts" only.
class AccessSink {
public:
    AccessSink() : thread_([this] { run(); }) {}
    ~AccessSink() {
        {
            std::lock_guard<std::mutex> lk(stopMu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
        flush();
    }
    void add(std::string_view line) {
        Slot& slot = mySlot();
        std::lock_guard<std::mutex> lk(slot.mu);
        if (slot.buf.size() > (4u << 20)) {  // the writer cannot keep up: write in this thread
            writeLine(slot.buf);
            slot.buf.clear();
        }
        slot.buf.append(line);
    }
    // Writes out every buffered line (the writer thread every 20 ms, and at shutdown).
    void flush() {
        std::lock_guard<std::mutex> flk(flushMu_);
        std::vector<std::shared_ptr<Slot>> slots;
        {
            std::lock_guard<std::mutex> lk(registryMu_);
            slots = slots_;
        }
        for (const auto& slot : slots) {
            std::lock_guard<std::mutex> lk(slot->mu);
            out_.append(slot->buf);
            slot->buf.clear();  // keeps its capacity: no allocation in the HTTP thread next time
        }
        writeLine(out_);
        if (out_.capacity() > (1u << 20)) out_ = std::string();
        else out_.clear();
        std::lock_guard<std::mutex> lk(registryMu_);  // forget the buffers of threads that ended
        std::erase_if(slots_, [](const std::shared_ptr<Slot>& s) {
            std::lock_guard<std::mutex> sl(s->mu);
            return s->dead && s->buf.empty();
        });
    }

private:
    struct Slot {
        std::mutex mu;
        std::string buf;
        bool dead = false;  // its thread ended (under mu)
    };
    Slot& mySlot() {
        struct Holder {
            std::shared_ptr<Slot> slot;
            ~Holder() {
                if (!slot) return;
                std::lock_guard<std::mutex> lk(slot->mu);
                slot->dead = true;
            }
        };
        thread_local Holder holder;
        if (!holder.slot) {
            holder.slot = std::make_shared<Slot>();
            holder.slot->buf.reserve(64u << 10);
            std::lock_guard<std::mutex> lk(registryMu_);
            slots_.push_back(holder.slot);
        }
        return *holder.slot;
    }
    void run() {
        for (;;) {
            {
                std::unique_lock<std::mutex> lk(stopMu_);
                cv_.wait_for(lk, std::chrono::milliseconds(20), [this] { return stop_; });
                if (stop_) return;
            }
            flush();
        }
    }
    std::mutex registryMu_;
    std::vector<std::shared_ptr<Slot>> slots_;
    std::mutex flushMu_;
    std::string out_;
    std::mutex stopMu_;
    std::condition_variable cv_;
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

namespace {
// Every string in `j` scrubbed of the store's password (redact.h), before it is serialised.
void scrubStrings(Json& j, const std::vector<std::string>& secrets) {
    if (j.is_string()) {
        j = scrubSecrets(j.get<std::string>(), secrets);
    } else if (j.is_object() || j.is_array()) {
        for (auto& v : j) scrubStrings(v, secrets);
    }
}
}  // namespace

void logEvent(std::string_view level, std::string_view event, const Json& fieldsIn) {
    Json scrubbed;
    const bool scrub = !logSecrets().empty();
    if (scrub) {
        scrubbed = fieldsIn;
        scrubStrings(scrubbed, logSecrets());
    }
    const Json& fields = scrub ? scrubbed : fieldsIn;
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
