// The simulator's event queue, ordered by (time, sequence number). The sequence number makes
// ties deterministic (first pushed, first popped).
//
// Two sorted stores behind one order: a FIFO ring for completions pushed in time order (nearly
// all events: a completion comes back a constant backend latency after its action, so
// completions are pushed with non-decreasing times) and a binary heap for the rest (wakeups,
// timeline events, a completion that would be out of order). pop()
// takes the smaller head of the two by (time, seq), so the order is exactly that of one heap;
// the FIFO makes the common push and pop O(1) with no sifting.
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

#include "keb/model.h"

namespace keb::sim {

struct SimEvent {
    enum class Kind : std::uint8_t { Timeline, Wakeup, Completion, Disappear, End, NotificationsUp };
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
        // Its seq is the largest so far: it may go behind the FIFO's last event exactly when it is
        // not earlier. Only completions do (a wakeup at the tail would turn the next completions,
        // due sooner, away to the heap).
        if (kind == SimEvent::Kind::Completion && (count_ == 0 || fifo_[(head_ + count_ - 1) & mask_].at <= at)) {
            if (count_ == fifo_.size()) growFifo();
            fifo_[(head_ + count_) & mask_] = e;
            ++count_;
        } else {
            heap_.push(e);
        }
    }
    bool empty() const { return count_ == 0 && heap_.empty(); }
    std::size_t size() const { return count_ + heap_.size(); }
    const SimEvent& top() const { return fromFifo() ? fifo_[head_] : heap_.top(); }
    SimEvent pop() {
        if (fromFifo()) {
            const SimEvent e = fifo_[head_];
            head_ = (head_ + 1) & mask_;
            --count_;
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
    bool fromFifo() const { return heap_.empty() || (count_ > 0 && earlier(fifo_[head_], heap_.top())); }
    // Doubles the ring, its events moved to the front in order.
    void growFifo() {
        std::vector<SimEvent> bigger(fifo_.empty() ? 256 : fifo_.size() * 2);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = fifo_[(head_ + i) & mask_];
        fifo_ = std::move(bigger);
        head_ = 0;
        mask_ = fifo_.size() - 1;
    }
    struct Later {
        bool operator()(const SimEvent& a, const SimEvent& b) const { return earlier(b, a); }
    };
    std::vector<SimEvent> fifo_;  // a ring (size a power of two): count_ events from head_, sorted by (at, seq)
    std::size_t head_ = 0, count_ = 0, mask_ = 0;
    std::priority_queue<SimEvent, std::vector<SimEvent>, Later> heap_;
    std::uint64_t nextSeq_ = 0;
};

}  // namespace keb::sim
