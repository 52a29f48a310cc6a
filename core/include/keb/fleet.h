// Where the engine sees the fleet: a snapshot for target resolution and a lookup
// right before an operation starts. The simulator serves its mocked fleet; the
// server serves the Gardener watch cache.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "keb/model.h"

namespace keb {

// A fleet listing with random access, for sources that do not keep Runtime objects (the
// simulator's compact fleet of 100,000 shoots). at(i) may build the runtime into a buffer of the
// list: the reference is valid until the next at() on the same list; copy what you keep.
class RuntimeList {
public:
    virtual ~RuntimeList() = default;
    virtual std::size_t size() const = 0;
    virtual const Runtime& at(std::size_t i) const = 0;
    // The 16 bytes (keb/uuid.h) of runtime i's runtimeID and instanceID when the list keeps them
    // packed, else nullptr (the default): a reader that packs ids takes these instead of parsing
    // at(i)'s text. Valid until the list changes.
    struct Uuids {
        const unsigned char* runtimeID = nullptr;
        const unsigned char* instanceID = nullptr;
    };
    virtual Uuids uuidsAt(std::size_t i) const {
        (void)i;
        return {};
    }
    // Groups of Runtime fields, for fieldsAt.
    enum Field : unsigned {
        kRuntimeIDField = 1,
        kInstanceIDField = 2,
        kAccountFields = 4,   // globalAccountID, subAccountID
        kPlanFields = 8,      // planID, planName
        kRegionField = 16,
        kShootField = 32,
        kWindowFields = 64,   // windowBegin, windowEnd
        kVersionFields = 128, // kubernetesVersion, machineImage, machineImageVersion
        kAllFields = 255,
    };
    // at(i) for a reader that needs only the groups in `fields` (and deprovisioning, suspended):
    // a list that builds runtimes on demand may fill just those, the other fields keep whatever
    // an earlier read left there. Same lifetime as at(i). Default: at(i).
    virtual const Runtime& fieldsAt(std::size_t i, unsigned fields) const {
        (void)fields;
        return at(i);
    }
};

// A RuntimeList over a vector (borrowed).
class VectorRuntimeList final : public RuntimeList {
public:
    explicit VectorRuntimeList(const std::vector<Runtime>& v) : v_(v) {}
    std::size_t size() const override { return v_.size(); }
    const Runtime& at(std::size_t i) const override { return v_[i]; }

private:
    const std::vector<Runtime>& v_;
};

struct FleetSnapshot {
    bool ok = true;
    std::string error;                        // set when !ok (e.g. Gardener listing failed)
    // When ok, exactly one of these is set; both are valid until the next call into the source.
    const std::vector<Runtime>* runtimes = nullptr;
    const RuntimeList* list = nullptr;
};

class FleetSource {
public:
    virtual ~FleetSource() = default;
    virtual FleetSnapshot snapshot(Millis now) = 0;
    // The runtime as it is now; nullopt when it no longer exists.
    virtual std::optional<Runtime> find(const std::string& runtimeID, Millis now) = 0;
    // find() into a caller's Runtime (its strings' capacity is reused: the engine looks a runtime
    // up before every start). false when it no longer exists (out unspecified).
    // A number that changes whenever any runtime changes, appears or disappears; nullopt when the
    // source cannot tell. While it stays the same the engine reuses what it derived from a runtime
    // (existence, deprovisioning, its maintenance window) instead of looking it up again.
    virtual std::optional<std::uint64_t> generation() const { return std::nullopt; }
    virtual bool findInto(const std::string& runtimeID, Millis now, Runtime& out) {
        auto r = find(runtimeID, now);
        if (!r) return false;
        out = std::move(*r);
        return true;
    }
    // findInto() for the engine's checks of a runtime (is it skipped, what is its effective
    // window): only deprovisioning, suspended and what effectiveWindow reads (globalAccountID,
    // planName, region, windowBegin, windowEnd) need be set; out's other fields may keep what
    // they held. A source that keeps runtimes compactly builds just these (the engine looks up
    // every pending operation of a 100,000-runtime rollout on recovery).
    virtual bool findWindowInto(const std::string& runtimeID, Millis now, Runtime& out) {
        return findInto(runtimeID, now, out);
    }
    // A hint that a lookup of runtimeID follows: `far` some dozen lookups ahead (a source may
    // start loading the first memory it reads, e.g. an index slot), else a few lookups ahead (it
    // may read that and start loading the rest). No effect on results; by default nothing.
    virtual void prefetch(std::string_view runtimeID, bool far) const {
        (void)runtimeID;
        (void)far;
    }
};

// Identifiers: deterministic in the simulator (seeded), random in the server.
class IdGenerator {
public:
    virtual ~IdGenerator() = default;
    virtual std::string newId() = 0;  // UUID-shaped
    // newId() into text, and its 16 bytes (keb/uuid.h) into bytes; false when the id is not
    // UUID-shaped (bytes unspecified). A generator that makes ids from 128 bits gives the bytes
    // without parsing its own text (the engine keeps ids packed); the default parses it.
    virtual bool newIdPacked(std::string& text, unsigned char bytes[16]);
};

// UUID v4 text from 128 random bits (helper for both kinds of generator).
std::string formatUuid(std::uint64_t hi, std::uint64_t lo);
// The 16 bytes packUuid (keb/uuid.h) makes of formatUuid(hi, lo), without the text: hi then lo,
// big-endian, with the version and variant bits set.
void formatUuidBytes(std::uint64_t hi, std::uint64_t lo, unsigned char out[16]);

// Deterministic generator (splitmix64 stream from a seed).
class SeededIdGenerator : public IdGenerator {
public:
    explicit SeededIdGenerator(std::uint64_t seed) : state_(seed) {}
    std::string newId() override;
    bool newIdPacked(std::string& text, unsigned char bytes[16]) override;
    std::uint64_t state() const { return state_; }

private:
    std::uint64_t state_;
};

}  // namespace keb
