// A priority queue of timers for the engine: items in the order `Later` defines (the earliest
// first). Most timers are polls pushed at now + the poll interval, so they arrive in order: an
// item not earlier than the FIFO's last one goes to the FIFO (constant time), any other to a
// binary heap; the front is the earlier of the two fronts. Popping order is exactly a plain
// heap's (tests/core/detail_containers_test.cpp checks it against std::priority_queue).
#pragma once
#include <cstddef>
#include <queue>
#include <vector>

namespace keb::detail {

// Later(a, b): a comes after b (std::priority_queue's convention). Equal items (neither later)
// may come out in either order, as from a heap.
template <class T, class Later>
class TimerQueue {
public:
    bool empty() const { return head_ == fifo_.size() && heap_.empty(); }
    std::size_t size() const { return fifo_.size() - head_ + heap_.size(); }
    void push(const T& t) {
        if (head_ == fifo_.size() || Later{}(t, fifo_.back())) {
            if (head_ == fifo_.size()) {  // drained: reuse the storage
                fifo_.clear();
                head_ = 0;
            }
            fifo_.push_back(t);
        } else {
            heap_.push(t);
        }
    }
    // The earliest item (not empty()).
    const T& top() const { return fromFifo() ? fifo_[head_] : heap_.top(); }
    void pop() {
        if (fromFifo()) {
            ++head_;
            if (head_ > 4096 && head_ * 2 > fifo_.size()) {  // drop the consumed half
                fifo_.erase(fifo_.begin(), fifo_.begin() + static_cast<std::ptrdiff_t>(head_));
                head_ = 0;
            }
        } else {
            heap_.pop();
        }
    }

private:
    bool fromFifo() const {
        if (head_ == fifo_.size()) return false;
        return heap_.empty() || !Later{}(fifo_[head_], heap_.top());
    }
    std::vector<T> fifo_;  // ascending from head_
    std::size_t head_ = 0;
    std::priority_queue<T, std::vector<T>, Later> heap_;
};

}  // namespace keb::detail
