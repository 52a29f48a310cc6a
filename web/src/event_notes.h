// Why operations did not run, from the simulator's recent event log: the latest engine events
// that explain a skipped start (superseded by a newer orchestration, skipped, waiting for another
// upgrade of the runtime). The timeline panel shows them under its plot.
#pragma once
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace keb::web {

struct EventNote {
    std::string at;       // RFC 3339
    std::string kind;     // "superseded", "skipped", "waiting"
    std::string runtime;  // runtimeID
    std::string detail;   // the engine's reason
};

struct EventNotes {
    std::vector<EventNote> latest;  // newest first, at most `max`
    std::size_t superseded = 0;     // in the whole recent log
    std::size_t skipped = 0;
    std::size_t waiting = 0;
};

// Scans recent log lines (JSON, oldest first). Lines that are not such events are ignored.
EventNotes collectEventNotes(const std::deque<std::string>& recent, std::size_t max);

}  // namespace keb::web
