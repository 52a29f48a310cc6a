// Open addressing (linear probing) of 32-bit values with a 32-bit hash tag each, for the memory
// store's string pool and operation index. The caller owns what the values mean (offsets, slots)
// and decides equality; the tag also picks the position, so probing looks at a value only for a
// real candidate and growing looks at none.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "keb/big_alloc.h"

namespace keb::detail {

class TagTable {
public:
    static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();  // no value

    // The first value with this tag that same(value) accepts; kNone when there is none.
    template <class Same>
    std::uint32_t find(std::uint32_t tag, Same&& same) const {
        if (table_.empty()) return kNone;
        const std::size_t mask = table_.size() - 1;
        for (std::size_t i = tag & mask;; i = (i + 1) & mask) {
            const Entry& e = table_[i];
            if (e.value == kNone) return kNone;
            if (e.tag == tag && same(e.value)) return e.value;
        }
    }
    // Adds a value (not checked for duplicates), growing at 3/4 load.
    void insert(std::uint32_t value, std::uint32_t tag) {
        if ((count_ + 1) * 4 > table_.size() * 3) rebuild(std::max<std::size_t>(64, table_.size() * 2), kNone);
        place(Entry{value, tag});
        ++count_;
    }
    // Room for n values in all without growing (a hint: the values found and kept are the same).
    void reserve(std::size_t n) {
        std::size_t size = std::max<std::size_t>(64, table_.size());
        while (n * 4 > size * 3) size *= 2;
        if (size != table_.size()) rebuild(size, kNone);
    }
    // Keeps only the values below limit (what a failed write added is dropped).
    void dropFrom(std::uint64_t limit) { rebuild(table_.size(), limit); }
    std::size_t bytes() const { return table_.capacity() * sizeof(Entry); }
    std::size_t size() const { return count_; }  // values held

private:
    struct Entry {
        std::uint32_t value;
        std::uint32_t tag;
    };
    void place(Entry e) {
        const std::size_t mask = table_.size() - 1;
        std::size_t i = e.tag & mask;
        while (table_[i].value != kNone) i = (i + 1) & mask;
        table_[i] = e;
    }
    void rebuild(std::size_t size, std::uint64_t limit) {
        Table old(size, Entry{kNone, 0});
        old.swap(table_);
        count_ = 0;
        for (const Entry& e : old) {
            if (e.value == kNone || e.value >= limit) continue;
            place(e);
            ++count_;
        }
    }
    // 8 bytes a value at up to 3/4 load: 2 MiB at 200,000 values, so huge pages (keb/big_alloc.h).
    using Table = std::vector<Entry, BigAllocator<Entry>>;
    Table table_;
    std::size_t count_ = 0;
};

}  // namespace keb::detail
