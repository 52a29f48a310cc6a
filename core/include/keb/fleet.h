// Where the engine sees the fleet: a snapshot for target resolution and a lookup
// right before an operation starts. The simulator serves its mocked fleet; the
// server serves the Gardener watch cache.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "keb/model.h"

namespace keb {

struct FleetSnapshot {
    bool ok = true;
    std::string error;                        // set when !ok (e.g. Gardener listing failed)
    const std::vector<Runtime>* runtimes = nullptr;  // valid until the next call into the source
};

class FleetSource {
public:
    virtual ~FleetSource() = default;
    virtual FleetSnapshot snapshot(Millis now) = 0;
    // The runtime as it is now; nullopt when it no longer exists.
    virtual std::optional<Runtime> find(const std::string& runtimeID, Millis now) = 0;
};

// Identifiers: deterministic in the simulator (seeded), random in the server.
class IdGenerator {
public:
    virtual ~IdGenerator() = default;
    virtual std::string newId() = 0;  // UUID-shaped
};

// UUID v4 text from 128 random bits (helper for both kinds of generator).
std::string formatUuid(std::uint64_t hi, std::uint64_t lo);

// Deterministic generator (splitmix64 stream from a seed).
class SeededIdGenerator : public IdGenerator {
public:
    explicit SeededIdGenerator(std::uint64_t seed) : state_(seed) {}
    std::string newId() override;
    std::uint64_t state() const { return state_; }

private:
    std::uint64_t state_;
};

}  // namespace keb
