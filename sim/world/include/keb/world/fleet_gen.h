// Mocked Gardener fleet: a generator for large fleets (100,000+ shoots) and a
// FleetSource over it that the simulator can disturb (listing outages, shoots
// disappearing, maintenance windows changing).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keb/fleet.h"
#include "keb/world/big_alloc.h"
#include "keb/model.h"

namespace keb::world {

// A weighted choice: (value, weight). Weights need not sum to 1.
using Weighted = std::vector<std::pair<std::string, double>>;

// Knobs of the generator. Every field has a realistic default; a scenario's
// "fleet" object overrides them (see scenarios/README.md).
struct FleetSpec {
    int size = 100;                    // generated shoots (explicit runtimes come on top)
    int globalAccounts = 0;            // 0: size / 40, at least 1
    int subAccounts = 0;               // 0: size / 4, at least globalAccounts
    double accountSkew = 2.0;          // >= 1; higher: a few accounts own most runtimes
    Weighted plans;                    // empty: azure 35, aws 30, gcp 15, trial 10, azure_lite 5, free 3, sap-converged-cloud 2
    double regionSkew = 1.6;           // >= 1; higher: the first region of a provider dominates
    double operatorWindowShare = 0.2;  // share of shoots with an operator-set window (else Gardener's default)
    std::vector<std::string> windowOffsets;  // operator offsets; empty: +0530 -0800 +0100 +0900 -0500 +1000 +0000 -0300
    Weighted kubernetesVersions;       // empty: 1.28.10 40, 1.29.5 45, 1.30.2 15
    double deletingShare = 0.01;       // shoots with a deletionTimestamp (deprovisioning)
    double suspendedShare = 0.0;       // suspended runtimes
    std::vector<Runtime> extra;        // explicit runtimes appended after the generated ones
};

// Plans KEB knows and their plan ids; providers decide the regions.
const std::string& planIdFor(const std::string& planName);

// Generates spec.size shoots (+ spec.extra). Pure function of (spec, seed).
std::vector<Runtime> generateFleet(const FleetSpec& spec, std::uint64_t seed);

// Gardener's default window: one random hour "HH0000+0000" - "(HH+1)0000+0000".
std::pair<std::string, std::string> gardenerDefaultWindow(int hour);

// The simulated fleet served to the engine, kept compact: 100,000 shoots cost ~110 bytes
// each (std::vector<Runtime> costs ~830). Per shoot: runtime and instance ids as 16 bytes
// when UUID-shaped, the shoot name "c-xxxxxxx" as a number, every other string as a
// uint32 id into one interned pool (accounts, subaccounts, plans, regions, windows and
// versions have few distinct values). Any string round-trips exactly: values of another
// shape go to the pool.
//
// Runtimes are built on request: at(i), get(), byShoot() return a Runtime built into a
// buffer of the fleet (one buffer per function), valid until the next call of the same
// function or a change of the fleet (remove, setWindow). Copy what you keep. Not thread-safe.
class SimFleet : public FleetSource, public RuntimeList {
public:
    SimFleet() { reindex(); }
    explicit SimFleet(const std::vector<Runtime>& runtimes);
    // The fleet of generateFleet(spec, seed), built without the vector of Runtime.
    SimFleet(const FleetSpec& spec, std::uint64_t seed);

    // Appends a runtime (call reindex() after a batch; the constructors do).
    void add(const Runtime& r);
    void reindex();

