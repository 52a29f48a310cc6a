// A flat hash map from 64-bit keys (hashes of ids) to small values: open addressing with linear
// probing in one array; erase shifts the entries after the hole back (no tombstones), for the
// small tables of what is in progress now. For the per-operation and per-runtime bookkeeping of the
// simulated backend and the simulator over 100,000 shoots: one cache miss per lookup and
// ~2x (8 + sizeof(V)) bytes per entry, against two misses and ~56 bytes per entry of
// std::unordered_map.
#pragma once
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "keb/bits.h"
#include "keb/world/big_alloc.h"

namespace keb::world {

template <class V>
class FlatMap {
public:
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return slots_.size(); }
    std::size_t bytes() const { return slots_.capacity() * sizeof(Slot); }

    V* find(std::uint64_t key) {
        if (slots_.empty()) return nullptr;
        key = fix(key);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = key & mask;; i = (i + 1) & mask) {
            if (slots_[i].key == key) return &slots_[i].value;
            if (slots_[i].key == 0) return nullptr;
        }
    }
    const V* find(std::uint64_t key) const { return const_cast<FlatMap*>(this)->find(key); }
    bool contains(std::uint64_t key) const { return find(key) != nullptr; }

    // The value of key, value-initialised when new; second: inserted.
    std::pair<V*, bool> insert(std::uint64_t key) {
        if ((size_ + 1) * 2 > slots_.size()) grow();
        key = fix(key);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = key & mask;; i = (i + 1) & mask) {
            if (slots_[i].key == key) return {&slots_[i].value, false};
            if (slots_[i].key == 0) {
                slots_[i].key = key;
                slots_[i].value = V{};
                ++size_;
                return {&slots_[i].value, true};
            }
        }
    }
    V& operator[](std::uint64_t key) { return *insert(key).first; }

    // Removes key; false when it was not there. Pointers to values may move.
    bool erase(std::uint64_t key) {
        if (slots_.empty()) return false;
        key = fix(key);
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = key & mask;
        while (slots_[i].key != key) {
            if (slots_[i].key == 0) return false;
            i = (i + 1) & mask;
        }
        // Backward shift: an entry after the hole moves into it unless its home slot lies
        // cyclically in (hole, entry].
        for (std::size_t j = (i + 1) & mask; slots_[j].key != 0; j = (j + 1) & mask) {
            const std::size_t home = slots_[j].key & mask;
            const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (stays) continue;
            slots_[i] = slots_[j];
            i = j;
        }
        slots_[i] = Slot{};
        --size_;
        return true;
    }

    // Room for n keys without growing (capacity: the power of two growth would reach).
    void reserve(std::size_t n) {
        std::size_t cap = slots_.empty() ? 64 : slots_.size();
        while (n * 2 > cap) cap *= 2;
        if (cap > slots_.size()) rehash(cap);
    }

    // A hint that key is looked up soon: starts loading its first slot. No effect on contents.
    void prefetch(std::uint64_t key) const {
#if defined(__GNUC__) || defined(__clang__)
        if (!slots_.empty()) keb::prefetch(&slots_[fix(key) & (slots_.size() - 1)]);
#else
        (void)key;
#endif
    }

    template <class F>
    void forEach(F&& f) const {
        for (const Slot& s : slots_)
            if (s.key != 0) f(s.key, s.value);
    }

private:
    struct Slot {
        std::uint64_t key = 0;  // 0: free
        V value{};
    };
    // Key 0 marks a free slot; a key that hashes to 0 is stored as another constant.
    static std::uint64_t fix(std::uint64_t k) { return k != 0 ? k : kGoldenGamma; }
    void grow() { rehash(slots_.empty() ? 64 : slots_.size() * 2); }
    void rehash(std::size_t cap) {  // cap: a power of two
        std::vector<Slot, BigAllocator<Slot>> old = std::move(slots_);
        slots_.assign(cap, Slot{});
        const std::size_t mask = slots_.size() - 1;
        for (const Slot& s : old) {
            if (s.key == 0) continue;
            std::size_t i = s.key & mask;
            while (slots_[i].key != 0) i = (i + 1) & mask;
            slots_[i] = s;
        }
    }
    std::vector<Slot, BigAllocator<Slot>> slots_;
    std::size_t size_ = 0;
};

}  // namespace keb::world
