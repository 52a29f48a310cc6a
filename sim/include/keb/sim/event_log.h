// The simulator's event log: one JSON line per engine event (EngineEvent) and per simulator
// event ("sim.*"), hashed as it is written (hashWords over each line and its newline; the hash is
// the report's eventLogHash), optionally streamed to a trace sink and kept as a bounded tail for
// the browser UI. The full log is never held in memory: a 100,000-runtime rollout writes millions
// of lines, so a line is built in one reused buffer without allocation.
#pragma once
#include <climits>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "keb/engine.h"
#include "keb/model.h"

namespace keb::sim {

// The event-log line being built: raw bytes with a write position. Reused for every line (no
// allocation, no zero-fill, no std::string bookkeeping per field); grows when needed.
class LineBuffer {
public:
    void clear() { len_ = 0; }
    // A pointer to at least `extra` writable bytes after the current end; commit(end) keeps them.
    char* reserve(std::size_t extra) {
        if (cap_ - len_ < extra) grow(extra);
        return buf_.get() + len_;
    }
    void commit(const char* end) { len_ = static_cast<std::size_t>(end - buf_.get()); }
    std::string_view view() const { return std::string_view(buf_.get(), len_); }
    std::size_t capacity() const { return cap_; }

private:
    void grow(std::size_t extra);
    std::unique_ptr<char[]> buf_;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
};

class EventLog {
public:
    EventLog();

    // Receives every line (no trailing newline) as it is written. Lines written before are
    // replayed to the new sink if tail() still holds all of them.
    void setTraceSink(std::function<void(const std::string&)> sink);
    // How many recent lines tail() keeps (default 2000; 0: none).
    void setCapacity(std::size_t n);

    // {"at":..,"kind":"<e.kind>", then the event's non-empty fields in a fixed order.
    void engineEvent(const EngineEvent& e);
    // {"at":..,"kind":"<kind>", then each (key, value) as a JSON string.
    void simEvent(Millis at, const char* kind, std::initializer_list<std::pair<const char*, std::string_view>> fields);

    std::uint64_t hash() const { return hash_; }
    std::uint64_t lines() const { return lines_; }
    const std::deque<std::string>& tail() const { return recent_; }

private:
    void beginLine(Millis t, std::string_view kind);  // line_ = {"at":"<t>","kind":"<kind>"
    void finishLine();                                // appends '}' and line_ to the log

    std::function<void(const std::string&)> trace_;
    std::deque<std::string> recent_;
    std::size_t capacity_ = 2000;
    std::uint64_t hash_;
    std::uint64_t lines_ = 0;
    LineBuffer line_;       // the line being built
    std::string lineText_;  // line_ as a std::string, only for the trace sink and tail()
    // The text of the latest time written ("YYYY-MM-DDTHH:MM:SS[.mmm]Z" with its quotes):
    // consecutive lines mostly share their instant.
    Millis cachedTime_ = INT64_MIN;
    char cachedTimeText_[40] = {};
    std::size_t cachedTimeLen_ = 0;
    Millis cachedDay_ = INT64_MIN;
    char cachedDate_[16] = {};  // "YYYY-MM-DDT" of cachedDay_
    std::size_t cachedDateLen_ = 0;
};

}  // namespace keb::sim