    // FleetSource. snapshot() fails (ok=false) inside an outage span; else sets `list` (this).
    FleetSnapshot snapshot(Millis now) override;
    std::optional<Runtime> find(const std::string& runtimeID, Millis now) override;
    // find() built into the caller's Runtime (its strings' capacity is reused); false when
    // unknown. Overrides FleetSource::findInto where the interface declares it (no
    // `override` so that this header also builds against a fleet.h without it).
    bool findInto(const std::string& runtimeID, Millis now, Runtime& out) override;
    // Only what decides a runtime's effective window (globalAccountID, planName, region,
    // windowBegin, windowEnd) into out; its other fields are left as they were. false: unknown.
    bool windowFieldsInto(const std::string& runtimeID, Runtime& out) const;
    // FleetSource::findWindowInto: windowFieldsInto plus deprovisioning and suspended (no other
    // string is built). false when unknown.
    bool findWindowInto(const std::string& runtimeID, Millis now, Runtime& out) override;
    // What decides a runtime's effective window (globalAccountID, planName, region, windowBegin,
    // windowEnd) as ids of the fleet's string pool: equal ids, equal strings (ids never change
    // meaning). false: unknown runtime.
    struct WindowKey {
        std::uint32_t account = 0, planName = 0, region = 0, windowBegin = 0, windowEnd = 0;
        bool operator==(const WindowKey&) const = default;
    };
    bool windowKeyOf(const std::string& runtimeID, WindowKey* key) const;
    // A hint that indexOf(runtimeID) follows soon: starts loading the index slot it will read
    // (the lookups of the window check are random over the whole fleet). No effect on results.
    // It loads that slot to prefetch the record too: call it where the slot is likely cached
    // (after prefetchIndex) or where a stall does not matter.
    void prefetch(std::string_view runtimeID) const;
    // Only starts loading the index slot (never waits for memory): the first step of a
    // lookup far ahead, prefetch() the second.
    void prefetchIndex(std::string_view runtimeID) const;
    // FleetSource::prefetch: prefetchIndex when far, else prefetch.
    void prefetch(std::string_view runtimeID, bool far) const override {
        if (far) prefetchIndex(runtimeID);
        else prefetch(runtimeID);
    }
    // Bumped by add(), remove() and setWindow().
    std::optional<std::uint64_t> generation() const override { return generation_; }

    // RuntimeList: the live shoots in fleet order.
    std::size_t size() const override { return recs_.size(); }
    const Runtime& at(std::size_t i) const override;  // buffer: valid until the next at()
    const Runtime& fieldsAt(std::size_t i, unsigned fields) const override;  // the same buffer
    Uuids uuidsAt(std::size_t i) const override;      // the records' packed ids
    Runtime runtime(std::size_t i) const;           // a copy
    std::string runtimeID(std::size_t i) const;
    std::string shootName(std::size_t i) const;
    std::vector<Runtime> toVector() const;  // every runtime (tests, small fleets)

    // A span [from, to) during which listing fails with `error`.
    void addOutage(Millis from, Millis to, std::string error);
    bool inOutage(Millis now, std::string* error = nullptr) const;

    // Removes shoots (they disappear from Gardener). Returns how many were removed.
    std::size_t remove(const std::vector<std::string>& runtimeIDs);
    // Changes a shoot's maintenance window; false when the runtime is unknown.
    bool setWindow(const std::string& runtimeID, const std::string& begin, const std::string& end);

    // Position of the runtime (the first one when an id repeats); nullopt when unknown.
    std::optional<std::size_t> indexOf(const std::string& runtimeID) const;
    bool contains(const std::string& runtimeID) const { return indexOf(runtimeID).has_value(); }
    // The runtime with this id, built into a buffer valid until the next get(); nullptr when unknown.
    const Runtime* get(const std::string& runtimeID) const;
    // By shoot name (scenario convenience), built into a buffer valid until the next
    // byShoot(); nullptr when unknown. A linear scan.
    const Runtime* byShoot(const std::string& shootName) const;
    std::size_t snapshotCalls() const { return snapshotCalls_; }
    std::size_t failedSnapshots() const { return failedSnapshots_; }
    // Heap bytes held (records, id index, string pool, buffers), for memory reports.
    std::size_t approxBytes() const;

private:
    std::uint64_t generation_ = 1;
    // Interned strings: one byte buffer, ids are dense. Never shrinks.
    class Pool {
    public:
        std::uint32_t intern(std::string_view s);
        std::uint32_t find(std::string_view s) const;  // kNoId when absent
        std::string_view view(std::uint32_t id) const {
            return std::string_view(bytes_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
        }
        std::size_t size() const { return offsets_.size() - 1; }
        std::size_t approxBytes() const;
        void reserve(std::size_t texts, std::size_t bytes);  // room without growing (a hint)

    private:
        void grow();
        void rehash(std::size_t cap);  // cap: a power of two
        // The texts end to end: ~36 bytes for each of the fleet's accounts and subaccounts (1 MiB
        // at 100,000 shoots), so its growth gets huge pages (keb/big_alloc.h).
        std::vector<char, BigAllocator<char>> bytes_;
        std::vector<std::uint32_t> offsets_{0};
        std::vector<std::uint32_t> slots_;  // id + 1; 0 free
    };
    static constexpr std::uint32_t kNoId = 0xffffffffu;

