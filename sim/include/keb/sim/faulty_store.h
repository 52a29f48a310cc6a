// A Store decorator that makes the next N writes throw, as a full disk or a lost database
// connection would: the simulator's way into the engine's fatal path (a store write throwing under
// Engine::tick/complete; the server exits and its supervisor restarts it, see
// native-server/server/engine_loop.cpp) and the recovery after it.
//
// A failing write throws before it reaches the wrapped store: nothing of it is written, like a
// transaction that did not commit. Reads always pass through.
//
// A ForwardingStore: every write, apply(batch) included, passes beforeWrite(), the one place that
// fails it; everything else is forwarded.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "keb/forwarding_store.h"

namespace keb::sim {

class StoreWriteFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class FaultyStore : public ForwardingStore {
public:
    explicit FaultyStore(Store& inner) : ForwardingStore(inner) {}

    // The next `writes` write calls throw StoreWriteFailure (added to any still armed).
    void failNextWrites(int writes) { armed_ += writes > 0 ? writes : 0; }
    int armed() const { return armed_; }
    std::uint64_t failedWrites() const { return failed_; }

protected:
    // Throws when a failure is armed (one fewer then). Inline: the engine writes on every step.
    void beforeWrite(const char* write) override {
        if (armed_ > 0) fail(write);
    }

private:
    [[noreturn]] void fail(const char* what);

    int armed_ = 0;
    std::uint64_t failed_ = 0;
};

}  // namespace keb::sim
