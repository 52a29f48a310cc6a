// The simulator's event queue: a binary heap ordered by (time, sequence number).
// The sequence number makes ties deterministic (first pushed, first popped).
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

#include "keb/model.h"

namespace keb::sim {

struct SimEvent {
    enum class Kind : std::uint8_t { Timeline, Wakeup, Completion, Disappear, End };
    Millis at = 0;
    std::uint64_t seq = 0;
    Kind kind = Kind::Wakeup;
    std::uint32_t index = 0;  // timeline index / completion slot / disappearance index
    std::uint32_t generation = 0;  // engine generation (completions of a crashed engine are dropped)
};

class EventQueue {
public:
    void push(Millis at, SimEvent::Kind kind, std::uint32_t index = 0, std::uint32_t generation = 0) {
        heap_.push(SimEvent{at, nextSeq_++, kind, index, generation});
    }
    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }
    const SimEvent& top() const { return heap_.top(); }
    SimEvent pop() {
        SimEvent e = heap_.top();
        heap_.pop();
        return e;
    }
    std::uint64_t pushed() const { return nextSeq_; }

private:
    struct Later {
        bool operator()(const SimEvent& a, const SimEvent& b) const {
            return a.at != b.at ? a.at > b.at : a.seq > b.seq;
        }
    };
    std::priority_queue<SimEvent, std::vector<SimEvent>, Later> heap_;
    std::uint64_t nextSeq_ = 0;
};

}  // namespace keb::sim