    // One shoot. Flags say which of the three compact fields hold a pool id instead.
    // 64 bytes: one cache line (recs_ is 2 MiB aligned), so a lookup by runtime id and the
    // window check read one line. The instance id (read only when a whole Runtime is built) is
    // kept apart in instanceIDs_, at the same position.
    struct Rec {
        std::uint8_t runtimeID[16];
        std::uint32_t shoot;  // "c-xxxxxxx": the 28-bit number; else pool id
        std::uint32_t account, subAccount, planID, planName, region, windowBegin, windowEnd;
        std::uint32_t kubernetesVersion, machineImage, machineImageVersion;
        std::uint8_t flags;
    };
    struct PackedId {
        std::uint8_t bytes[16];
    };
    enum : std::uint8_t {
        kRuntimeIDPooled = 1,
        kInstanceIDPooled = 2,
        kShootPooled = 4,
        kDeprovisioning = 8,
        kSuspended = 16,
    };
    // A runtime id as stored: 16 bytes, or a pool id in the first 4 with `pooled`.
    struct IdKey {
        std::uint8_t bytes[16] = {};
        bool pooled = false;
    };
    bool keyOf(std::string_view runtimeID, IdKey* key) const;  // false: cannot be in the fleet
    // packUuid through a small cache: a runtime is looked up several times in a row by its id's
    // text (a start: the driver's prefetch, its window check and the start event's prefetch;
    // recovery: the far and near prefetch, then the lookup), and packing costs ~250 instructions
    // where a hit costs ~20. Packing is a function of the text, so an entry never goes stale.
    bool packCached(std::string_view text, std::uint8_t out[16]) const;
    struct PackCacheEntry {
        char text[36];
        std::uint8_t bytes[16];
    };
    static constexpr std::size_t kPackCache = 128;  // direct-mapped; 7 KB
    static std::uint64_t hashOf(const std::uint8_t* bytes, bool pooled);
    static bool sameKey(const Rec& r, const IdKey& k);
    void build(std::size_t i, Runtime& out, unsigned fields = kAllFields) const;
    // The five strings that decide a runtime's effective window (windowFieldsInto, findWindowInto).
    void windowFieldsOf(const Rec& r, Runtime& out) const;
    // The index slot a lookup of runtimeID probes first; nullptr when it is not UUID-shaped (no
    // hint for those) or the index is empty.
    const std::uint32_t* firstIndexSlot(std::string_view runtimeID) const;

    std::vector<Rec, BigAllocator<Rec>> recs_;
    std::vector<PackedId, BigAllocator<PackedId>> instanceIDs_;  // instanceIDs_[i] belongs to recs_[i]
    Pool pool_;
    // Open addressing (linear probing) over runtime ids: position + 1, 0 marks a free slot.
    // Capacity is a power of two >= 2x the shoots (~10 bytes per shoot).
    std::vector<std::uint32_t, BigAllocator<std::uint32_t>> index_;
    mutable Runtime atBuf_, getBuf_, shootBuf_;
    mutable std::vector<PackCacheEntry> packCache_;  // kPackCache entries once used
    struct Outage {
        Millis from, to;
        std::string error;
    };
    std::vector<Outage> outages_;
    std::size_t snapshotCalls_ = 0;
    std::size_t failedSnapshots_ = 0;
};

}  // namespace keb::world
