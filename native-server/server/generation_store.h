// A Store decorator that counts committed writes. The HTTP side caches GET responses
// tagged with the generation read BEFORE computing them; an entry is served only while
// no write has committed since, so a cached answer is never older than the last write.
// Every write of ForwardingStore runs through afterWrite(), so every write bumps
// (tests/server/generation_store_test.cpp checks each one, apply included).
#pragma once
#include <atomic>
#include <cstdint>

#include "keb/forwarding_store.h"

namespace keb::server {

class GenerationStore : public ForwardingStore {
public:
    explicit GenerationStore(Store& inner) : ForwardingStore(inner) {}
    std::uint64_t generation() const { return gen_.load(std::memory_order_acquire); }
    // A commit group's transaction committed (issue 15): its writes bumped the generation when
    // they ran, but readers on other connections see them only now, so an answer computed in
    // between (and tagged with the bumped generation) must not be served from the cache.
    void committed() noexcept { afterWrite(); }

protected:
    // Bumps on failure too: a failed transaction may have been partly visible to nobody,
    // but bumping is always safe (it only invalidates the cache).
    void afterWrite() noexcept override { gen_.fetch_add(1, std::memory_order_acq_rel); }

private:
    std::atomic<std::uint64_t> gen_{1};
};

}  // namespace keb::server
