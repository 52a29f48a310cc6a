// The engine's pending operations of one orchestration by (start time, seq), as a calendar: one
// bucket of seqs per distinct start time (windows begin on few distinct instants, so a
// 100,000-operation rollout has a few hundred buckets). A bucket is sorted when it comes first,
// then consumed from its head: popping walks memory in order instead of sifting through a heap of
// every pending operation. Duplicates are kept (the engine removes stale entries lazily).
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "keb/model.h"

namespace keb::detail {

struct ReadyEntry {
    Millis startAt;
    std::int64_t seq;
};

class ReadyCalendar {
public:
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    void push(Millis startAt, std::int64_t seq) {
        Bucket& b = buckets_[startAt];
        if (b.sorted && b.seqs.size() > b.head && seq < b.seqs.back()) b.sorted = false;
        b.seqs.push_back(seq);
        ++size_;
    }
    // The first entry (not empty()).
    ReadyEntry top() {
        auto it = buckets_.begin();
        return {it->first, front(it->second)};
    }
    void pop() {
        auto it = buckets_.begin();
        Bucket& b = it->second;
        front(b);
        ++b.head;
        --size_;
        if (b.head == b.seqs.size()) buckets_.erase(it);
    }
    // The seq k entries after the first, when it is in the first bucket and known without sorting
    // (-1 otherwise): what the caller will look at soon (prefetching).
    std::int64_t ahead(std::size_t k) const {
        if (buckets_.empty()) return -1;
        const Bucket& b = buckets_.begin()->second;
        return b.sorted && b.head + k < b.seqs.size() ? b.seqs[b.head + k] : -1;
    }

private:
    struct Bucket {
        std::vector<std::int64_t> seqs;
        std::size_t head = 0;  // seqs before it were popped
        bool sorted = true;    // seqs from head on are ascending
    };
    static std::int64_t front(Bucket& b) {
        if (!b.sorted) {
            std::sort(b.seqs.begin() + static_cast<std::ptrdiff_t>(b.head), b.seqs.end());
            b.sorted = true;
        }
        return b.seqs[b.head];
    }
    std::map<Millis, Bucket> buckets_;
    std::size_t size_ = 0;
};

}  // namespace keb::detail
