// An allocator for big tables: blocks of 1 MiB and more are rounded up to whole 2 MiB pages, 2 MiB
// aligned and, on Linux, advised for transparent huge pages before they are first touched. Used
// by the engine's per-operation slots and by the simulated world's tables (the fleet's records
// and id index, the flat hash maps over 100,000 runtimes and operations). Lookups into these tables are random (a runtime starts,
// an operation is polled), so with 4 KiB pages nearly every one also misses the TLB; with 2 MiB
// pages a 100k-operation table is a handful of pages, and filling it takes a handful of page
// faults instead of thousands. On a VM whose host backs guest memory on first touch (this project's
// machines: a 4 KiB fault measured ~12 us, 64 MiB took 190 ms in 4 KiB pages and 70-100 ms in huge
// pages), that is also most of the time a fresh table costs. From 1 MiB on, the rounding (at most
// half the block) buys back more in faults than the untouched tail costs.
// Elsewhere (and for small blocks) it is plain operator new (aligned new for over-aligned types).
// Contents and behaviour are the same either way: only the page size differs.
#pragma once
#include <cstddef>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace keb {

inline constexpr std::size_t kBigBlock = std::size_t{2} << 20;  // the huge page
inline constexpr std::size_t kBigMin = std::size_t{1} << 20;    // blocks from here on get huge pages

// align: the alignment the type needs (blocks of kBigMin and more get kBigBlock).
inline void* allocateBig(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kBigMin) {
        const std::size_t rounded = (bytes + kBigBlock - 1) & ~(kBigBlock - 1);
        void* p = ::operator new(rounded, std::align_val_t{kBigBlock});
        ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a failure leaves 4 KiB pages
        return p;
    }
#endif
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes, std::align_val_t{align});
    return ::operator new(bytes);
}

inline void deallocateBig(void* p, std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (bytes >= kBigMin) {
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
