// The simulator's event queue, ordered by (time, sequence number). The sequence number makes
// ties deterministic (first pushed, first popped).
//
// Two sorted stores behind one order: a FIFO for events pushed in time order (nearly all: a
// completion comes back a constant backend latency after its action, so completions are pushed
// with non-decreasing times) and a binary heap for the rest (wakeups, timeline events). pop()
// takes the smaller head of the two by (time, seq), so the order is exactly that of one heap;
// the FIFO makes the common push and pop O(1) with no sifting.
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
        const SimEvent e{at, nextSeq_++, kind, index, generation};
        // Its seq is the largest so far: behind the FIFO's last event exactly when not earlier.
        if (head_ == fifo_.size() || fifo_.back().at <= at)
            fifo_.push_back(e);
        else
            heap_.push(e);
    }
    bool empty() const { return head_ == fifo_.size() && heap_.empty(); }
    std::size_t size() const { return fifo_.size() - head_ + heap_.size(); }
    const SimEvent& top() const { return fromFifo() ? fifo_[head_] : heap_.top(); }
    SimEvent pop() {
        if (fromFifo()) {
            const SimEvent e = fifo_[head_++];
            if (head_ == fifo_.size()) {
                fifo_.clear();
                head_ = 0;
            } else if (head_ >= 1024 && head_ * 2 >= fifo_.size()) {  // drop the consumed front now and then
                fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
                head_ = 0;
            }
            return e;
        }
        SimEvent e = heap_.top();
        heap_.pop();
        return e;
    }
    std::uint64_t pushed() const { return nextSeq_; }

private:
    static bool earlier(const SimEvent& a, const SimEvent& b) { return a.at != b.at ? a.at < b.at : a.seq < b.seq; }
    // The next event is the FIFO's head (the queue must not be empty).
    bool fromFifo() const { return heap_.empty() || (head_ < fifo_.size() && earlier(fifo_[head_], heap_.top())); }
    struct Later {
        bool operator()(const SimEvent& a, const SimEvent& b) const { return earlier(b, a); }
    };
    std::vector<SimEvent> fifo_;  // sorted by (at, seq); [head_, size) pending
    std::size_t head_ = 0;
    std::priority_queue<SimEvent, std::vector<SimEvent>, Later> heap_;
    std::uint64_t nextSeq_ = 0;
};

}  // namespace keb::sim
