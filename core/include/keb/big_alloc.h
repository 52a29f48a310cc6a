// An allocator for big tables: blocks of 1 MiB and more are rounded up to whole 2 MiB pages, 2 MiB
// aligned and, on Linux, advised for transparent huge pages before they are first touched. Used by the engine's per-operation
// slots and by the simulated world's tables (the fleet's records and id index, the flat hash maps
// over 100,000 runtimes and operations). Lookups into these tables are random (a runtime starts,
// an operation is polled), so with 4 KiB pages nearly every one also misses the TLB; with 2 MiB
// pages a 100k-operation table is a handful of pages, and filling it takes a handful of page
// faults instead of thousands. On a VM whose host backs guest memory on first touch (this project's
// machines: a 4 KiB fault measured ~12 us, 64 MiB took 190 ms in 4 KiB pages and 70-100 ms in huge
// pages), that is also most of the time a fresh table costs. From 1 MiB on, the rounding (at most
// half the block) buys back more in faults than the untouched tail costs.
// Freed big blocks are kept (up to 8 blocks, 64 MiB; not in sanitizer builds) and handed out again for a request of the
// same rounded size or up to twice smaller: their pages are mapped and touched already, so a table
// rebuilt after it was freed (the engine's slots at a restart, a restart's scratch lists) costs no
// page faults and no zeroing. glibc would return such blocks to the kernel at once (they are
// mmapped), and the next one would come back as fresh pages.
// Elsewhere (and for small blocks) it is plain operator new (aligned new for over-aligned types).
// Contents and behaviour are the same either way: only the page size differs.
#pragma once
#include <cstddef>
#include <mutex>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

// Sanitizer builds do not keep freed blocks: ASan must see every free to report a use after it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define KEB_BIG_KEEP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define KEB_BIG_KEEP 0
#endif
#endif
#ifndef KEB_BIG_KEEP
#define KEB_BIG_KEEP 1
#endif

namespace keb {

inline constexpr std::size_t kBigBlock = std::size_t{2} << 20;  // the huge page
inline constexpr std::size_t kBigMin = std::size_t{1} << 20;    // blocks from here on get huge pages

namespace detail {
// The kept blocks (Linux): a few slots under a mutex (big blocks are allocated rarely).
class BigBlockCache {
public:
    static constexpr int kSlots = 8;
    static constexpr std::size_t kMaxHeld = std::size_t{64} << 20;
    // A kept block of `rounded` bytes or up to twice that (taken out of the cache), else nullptr.
    void* take(std::size_t rounded) {
        std::lock_guard<std::mutex> lock(m_);
        int best = -1;
        for (int i = 0; i < n_; ++i)
            if (blocks_[i].bytes >= rounded && blocks_[i].bytes <= 2 * rounded &&
                (best < 0 || blocks_[i].bytes < blocks_[best].bytes))
                best = i;
        if (best < 0) return nullptr;
        void* p = blocks_[best].p;
        held_ -= blocks_[best].bytes;
        blocks_[best] = blocks_[--n_];
        return p;
    }
    // Keeps a freed block when there is room; false: the caller frees it.
    bool keep(void* p, std::size_t rounded) {
        std::lock_guard<std::mutex> lock(m_);
        if (n_ == kSlots || held_ + rounded > kMaxHeld) return false;
        blocks_[n_++] = Block{p, rounded};
        held_ += rounded;
        return true;
    }

    // Frees every kept block.
    void release() {
        std::lock_guard<std::mutex> lock(m_);
        for (int i = 0; i < n_; ++i) ::operator delete(blocks_[i].p, std::align_val_t{std::size_t{2} << 20});
        n_ = 0;
        held_ = 0;
    }

private:
    struct Block {
        void* p;
        std::size_t bytes;
    };
    std::mutex m_;
    Block blocks_[kSlots] = {};
    int n_ = 0;
    std::size_t held_ = 0;
};
// Never destroyed: blocks freed during static destruction still find it (the kept ones are
// reachable from it until the process ends).
inline BigBlockCache& bigBlockCache() {
    static BigBlockCache* cache = new BigBlockCache;
    return *cache;
}
}  // namespace detail

// align: the alignment the type needs (blocks of kBigMin and more get kBigBlock).
inline void* allocateBig(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kBigMin) {
        const std::size_t rounded = (bytes + kBigBlock - 1) & ~(kBigBlock - 1);
#if KEB_BIG_KEEP
        if (void* kept = detail::bigBlockCache().take(rounded)) return kept;
#endif
        void* p = ::operator new(rounded, std::align_val_t{kBigBlock});
        ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a failure leaves 4 KiB pages
        return p;
    }
#endif
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes, std::align_val_t{align});
    return ::operator new(bytes);
}

// bytes: what was asked of allocateBig (a kept block handed out for a smaller request is then
// kept again as that smaller size: only the accounting is short).
inline void deallocateBig(void* p, std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kBigMin) {
        const std::size_t rounded = (bytes + kBigBlock - 1) & ~(kBigBlock - 1);
#if KEB_BIG_KEEP
        if (detail::bigBlockCache().keep(p, rounded)) return;
#else
        (void)rounded;
#endif
        ::operator delete(p, std::align_val_t{kBigBlock});
        return;
    }
#endif
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
        ::operator delete(p, std::align_val_t{align});
        return;
    }
    ::operator delete(p);
}

template <class T>
struct BigAllocator {
    using value_type = T;
    BigAllocator() = default;
    template <class U>
    BigAllocator(const BigAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(allocateBig(n * sizeof(T), alignof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { deallocateBig(p, n * sizeof(T), alignof(T)); }
    template <class U>
    bool operator==(const BigAllocator<U>&) const noexcept { return true; }
};

}  // namespace keb
