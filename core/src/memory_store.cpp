// Compact in-memory Store.
//
// Layout:
//  - StringPool: every string of an operation is interned once. An entry is [tag][payload] in
//    64 KiB blocks; a handle is the entry's byte offset (32 bits). UUID-shaped strings (36 chars,
//    lowercase hex, dashes at 8/13/18/23) are packed to 16 bytes; anything else is kept raw with
//    its length. A linear-probing table of (handle, hash tag) deduplicates.
//  - OpRec: one 160-byte record per operation (times, seq, state, flags, ids and pool handles), in
//    a chunked arena whose slot numbers never change. The orchestration id is not stored per
//    operation (the record names its orchestration by number); kymaConfig/clusterConfig are one
//    interned string. The ids unique to an operation (runtime, instance, subaccount) are packed
//    in the record itself when UUID-shaped, like the operation id.
//  - OpIndex: linear-probing table (orchestration number, operation id) -> slot. UUID-shaped
//    operation ids are packed in the record itself (no pool entry), others are pool handles.
//    Finding an operation reads the index and the record, nothing else.
//  - Per orchestration: the slots in (createdAt, seq, operationID) order and counts per state.
// Writes are all or nothing: a failing insert rolls back the records, the index and the pool
// (truncated to where the write began); updates intern everything before the first change.
#include "keb/memory_store.h"

#include "keb/big_alloc.h"
#include "keb/bits.h"

#include "detail/tag_table.h"

#include "keb/uuid.h"

#include <algorithm>
#include <cassert>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace keb {
namespace {

constexpr std::uint32_t kNone = detail::TagTable::kNone;

// Scratch strings keep their capacity between calls, but not a rare huge one.
struct ScratchTrim {
    std::string& s;
    ~ScratchTrim() {
        if (s.capacity() > 4096) std::string().swap(s);
    }
};

constexpr int kStates = 5;


using detail::TagTable;

// ---------------------------------------------------------------------------------------------
class StringPool {
public:
    static constexpr unsigned kBlockBits = 16;
    static constexpr std::uint64_t kBlock = std::uint64_t{1} << kBlockBits;
    static constexpr unsigned char kUuid = 0xFF;
    static constexpr unsigned char kLong = 0xFD;  // then a 4-byte length
    static constexpr std::size_t kShortMax = 0xFC;  // tags 0..0xFC: a raw string of that length

    // The handle of s, adding it when new. `current` (a handle or kNone) is checked first: an
    // update usually writes back the value a field already has.
    std::uint32_t intern(std::string_view s, std::uint32_t current = kNone) {
        if (current != kNone) {
            // The usual case of a hint (a field written back unchanged, the next operation of a
            // rollout with the same plan, region, description): a raw entry compared as it is,
            // nothing encoded. A raw entry never holds UUID-shaped text (that is packed), so an
            // equal one is the entry encoding would find.
            const unsigned char* e = at(current);
            if (e[0] != kUuid && rawView(e) == s) return current;
        }
        UuidHit* hit = nullptr;
        if (s.size() == 36) {
            hit = &uuidHitFor(s);
            if (hit->handle != kNone && sameUuidText(hit->text, s.data())) return hit->handle;
        }
        encode(s);  // once: the check against current compares encoded bytes
        ScratchTrim trim{key_};
        std::uint32_t h = current;
        if (current == kNone || !sameAsKey(current)) {
            const std::uint32_t tag = tagOf(hashBytes(key(), key_.size()));
            h = lookup(tag);
            if (h == kNone) {
                h = append();
                table_.insert(h, tag);
            }
        }
        if (hit && static_cast<unsigned char>(key_[0]) == kUuid) {  // UUID-shaped: remember it
            std::memcpy(hit->text, s.data(), 36);
            hit->handle = h;
        }
        return h;
    }

    // kNone when s was never interned.
    std::uint32_t find(std::string_view s) const {
        encode(s);
        ScratchTrim trim{key_};
        return lookup(tagOf(hashBytes(key(), key_.size())));
    }

    void read(std::uint32_t h, std::string& out) const {
        const unsigned char* e = at(h);
        if (e[0] == kUuid) unpackUuid(e + 1, out);
        else out.assign(rawView(e));
    }

    // Whether entry h holds s (no scratch used).
    bool equals(std::uint32_t h, std::string_view s) const {
        const unsigned char* e = at(h);
        if (e[0] != kUuid) return rawView(e) == s;
        unsigned char packed[16];
        return s.size() == 36 && packUuid(s, packed) && std::memcmp(packed, e + 1, 16) == 0;
    }

    // The bytes of a raw (not UUID-packed) entry.
    std::string_view view(std::uint32_t h) const { return rawView(at(h)); }

    std::uint64_t mark() const { return used_; }

    // Room in the table for n more entries without growing it (a hint).
    void reserve(std::size_t n) { table_.reserve(table_.size() + n); }

    // Forgets every entry appended after mark (a failed write); nothing may reference them.
    void rollback(std::uint64_t mark) {
        if (mark >= used_) return;
        uuidHits_.clear();  // some of their handles are gone
        const std::size_t keepBlocks = static_cast<std::size_t>((mark + kBlock - 1) >> kBlockBits);
        while (!allocs_.empty() && allocs_.back().firstBlock >= keepBlocks) {
            allocated_ -= allocs_.back().bytes;
            allocs_.pop_back();
        }
        blocks_.resize(keepBlocks);
        used_ = mark;
        table_.dropFrom(mark);
    }

    std::size_t bytes() const {
        return allocated_ + table_.bytes() + blocks_.capacity() * sizeof(unsigned char*) +
               allocs_.capacity() * sizeof(Alloc) + uuidHits_.capacity() * sizeof(UuidHit);
    }

private:
    static std::uint32_t tagOf(std::uint64_t h) { return static_cast<std::uint32_t>(h >> 32); }

    // UUID-shaped text interned lately -> its handle, direct-mapped by the text's leading digits:
    // the ids that repeat across a rollout's operations (accounts, plan ids) are interned without
    // packing them (~250 instructions) and probing the table again. A text has one entry, so a
    // remembered handle stays right until a rollback drops entries (which empties this).
    struct UuidHit {
        char text[36];
        std::uint32_t handle;
    };
    static constexpr std::size_t kUuidHits = 256;
    std::vector<UuidHit> uuidHits_;  // empty, or kUuidHits entries (handle kNone: unused)
    UuidHit& uuidHitFor(std::string_view s) {
        if (uuidHits_.empty()) uuidHits_.assign(kUuidHits, UuidHit{{}, kNone});
        std::uint64_t w;
        std::memcpy(&w, s.data(), sizeof w);
        return uuidHits_[static_cast<std::size_t>((w * 0x9E3779B97F4A7C15ULL) >> 32) % kUuidHits];
    }
    static bool sameUuidText(const char* a, const char* b) {  // 36 bytes each
        std::uint64_t x[4], y[4];
        std::uint32_t xt, yt;
        std::memcpy(x, a, sizeof x);
        std::memcpy(y, b, sizeof y);
        std::memcpy(&xt, a + sizeof x, sizeof xt);
        std::memcpy(&yt, b + sizeof y, sizeof yt);
        return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (xt ^ yt)) == 0;
    }

    bool sameAsKey(std::uint32_t off) const {
        const unsigned char* e = at(off);
        return e[0] == static_cast<unsigned char>(key_[0]) && entrySize(e) == key_.size() &&
               std::memcmp(e, key_.data(), key_.size()) == 0;
    }

    struct Alloc {
        std::unique_ptr<unsigned char[]> mem;
        std::size_t bytes;
        std::size_t firstBlock;
    };

    const unsigned char* key() const { return reinterpret_cast<const unsigned char*>(key_.data()); }

    static std::size_t entrySize(const unsigned char* e) {
        if (e[0] == kUuid) return 17;
        if (e[0] <= kShortMax) return 1 + std::size_t{e[0]};
        std::uint32_t n;
        std::memcpy(&n, e + 1, 4);
        return 5 + std::size_t{n};
    }

    static std::string_view rawView(const unsigned char* e) {
        const char* p = reinterpret_cast<const char*>(e);
        if (e[0] <= kShortMax) return {p + 1, e[0]};
        std::uint32_t n;
        std::memcpy(&n, e + 1, 4);
        return {p + 5, n};
    }

    const unsigned char* at(std::uint32_t off) const {
        return blocks_[off >> kBlockBits] + (off & (kBlock - 1));
    }

    void encode(std::string_view s) const {
        if (s.size() == 36) {
            key_.resize(17);
            if (packUuid(s, reinterpret_cast<unsigned char*>(key_.data()) + 1)) {
                key_[0] = static_cast<char>(kUuid);
                return;
            }
        }
        if (s.size() <= kShortMax) {
            key_.resize(1 + s.size());
            key_[0] = static_cast<char>(s.size());
            std::memcpy(key_.data() + 1, s.data(), s.size());
            return;
        }
        if (s.size() > 0xF0000000u) throw std::length_error("MemoryStore: string too long");
        const auto n = static_cast<std::uint32_t>(s.size());
        key_.resize(5 + s.size());
        key_[0] = static_cast<char>(kLong);
        std::memcpy(key_.data() + 1, &n, 4);
        std::memcpy(key_.data() + 5, s.data(), s.size());
    }

    std::uint32_t lookup(std::uint32_t tag) const {
        return table_.find(tag, [this](std::uint32_t off) { return sameAsKey(off); });
    }

    // Copies key_ into the arena; returns its offset.
    std::uint32_t append() {
        const std::uint64_t n = key_.size();
        std::uint64_t off = used_;
        const bool room = off < blocks_.size() * kBlock && (off & (kBlock - 1)) + n <= kBlock;
        if (!room) {
            off = blocks_.size() * kBlock;
            const std::uint64_t nblocks = (n + kBlock - 1) / kBlock;
            if (off + nblocks * kBlock >= kNone) throw std::length_error("MemoryStore: string pool is full (4 GiB)");
            const std::size_t bytes = static_cast<std::size_t>(n <= kBlock ? kBlock : n);
            std::unique_ptr<unsigned char[]> mem(new unsigned char[bytes]);
            blocks_.reserve(blocks_.size() + nblocks);
            allocs_.reserve(allocs_.size() + 1);
            for (std::uint64_t k = 0; k < nblocks; ++k) blocks_.push_back(mem.get() + k * kBlock);
            allocs_.push_back(Alloc{std::move(mem), bytes, static_cast<std::size_t>(off >> kBlockBits)});
            allocated_ += bytes;
        }
        std::memcpy(blocks_[off >> kBlockBits] + (off & (kBlock - 1)), key_.data(), n);
        used_ = off + n;
        if (n > kBlock) used_ = blocks_.size() * kBlock;  // a large entry owns its blocks
        return static_cast<std::uint32_t>(off);
    }

    std::vector<unsigned char*> blocks_;  // logical 64 KiB block -> memory
    std::vector<Alloc> allocs_;
    std::size_t allocated_ = 0;
    std::uint64_t used_ = 0;  // next free offset
    TagTable table_;          // entry offsets by hash tag
    // Scratch, per thread so that concurrent readers (under a caller's shared lock) do not race:
    // the encoded form of the string being looked up.
    inline static thread_local std::string key_;
};

// ---------------------------------------------------------------------------------------------
enum : std::uint8_t {
    kDryRun = 1,
    kUpgradeStarted = 2,
    kImmediate = 4,
    kHasKyma = 8,
    kHasCluster = 16,
    kPackedId = 32,  // the record's id is a packed UUID (else a pool handle)
};

// An operation id as records keep it: UUID-shaped ids packed in place (so that finding an
// operation reads no pool), any other id as a pool handle in the first four bytes.
struct OpId {
    bool packed = false;
    unsigned char bytes[16] = {};
    std::uint32_t handle() const {
        std::uint32_t h;
        std::memcpy(&h, bytes, 4);
        return h;
    }
    static OpId ofHandle(std::uint32_t h) {
        OpId k;
        std::memcpy(k.bytes, &h, 4);
        return k;
    }
};

// Bits of OpRec::packed: which of the per-operation ids are packed UUIDs in the record (else the
// first four bytes are a pool handle). These ids are unique per operation, so the pool could not
// share them: in place they cost 16 bytes instead of a pool entry, its table slot and a handle, and
// writing or reading them touches no pool memory.
enum : std::uint8_t { kRuntimePacked = 1, kInstancePacked = 2, kSubAccountPacked = 4, kShootPacked = 8 };

// Shoot names of KEB's form, "c-" and 7 lower-case hex digits (unique per runtime, like the ids
// above), are kept in the record as their 28-bit value (kShootPacked; else OpRec::shoot is a pool
// handle): writing one needs no pool entry and no table probe, reading one no pool read.
bool packShoot(std::string_view s, std::uint32_t& code) {
    if (s.size() != 9 || s[0] != 'c' || s[1] != '-') return false;
    std::uint32_t v = 0;
    for (std::size_t i = 2; i < 9; ++i) {
        const char c = s[i];
        std::uint32_t d;
        if (c >= '0' && c <= '9') d = static_cast<std::uint32_t>(c - '0');
        else if (c >= 'a' && c <= 'f') d = static_cast<std::uint32_t>(c - 'a' + 10);
        else return false;
        v = v << 4 | d;
    }
    code = v;
    return true;
}
void unpackShoot(std::uint32_t code, std::string& out) {
    char text[10];
    writeHex8(text + 1, code);  // 8 digits, the first one '0' (code < 2^28); "c-" goes over it
    text[0] = 'c';
    text[1] = '-';
    if (out.size() == 9) std::memcpy(out.data(), text, 9);  // a reused string: no general replace
    else out.assign(text, 9);
}

struct OpRec {
    Millis createdAt, updatedAt, startAt, startedAt, windowBegin, windowEnd;
    std::int64_t seq;
    unsigned char id[16];  // see OpId
    std::uint32_t orch;    // orchestration number
    unsigned char runtime[16], instance[16], subAccount[16];  // see kRuntimePacked
    std::uint32_t globalAccount, planID, planName, region, shoot, description, retryOf, config;
    std::uint8_t state, flags, packed;

    bool packedId() const { return flags & kPackedId; }
    bool hasId(const OpId& k) const {
        return k.packed == packedId() && std::memcmp(id, k.bytes, k.packed ? 16 : 4) == 0;
    }
    OpId opId() const {
        OpId k;
        k.packed = packedId();
        std::memcpy(k.bytes, id, 16);
        return k;
    }
};
static_assert(sizeof(OpRec) <= 160, "operation record grew");

std::uint64_t opIdHash(std::uint32_t orch, const OpId& k) {
    if (k.packed) return hashBytes(k.bytes, 16) ^ mix64(orch);
    return mix64((static_cast<std::uint64_t>(orch) << 32) | k.handle()) ^ 0x5bd1e9955bd1e995ULL;
}

// The records: the first kFirst in one small chunk (a store with few operations stays small), the
// rest in chunks of kBig records, 4 MiB each on huge pages (keb/big_alloc.h). Records are read
// and written in random order (starts, window moves and finishes of a 100,000-operation
// rollout): with 4 KiB pages most of those accesses also missed the TLB.
class RecordArena {
public:
    static constexpr std::uint32_t kFirst = 1024;
    static constexpr std::size_t kBigBytes = 2 * kBigBlock;
    static constexpr std::uint32_t kBig = static_cast<std::uint32_t>(kBigBytes / sizeof(OpRec));
    static_assert(std::is_trivially_default_constructible_v<OpRec> && std::is_trivially_destructible_v<OpRec>,
                  "records live in raw chunks");

    OpRec& operator[](std::uint32_t i) { return *at(i); }
    const OpRec& operator[](std::uint32_t i) const { return *at(i); }
    std::uint32_t size() const { return size_; }

    std::uint32_t push(const OpRec& r) {
        if (size_ == kNone - 1) throw std::length_error("MemoryStore: too many operations");
        if (size_ == capacity()) {
            if (!first_) {
                first_ = std::make_unique<OpRec[]>(kFirst);
            } else {
                big_.reserve(big_.size() + 1);
                big_.emplace_back(static_cast<OpRec*>(allocateBig(kBigBytes, alignof(OpRec))));
            }
        }
        (*this)[size_] = r;
        return size_++;
    }
    void truncate(std::uint32_t n) {
        size_ = n;
        big_.resize(n <= kFirst ? 0 : (n - kFirst + kBig - 1) / kBig);
    }
    std::size_t bytes() const {
        return (first_ ? kFirst * sizeof(OpRec) : 0) + big_.size() * kBigBytes + big_.capacity() * sizeof(big_[0]);
    }

private:
    struct BigFree {
        void operator()(OpRec* p) const { deallocateBig(p, kBigBytes, alignof(OpRec)); }
    };
    std::uint32_t capacity() const { return (first_ ? kFirst : 0) + static_cast<std::uint32_t>(big_.size()) * kBig; }
    OpRec* at(std::uint32_t i) const {
        if (i < kFirst) return first_.get() + i;
        i -= kFirst;
        return big_[i / kBig].get() + i % kBig;
    }
    std::unique_ptr<OpRec[]> first_;
    std::vector<std::unique_ptr<OpRec, BigFree>> big_;
    std::uint32_t size_ = 0;
};

// (orchestration number, operation id) -> record slot, over a TagTable: probing reads a record
// only for a real candidate and growing reads none.
class OpIndex {
public:
    std::uint32_t find(const RecordArena& recs, std::uint32_t orch, const OpId& key) const {
        return table_.find(tagOf(orch, key), [&](std::uint32_t slot) {
            return recs[slot].orch == orch && recs[slot].hasId(key);
        });
    }
    void insert(const RecordArena& recs, std::uint32_t slot) {
        const OpRec& r = recs[slot];
        table_.insert(slot, tagOf(r.orch, r.opId()));
    }
    // Keeps the slots below limit (a failed write).
    void dropFrom(std::uint32_t limit) { table_.dropFrom(limit); }
    // Room for n more operations without growing (a hint).
    void reserve(std::size_t n) { table_.reserve(table_.size() + n); }
    std::size_t bytes() const { return table_.bytes(); }

private:
    static std::uint32_t tagOf(std::uint32_t orch, const OpId& key) {
        return static_cast<std::uint32_t>(opIdHash(orch, key) >> 32);
    }
    TagTable table_;
};

std::size_t stringHeap(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

std::size_t optHeap(const std::optional<std::string>& s) { return s ? stringHeap(*s) : 0; }

std::size_t orchestrationHeap(const Orchestration& o) {
    std::size_t n = stringHeap(o.orchestrationID) + stringHeap(o.description) + stringHeap(o.parameters.strategy.type);
    for (const auto* v : {&o.parameters.targets.include, &o.parameters.targets.exclude}) {
        n += v->capacity() * sizeof(Target);
        for (const Target& t : *v)
            n += optHeap(t.globalAccount) + optHeap(t.subAccount) + optHeap(t.region) + optHeap(t.runtimeID) +
                 optHeap(t.planName) + optHeap(t.shoot) + optHeap(t.instanceID);
    }
    if (o.parameters.kyma) n += stringHeap(o.parameters.kyma->version);
    if (o.parameters.kubernetes)
        n += stringHeap(o.parameters.kubernetes->kubernetesVersion) + stringHeap(o.parameters.kubernetes->machineImage) +
             stringHeap(o.parameters.kubernetes->machineImageVersion);
    return n;
}

template <class State>
bool wanted(const std::vector<State>& states, State s) {
    return states.empty() || std::find(states.begin(), states.end(), s) != states.end();
}

int stateIndex(OperationState s) {
    const int i = static_cast<int>(s);
    if (i < 0 || i >= kStates) throw std::invalid_argument("operation state out of range");
    return i;
}

// The last (orchestration, operation) -> slot lookup of this thread: the engine reads an
// operation and then writes it back, the second lookup is free. Keyed by the store's unique
// number and its epoch (bumped when a failed write frees slots).
struct LookupCache {
    std::uint64_t store = 0;
    std::uint64_t epoch = 0;
    std::uint32_t slot = kNone;
    std::string orch, op;
};
thread_local LookupCache tlsLookup;

// op = Operation{}, keeping the strings' capacity: a producer of many operations (an
// operationSource) refills the same strings for each, so they need not be freed and allocated
// again every time.
void resetOperation(Operation& op) {
    for (std::string* s : {&op.operationID, &op.orchestrationID, &op.runtimeID, &op.instanceID, &op.globalAccountID,
                           &op.subAccountID, &op.servicePlanID, &op.servicePlanName, &op.region, &op.shootName,
                           &op.description, &op.retryOf, &op.stage})
        s->clear();
    op.dryRun = false;
    op.maintenanceWindowBegin = op.maintenanceWindowEnd = 0;
    op.state = OperationState::Pending;
    op.createdAt = op.updatedAt = 0;
    op.seq = 0;
    op.startAt = op.startedAt = 0;
    op.upgradeStarted = op.immediate = false;
    op.kymaConfig.reset();
    op.clusterConfig.reset();
    assert(op == Operation{});
}
// A field added to Operation must be reset above too. Checked on 64-bit hosts only, where this
// sum is the layout (on wasm32 a std::string is 12 bytes and the padding differs).
#if UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
static_assert(sizeof(Operation) == 13 * sizeof(std::string) + 10 * sizeof(std::int64_t) +
                                       sizeof(std::optional<KymaParams>) + sizeof(std::optional<KubernetesParams>),
              "Operation changed: update resetOperation");
#endif
std::atomic<std::uint64_t> nextStoreNumber{1};

}  // namespace

// ---------------------------------------------------------------------------------------------
struct MemoryStore::Impl {
    struct OrchRec {
        Orchestration o;
        std::vector<std::uint32_t> order;  // record slots by (createdAt, seq, operationID)
        std::array<std::int64_t, kStates> counts{};
        // order is base, base + 1, ... (records appended in order and never moved: a rollout's):
        // the i-th record's slot is then known without reading order (400 KB for 100,000
        // operations, read at random: a miss for each start, move and finish).
        bool contiguous = true;
        std::uint32_t base = 0;
        std::uint32_t slotAt(std::size_t i) const {
            return contiguous ? base + static_cast<std::uint32_t>(i) : order[i];
        }
        void recheckContiguous() {
            contiguous = true;
            base = order.empty() ? 0 : order[0];
            for (std::size_t i = 0; i < order.size() && contiguous; ++i)
                contiguous = order[i] == base + static_cast<std::uint32_t>(i);
        }
    };
    // Where a write began, to undo it.
    struct Mark {
        std::uint32_t records;
        std::uint64_t pool;
        std::vector<std::uint32_t> touched;  // orchestrations that got records
    };

    const std::uint64_t number = nextStoreNumber.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t epoch = 0;
    StringPool pool;
    RecordArena recs;
    OpIndex index;
    std::vector<std::unique_ptr<OrchRec>> orchs;  // by number (insertion order)
    std::vector<std::uint32_t> orchOrder;          // numbers by (createdAt, orchestrationID)
    std::unordered_map<std::string, std::uint32_t> orchById;
    std::string config;  // scratch: encoded kymaConfig/clusterConfig
    // Pool table room to make when the operations being inserted turn out to have pooled shoot
    // names (see putShoot); 0: none pending.
    std::size_t poolReserve = 0;
    std::size_t orderReserve = 0;  // the same for the order of the orchestration the insert grows first

    std::uint32_t orchNo(const std::string& id) const {
        // The engine writes to one orchestration many times in a row: remember this thread's
        // last answer (only a failed batch removes orchestrations, and it bumps the epoch).
        struct Last {
            std::uint64_t store = 0;
            std::uint64_t epoch = 0;
            std::uint32_t no = kNone;
            std::string id;
        };
        thread_local Last last;
        if (last.store == number && last.epoch == epoch && last.id == id) return last.no;
        auto it = orchById.find(id);
        if (it == orchById.end()) return kNone;
        last.store = number;
        last.epoch = epoch;
        last.no = it->second;
        last.id.assign(id);
        return it->second;
    }
    std::uint32_t requireOrch(const std::string& id) const {
        const std::uint32_t no = orchNo(id);
        if (no == kNone) throw std::runtime_error("no orchestration " + id);
        return no;
    }

    bool orchBefore(std::uint32_t a, std::uint32_t b) const {
        const Orchestration& x = orchs[a]->o;
        const Orchestration& y = orchs[b]->o;
        return std::tie(x.createdAt, x.orchestrationID) < std::tie(y.createdAt, y.orchestrationID);
    }

    bool opBefore(std::uint32_t a, std::uint32_t b) const {
        const OpRec& x = recs[a];
        const OpRec& y = recs[b];
        if (x.createdAt != y.createdAt) return x.createdAt < y.createdAt;
        if (x.seq != y.seq) return x.seq < y.seq;
        if (x.packedId() && y.packedId()) return std::memcmp(x.id, y.id, 16) < 0;  // nibbles keep hex order
        thread_local std::string idX, idY;
        idString(x, idX);
        idString(y, idY);
        const bool less = idX < idY;
        ScratchTrim trimX{idX}, trimY{idY};
        return less;
    }

    void idString(const OpRec& r, std::string& out) const {
        if (r.packedId()) unpackUuid(r.id, out);
        else pool.read(r.opId().handle(), out);
    }

    // The key of an id; add: intern a non-UUID id (else a handle of kNone means unknown).
    OpId keyOf(const std::string& id, bool add) {
        OpId k;
        if (packUuid(id, k.bytes)) {
            k.packed = true;
            return k;
        }
        return OpId::ofHandle(add ? pool.intern(id) : pool.find(id));
    }
    OpId findKey(const std::string& id) const {
        OpId k;
        if (packUuid(id, k.bytes)) {
            k.packed = true;
            return k;
        }
        return OpId::ofHandle(pool.find(id));
    }

    void placeInOrder(OrchRec& rec, std::uint32_t slot) {
        std::vector<std::uint32_t>& order = rec.order;
        if (order.empty() || !opBefore(slot, order.back())) {
            if (order.empty()) {
                rec.contiguous = true;
                rec.base = slot;
            } else if (slot != rec.base + order.size()) {
                rec.contiguous = false;
            }
            if (order.size() == order.capacity() && orderReserve > 0) {
                order.reserve(order.size() + orderReserve);
                orderReserve = 0;
            }
            order.push_back(slot);
            return;
        }
        rec.contiguous = false;
        auto pos = std::upper_bound(order.begin(), order.end(), slot,
                                    [this](std::uint32_t a, std::uint32_t b) { return opBefore(a, b); });
        order.insert(pos, slot);
    }

    // Every field but id and orch (interning may throw; r is a scratch copy). r's handles are
    // kNone for a new record, the current ones for an update.
    void fill(OpRec& r, const Operation& op, const Store::OperationUuids* uuids = nullptr) {
        r.createdAt = op.createdAt;
        r.updatedAt = op.updatedAt;
        r.startAt = op.startAt;
        r.startedAt = op.startedAt;
        r.windowBegin = op.maintenanceWindowBegin;
        r.windowEnd = op.maintenanceWindowEnd;
        r.seq = op.seq;
        r.state = static_cast<std::uint8_t>(stateIndex(op.state));
        putId(op.runtimeID, r.runtime, kRuntimePacked, r.packed, uuids ? uuids->runtimeID : nullptr);
        putId(op.instanceID, r.instance, kInstancePacked, r.packed, uuids ? uuids->instanceID : nullptr);
        r.globalAccount = pool.intern(op.globalAccountID, r.globalAccount);
        putId(op.subAccountID, r.subAccount, kSubAccountPacked, r.packed);
        r.planID = pool.intern(op.servicePlanID, r.planID);
        r.planName = pool.intern(op.servicePlanName, r.planName);
        r.region = pool.intern(op.region, r.region);
        putShoot(op.shootName, r);
        r.description = pool.intern(op.description, r.description);
        r.retryOf = pool.intern(op.retryOf, r.retryOf);
        r.flags = static_cast<std::uint8_t>((r.flags & kPackedId) | (op.dryRun ? kDryRun : 0) | (op.upgradeStarted ? kUpgradeStarted : 0) |
                                            (op.immediate ? kImmediate : 0) | (op.kymaConfig ? kHasKyma : 0) |
                                            (op.clusterConfig ? kHasCluster : 0));
        const std::uint32_t oldConfig = r.config;
        r.config = kNone;
        if (op.kymaConfig || op.clusterConfig || !op.stage.empty()) {
            // Length-prefixed fields: kyma version, kubernetes version, machine image, image
            // version, and the stage name when staged (SPEC 10; shared by a whole stage, so a
            // staged rollout costs one pool entry per stage, not a field per record).
            config.clear();
            auto put = [this](const std::string& s) {
                const auto n = static_cast<std::uint32_t>(s.size());
                config.append(reinterpret_cast<const char*>(&n), 4);
                config.append(s);
            };
            static const std::string empty;
            put(op.kymaConfig ? op.kymaConfig->version : empty);
            put(op.clusterConfig ? op.clusterConfig->kubernetesVersion : empty);
            put(op.clusterConfig ? op.clusterConfig->machineImage : empty);
            put(op.clusterConfig ? op.clusterConfig->machineImageVersion : empty);
            if (!op.stage.empty()) put(op.stage);
            ScratchTrim trim{config};
            r.config = pool.intern(config, oldConfig);
        }
    }

    // An id kept in a record: packed in place when UUID-shaped, else interned (kept when unchanged).
    // uuid: s's bytes when the writer gave them (Store::OperationUuids).
    void putId(std::string_view s, unsigned char (&dst)[16], std::uint8_t bit, std::uint8_t& packedBits,
               const unsigned char* uuid = nullptr) {
        if (uuid) {
            std::memcpy(dst, uuid, 16);
            packedBits = static_cast<std::uint8_t>(packedBits | bit);
            return;
        }
        const bool wasPacked = packedBits & bit;
        std::uint32_t current = kNone;
        if (!wasPacked) std::memcpy(&current, dst, 4);
        if (packUuid(s, dst)) {
            packedBits = static_cast<std::uint8_t>(packedBits | bit);
            return;
        }
        const std::uint32_t h = pool.intern(s, current);
        std::memcpy(dst, &h, 4);
        packedBits = static_cast<std::uint8_t>(packedBits & ~bit);
    }
    // A shoot name kept in a record (see packShoot).
    void putShoot(std::string_view s, OpRec& r) {
        const bool wasPacked = r.packed & kShootPacked;
        std::uint32_t code;
        if (packShoot(s, code)) {
            r.shoot = code;
            r.packed = static_cast<std::uint8_t>(r.packed | kShootPacked);
            return;
        }
        if (poolReserve > 0) {  // the first pooled shoot name of a large insert: room for the rest
            pool.reserve(poolReserve);
            poolReserve = 0;
        }
        r.shoot = pool.intern(s, wasPacked ? kNone : r.shoot);
        r.packed = static_cast<std::uint8_t>(r.packed & ~kShootPacked);
    }
    void readShoot(const OpRec& r, std::string& out) const {
        if (r.packed & kShootPacked) unpackShoot(r.shoot, out);
        else pool.read(r.shoot, out);
    }
    void readId(const unsigned char (&src)[16], bool isPacked, std::string& out) const {
        if (isPacked) return unpackUuid(src, out);
        std::uint32_t h;
        std::memcpy(&h, src, 4);
        pool.read(h, out);
    }

    // Materialises a record into out (reusing out's string capacity).
    void load(std::uint32_t slot, Operation& out) const {
        const OpRec& r = recs[slot];
        idString(r, out.operationID);
        out.orchestrationID = orchs[r.orch]->o.orchestrationID;
        readId(r.runtime, r.packed & kRuntimePacked, out.runtimeID);
        readId(r.instance, r.packed & kInstancePacked, out.instanceID);
        pool.read(r.globalAccount, out.globalAccountID);
        readId(r.subAccount, r.packed & kSubAccountPacked, out.subAccountID);
        pool.read(r.planID, out.servicePlanID);
        pool.read(r.planName, out.servicePlanName);
        pool.read(r.region, out.region);
        readShoot(r, out.shootName);
        out.dryRun = r.flags & kDryRun;
        out.maintenanceWindowBegin = r.windowBegin;
        out.maintenanceWindowEnd = r.windowEnd;
        out.state = static_cast<OperationState>(r.state);
        pool.read(r.description, out.description);
        out.createdAt = r.createdAt;
        out.updatedAt = r.updatedAt;
        out.seq = r.seq;
        out.startAt = r.startAt;
        out.startedAt = r.startedAt;
        out.upgradeStarted = r.flags & kUpgradeStarted;
        out.immediate = r.flags & kImmediate;
        pool.read(r.retryOf, out.retryOf);
        out.stage.clear();
        if (r.config == kNone) {
            out.kymaConfig.reset();
            out.clusterConfig.reset();
            return;
        }
        std::string_view v = pool.view(r.config);
        auto field = [&v]() {
            std::uint32_t n;
            std::memcpy(&n, v.data(), 4);
            std::string_view f = v.substr(4, n);
            v.remove_prefix(4 + std::size_t{n});
            return f;
        };
        const std::string_view kyma = field(), k8s = field(), image = field(), imageVersion = field();
        if (!v.empty()) out.stage.assign(field());
        if (r.flags & kHasKyma) {
            if (!out.kymaConfig) out.kymaConfig.emplace();
            out.kymaConfig->version.assign(kyma);
        } else {
            out.kymaConfig.reset();
        }
        if (r.flags & kHasCluster) {
            if (!out.clusterConfig) out.clusterConfig.emplace();
            out.clusterConfig->kubernetesVersion.assign(k8s);
            out.clusterConfig->machineImage.assign(image);
            out.clusterConfig->machineImageVersion.assign(imageVersion);
        } else {
            out.clusterConfig.reset();
        }
    }

    // forEachOperationBrief(Packed): with `packed`, UUID ids are given as their bytes, not text.
    void forEachBrief(const std::string& orchestrationID, bool packed,
                      const std::function<void(const Store::OperationBrief&)>& fn) const {
        const std::uint32_t no = orchNo(orchestrationID);
        if (no == kNone) return;
        const OrchRec& rec = *orchs[no];
        std::string id, runtime;  // capacity reused
        for (std::size_t i = 0; i < rec.order.size(); ++i) {
            const OpRec& r = recs[rec.order[i]];
            const bool retry = r.retryOf != kNone && !pool.equals(r.retryOf, std::string_view());
            Store::OperationBrief b{{}, {}, r.seq, static_cast<OperationState>(r.state), r.startAt,
                                    (r.flags & kImmediate) != 0, retry, nullptr, nullptr};
            if (packed && r.packedId()) {
                b.operationUuid = r.id;
            } else {
                idString(r, id);
                b.operationID = id;
            }
            if (packed && (r.packed & kRuntimePacked)) {
                b.runtimeUuid = r.runtime;
            } else {
                readId(r.runtime, r.packed & kRuntimePacked, runtime);
                b.runtimeID = runtime;
            }
            fn(b);
        }
    }

    Operation loaded(std::uint32_t slot) const {
        Operation op;
        load(slot, op);
        return op;
    }

    Mark begin() const { return Mark{recs.size(), pool.mark(), {}}; }

    // The record of an operation, kNone when unknown.
    std::uint32_t slotOf(const std::string& orchestrationID, const std::string& operationID) const {
        LookupCache& c = tlsLookup;
        if (c.store == number && c.epoch == epoch && c.op == operationID && c.orch == orchestrationID) return c.slot;
        const std::uint32_t no = orchNo(orchestrationID);
        if (no == kNone) return kNone;
        const OpId key = findKey(operationID);
        if (!key.packed && key.handle() == kNone) return kNone;
        const std::uint32_t slot = index.find(recs, no, key);
        if (slot == kNone) return kNone;
        c.store = number;
        c.epoch = epoch;
        c.slot = slot;
        c.orch.assign(orchestrationID);
        c.op.assign(operationID);
        return slot;
    }

    // Whether record r is operation `id`.
    bool hasIdText(const OpRec& r, const std::string& id) const {
        if (!r.packedId()) return pool.equals(r.opId().handle(), id);
        thread_local std::string text;
        unpackUuid(r.id, text);
        return text == id;
    }

    // slotOf with the operation's seq as a hint: operations are created in seq order, so the
    // seq-th of the orchestration's order is nearly always the one (no id index read).
    // uuid: operationID's bytes when the writer gave them (ProgressChange::operationUuid).
    std::uint32_t slotAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                         const unsigned char* uuid = nullptr) const {
        const std::uint32_t no = orchNo(orchestrationID);
        if (no == kNone) return kNone;
        const OrchRec& rec = *orchs[no];
        if (seq >= 0 && static_cast<std::uint64_t>(seq) < rec.order.size()) {
            const std::uint32_t slot = rec.slotAt(static_cast<std::size_t>(seq));
            const OpRec& r = recs[slot];
            if (r.seq == seq && (uuid && r.packedId() ? std::memcmp(r.id, uuid, 16) == 0 : hasIdText(r, operationID)))
                return slot;
        }
        return slotOf(orchestrationID, operationID);
    }

    // The record of an operation that must exist (seq: a hint, see slotAt); throws naming the
    // orchestration or the operation that is unknown.
    std::uint32_t requireSlot(const std::string& orchestrationID, const std::string& operationID,
                              std::int64_t seq = -1, const unsigned char* uuid = nullptr) const {
        const std::uint32_t slot = slotAt(orchestrationID, operationID, seq, uuid);
        if (slot != kNone) return slot;
        requireOrch(orchestrationID);
        throw std::runtime_error("no operation " + operationID);
    }

    void rollback(const Mark& m) {
        ++epoch;  // slots past m.records may be given to other operations now
        const bool grew = recs.size() > m.records;
        for (std::uint32_t no : m.touched) {
            OrchRec& rec = *orchs[no];
            std::erase_if(rec.order, [&](std::uint32_t slot) { return slot >= m.records; });
            rec.recheckContiguous();
            rec.counts.fill(0);
            for (std::uint32_t slot : rec.order) ++rec.counts[recs[slot].state];
        }
        if (grew) index.dropFrom(m.records);
        recs.truncate(m.records);
        pool.rollback(m.pool);
    }

    // One new operation of a write in progress (m is rolled back by the caller when this throws).
    // uuids: the writer's packed ids of op (Store::OperationUuids), when given.
    void append(Mark& m, const Operation& op, const Store::OperationUuids* uuids = nullptr) {
        const std::uint32_t no = requireOrch(op.orchestrationID);
        if (std::find(m.touched.begin(), m.touched.end(), no) == m.touched.end()) m.touched.push_back(no);
        OrchRec& rec = *orchs[no];
        OpRec r{};
        std::memcpy(r.runtime, &kNone, 4);  // handles of kNone, not packed: nothing to compare with
        std::memcpy(r.instance, &kNone, 4);
        std::memcpy(r.subAccount, &kNone, 4);
        r.globalAccount = r.planID = r.planName = r.region = r.shoot =
            r.description = r.retryOf = r.config = kNone;
        if (recs.size() > m.records) {
            // The previous operation of this write: its values are the first guess for the
            // fields that repeat across a rollout (plan, region, description, configuration).
            const OpRec& prev = recs[recs.size() - 1];
            r.globalAccount = prev.globalAccount;
            r.planID = prev.planID;
            r.planName = prev.planName;
            r.region = prev.region;
            r.description = prev.description;
            r.retryOf = prev.retryOf;
            r.config = prev.config;
        }
        r.orch = no;
        OpId key;
        if (uuids && uuids->operationID) {
            std::memcpy(key.bytes, uuids->operationID, 16);
            key.packed = true;
        } else {
            key = keyOf(op.operationID, true);
        }
        if (index.find(recs, no, key) != kNone) throw std::runtime_error("operation exists: " + op.operationID);
        std::memcpy(r.id, key.bytes, 16);
        r.flags = key.packed ? kPackedId : 0;
        fill(r, op, uuids);
        const std::uint32_t slot = recs.push(r);
        index.insert(recs, slot);
        ++rec.counts[r.state];
        placeInOrder(rec, slot);
    }

    // The slots of operations to update; throws before anything changed.
    std::vector<std::uint32_t> locate(const std::vector<Operation>& ops) const {
        std::vector<std::uint32_t> slots;
        slots.reserve(ops.size());
        for (const Operation& op : ops) slots.push_back(requireSlot(op.orchestrationID, op.operationID, op.seq));
        return slots;
    }

    // New records for the located operations (only the pool changes; the caller rolls it back on throw).
    std::vector<OpRec> prepare(const std::vector<std::uint32_t>& slots, const std::vector<Operation>& ops) {
        std::vector<OpRec> next;
        next.reserve(ops.size());
        for (std::size_t i = 0; i < ops.size(); ++i) {
            OpRec r = recs[slots[i]];
            fill(r, ops[i]);
            next.push_back(r);
        }
        return next;
    }

    // Applies prepared records; does not allocate, does not throw.
    void commit(const std::vector<std::uint32_t>& slots, const std::vector<OpRec>& next) {
        for (std::size_t i = 0; i < slots.size(); ++i) commitOne(slots[i], next[i]);
    }
    void commitOne(std::uint32_t slot, const OpRec& next) {
        OpRec& r = recs[slot];
        OrchRec& rec = *orchs[r.orch];
        --rec.counts[r.state];
        ++rec.counts[next.state];
        if (next.createdAt == r.createdAt && next.seq == r.seq) {
            r = next;
            return;
        }
        // The order key changed: move the slot (erase then insert keeps the capacity).
        rec.contiguous = false;
        rec.order.erase(std::find(rec.order.begin(), rec.order.end(), slot));
        r = next;
        auto pos = std::upper_bound(rec.order.begin(), rec.order.end(), slot,
                                    [this](std::uint32_t a, std::uint32_t b) { return opBefore(a, b); });
        rec.order.insert(pos, slot);
    }

    // A new orchestration (throws before anything changed when its id exists).
    std::uint32_t addOrchestration(const Orchestration& o) {
        if (orchById.count(o.orchestrationID)) throw std::runtime_error("orchestration exists: " + o.orchestrationID);
        if (orchs.size() >= kNone - 1) throw std::length_error("MemoryStore: too many orchestrations");
        auto rec = std::make_unique<OrchRec>();
        rec->o = o;
        const auto no = static_cast<std::uint32_t>(orchs.size());
        orchs.reserve(orchs.size() + 1);
        orchOrder.reserve(orchOrder.size() + 1);
        orchById.emplace(o.orchestrationID, no);  // the only step left that may throw
        orchs.push_back(std::move(rec));
        auto pos = std::upper_bound(orchOrder.begin(), orchOrder.end(), no,
                                    [this](std::uint32_t a, std::uint32_t b) { return orchBefore(a, b); });
        orchOrder.insert(pos, no);
        return no;
    }
    // Takes back the newest orchestration (a failed batch that added it; its records are gone).
    void removeLastOrchestration() {
        const auto no = static_cast<std::uint32_t>(orchs.size() - 1);
        orchOrder.erase(std::find(orchOrder.begin(), orchOrder.end(), no));
        orchById.erase(orchs[no]->o.orchestrationID);
        orchs.pop_back();
    }

    void setOrchestration(std::uint32_t no, Orchestration o) {
        OrchRec& rec = *orchs[no];
        const bool moved = o.createdAt != rec.o.createdAt;
        rec.o = std::move(o);
        if (!moved) return;
        orchOrder.erase(std::find(orchOrder.begin(), orchOrder.end(), no));
        auto pos = std::upper_bound(orchOrder.begin(), orchOrder.end(), no,
                                    [this](std::uint32_t a, std::uint32_t b) { return orchBefore(a, b); });
        orchOrder.insert(pos, no);
    }
};

MemoryStore::MemoryStore() : impl_(std::make_unique<Impl>()) {}
MemoryStore::~MemoryStore() = default;
MemoryStore::MemoryStore(MemoryStore&&) noexcept = default;
MemoryStore& MemoryStore::operator=(MemoryStore&&) noexcept = default;

void MemoryStore::insertOrchestration(const Orchestration& o) { impl_->addOrchestration(o); }

void MemoryStore::updateOrchestration(const Orchestration& o) {
    impl_->setOrchestration(impl_->requireOrch(o.orchestrationID), o);
}

std::optional<Orchestration> MemoryStore::getOrchestration(const std::string& id) {
    const std::uint32_t no = impl_->orchNo(id);
    if (no == kNone) return std::nullopt;
    return impl_->orchs[no]->o;
}

Page<Orchestration> MemoryStore::listOrchestrations(const OrchestrationQuery& q) {
    Page<Orchestration> out;
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t first = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    for (std::uint32_t no : impl_->orchOrder) {
        const Orchestration& o = impl_->orchs[no]->o;
        if (!wanted(q.states, o.state)) continue;
        if (out.totalCount >= first && out.totalCount < first + size) out.data.push_back(o);
        ++out.totalCount;
    }
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Orchestration> MemoryStore::unfinishedOrchestrations() {
    std::vector<Orchestration> out;
    for (std::uint32_t no : impl_->orchOrder)
        if (!isFinished(impl_->orchs[no]->o.state)) out.push_back(impl_->orchs[no]->o);
    return out;
}

void MemoryStore::insertOperations(const std::vector<Operation>& ops) {
    Impl& d = *impl_;
    Impl::Mark m = d.begin();
    try {
        for (const Operation& op : ops) d.append(m, op);
    } catch (...) {
        d.rollback(m);
        throw;
    }
}

void MemoryStore::updateOperations(const std::vector<Operation>& ops) {
    Impl& d = *impl_;
    const std::vector<std::uint32_t> slots = d.locate(ops);
    const Impl::Mark m = d.begin();
    std::vector<OpRec> next;
    try {
        next = d.prepare(slots, ops);
    } catch (...) {
        d.rollback(m);
        throw;
    }
    d.commit(slots, next);
}

void MemoryStore::updateOrchestrationWithOperations(const Orchestration& o, const std::vector<Operation>& inserted,
                                                    const std::vector<Operation>& updated) {
    Impl& d = *impl_;
    const std::uint32_t no = d.requireOrch(o.orchestrationID);
    const std::vector<std::uint32_t> slots = d.locate(updated);  // existing operations only
    Impl::Mark m = d.begin();
    std::vector<OpRec> next;
    Orchestration copy;
    try {
        for (const Operation& op : inserted) d.append(m, op);
        next = d.prepare(slots, updated);
        copy = o;
    } catch (...) {
        d.rollback(m);
        throw;
    }
    d.commit(slots, next);
    d.setOrchestration(no, std::move(copy));
}

void MemoryStore::updateOrchestrationAddingOperations(const Orchestration& o,
                                                      const std::function<bool(Operation&)>& next) {
    Impl& d = *impl_;
    const std::uint32_t no = d.requireOrch(o.orchestrationID);
    Impl::Mark m = d.begin();
    Orchestration copy;
    try {
        Operation op;
        while (next(op)) {
            d.append(m, op);
            op = Operation{};
        }
        copy = o;
    } catch (...) {
        d.rollback(m);
        throw;
    }
    d.setOrchestration(no, std::move(copy));
}

std::optional<Operation> MemoryStore::getOperation(const std::string& orchestrationID, const std::string& operationID) {
    const std::uint32_t slot = impl_->slotOf(orchestrationID, operationID);
    if (slot == kNone) return std::nullopt;
    return impl_->loaded(slot);
}

bool MemoryStore::readOperation(const std::string& orchestrationID, const std::string& operationID, Operation& out) {
    return readOperationAt(orchestrationID, operationID, -1, out);  // no hint: the id index
}

void MemoryStore::prefetchOperation(const std::string& orchestrationID, std::int64_t seq) {
    const Impl& d = *impl_;
    const std::uint32_t no = d.orchNo(orchestrationID);
    if (no == kNone) return;
    const Impl::OrchRec& rec = *d.orchs[no];
    if (seq < 0 || static_cast<std::uint64_t>(seq) >= rec.order.size()) return;
    const char* r = reinterpret_cast<const char*>(&d.recs[rec.slotAt(static_cast<std::size_t>(seq))]);
    static_assert(sizeof(OpRec) <= 192, "three cache lines");
    prefetch(r);
    prefetch(r + 64);
    prefetch(r + sizeof(OpRec) - 1);
}

bool MemoryStore::readOperationAt(const std::string& orchestrationID, const std::string& operationID, std::int64_t seq,
                                  Operation& out) {
    const Impl& d = *impl_;
    // The seq-th record of the orchestration is nearly always the one (see slotAt): it is loaded
    // and the id text the load makes anyway is compared, instead of making it once more just to
    // check (a start reads its operation so). Not when out's id is operationID itself.
    if (seq >= 0 && &operationID != &out.operationID) {
        const std::uint32_t no = d.orchNo(orchestrationID);
        if (no == kNone) return false;
        const Impl::OrchRec& rec = *d.orchs[no];
        if (static_cast<std::uint64_t>(seq) < rec.order.size()) {
            const std::uint32_t hinted = rec.slotAt(static_cast<std::size_t>(seq));
            if (d.recs[hinted].seq == seq) {
                d.load(hinted, out);
                if (out.operationID == operationID) return true;
            }
        }
    }
    const std::uint32_t slot = d.slotAt(orchestrationID, operationID, seq);
    if (slot == kNone) return false;
    impl_->load(slot, out);
    return true;
}

void MemoryStore::updateOperation(const Operation& op) {
    Impl& d = *impl_;
    const std::uint32_t slot = d.requireSlot(op.orchestrationID, op.operationID, op.seq);
    const Impl::Mark m = d.begin();
    OpRec next = d.recs[slot];
    try {
        d.fill(next, op);
    } catch (...) {
        d.rollback(m);
        throw;
    }
    d.commitOne(slot, next);
}

Page<Operation> MemoryStore::listOperations(const std::string& orchestrationID, const OperationQuery& q) {
    const Impl& d = *impl_;
    Page<Operation> out;
    const std::uint32_t no = d.orchNo(orchestrationID);
    if (no == kNone) return out;
    const Impl::OrchRec& rec = *d.orchs[no];
    const std::int64_t size = std::max(q.pageSize, 1);
    const std::int64_t first = static_cast<std::int64_t>(std::max(q.page, 1) - 1) * size;
    if (q.states.empty()) {
        out.totalCount = static_cast<std::int64_t>(rec.order.size());
        for (std::int64_t i = first; i < out.totalCount && i < first + size; ++i)
            d.load(rec.order[static_cast<std::size_t>(i)], out.data.emplace_back());
    } else {
        std::array<bool, kStates> want{};
        for (OperationState s : q.states) {
            const int i = static_cast<int>(s);
            if (i >= 0 && i < kStates) want[static_cast<std::size_t>(i)] = true;
        }
        for (int i = 0; i < kStates; ++i)
            if (want[static_cast<std::size_t>(i)]) out.totalCount += rec.counts[static_cast<std::size_t>(i)];
        // Walk the order until the page is full (the total is known from the counts).
        std::int64_t seen = 0;
        for (std::size_t k = 0; k < rec.order.size() && seen < first + size && first < out.totalCount; ++k) {
            const std::uint32_t slot = rec.order[k];
            if (!want[d.recs[slot].state]) continue;
            if (seen >= first) d.load(slot, out.data.emplace_back());
            ++seen;
        }
    }
    out.count = static_cast<std::int64_t>(out.data.size());
    return out;
}

std::vector<Operation> MemoryStore::operationsOf(const std::string& orchestrationID) {
    const Impl& d = *impl_;
    std::vector<Operation> out;
    const std::uint32_t no = d.orchNo(orchestrationID);
    if (no == kNone) return out;
    const Impl::OrchRec& rec = *d.orchs[no];
    out.resize(rec.order.size());
    for (std::size_t i = 0; i < rec.order.size(); ++i) d.load(rec.order[i], out[i]);
    return out;
}

void MemoryStore::forEachOperation(const std::string& orchestrationID,
                                   const std::function<void(const Operation&)>& fn) {
    const Impl& d = *impl_;
    const std::uint32_t no = d.orchNo(orchestrationID);
    if (no == kNone) return;
    const Impl::OrchRec& rec = *d.orchs[no];
    Operation op;  // one object, its strings' capacity reused
    for (std::size_t i = 0; i < rec.order.size(); ++i) {
        d.load(rec.order[i], op);
        fn(op);
    }
}

void MemoryStore::forEachOperationInState(const std::string& orchestrationID, OperationState state,
                                          const std::function<void(const Operation&)>& fn) {
    const Impl& d = *impl_;
    const std::uint32_t no = d.orchNo(orchestrationID);
    if (no == kNone) return;
    const Impl::OrchRec& rec = *d.orchs[no];
    Operation op;
    for (std::size_t i = 0; i < rec.order.size(); ++i) {
        if (static_cast<OperationState>(d.recs[rec.order[i]].state) != state) continue;
        d.load(rec.order[i], op);
        fn(op);
    }
}

void MemoryStore::forEachOperationBrief(const std::string& orchestrationID,
                                        const std::function<void(const OperationBrief&)>& fn) {
    impl_->forEachBrief(orchestrationID, false, fn);
}

void MemoryStore::forEachOperationBriefPacked(const std::string& orchestrationID,
                                              const std::function<void(const OperationBrief&)>& fn) {
    impl_->forEachBrief(orchestrationID, true, fn);
}

namespace {
// The fields a progress change sets besides state and description (updateOperationProgress, apply).
void setProgressFields(OpRec& r, const Store::ProgressChange& c) {
    r.updatedAt = c.updatedAt;
    if (c.startedAt) r.startedAt = *c.startedAt;
    if (c.upgradeStarted)
        r.flags = static_cast<std::uint8_t>((r.flags & ~kUpgradeStarted) | (*c.upgradeStarted ? kUpgradeStarted : 0));
    if (c.window) {
        r.windowBegin = c.window->first;
        r.windowEnd = c.window->second;
    }
}
// A window move (rescheduleOperations, apply): neither the order key nor the state changes.
void setMove(OpRec& r, const Store::ScheduleChange& c, Millis updatedAt) {
    r.startAt = c.startAt;
    r.windowBegin = c.windowBegin;
    r.windowEnd = c.windowEnd;
    r.updatedAt = updatedAt;
}
}  // namespace

void MemoryStore::updateOperationProgress(const std::string& orchestrationID, const ProgressChange& c) {
    Impl& d = *impl_;
    const std::uint32_t slot = d.requireSlot(orchestrationID, c.operationID, c.seq, c.operationUuid);
    const int state = stateIndex(c.state);  // may throw: before anything changed
    std::uint32_t text = d.recs[slot].description;
    if (c.description) {
        const Impl::Mark m = d.begin();
        try {
            text = d.pool.intern(*c.description, text);
        } catch (...) {
            d.rollback(m);
            throw;
        }
    }
    OpRec& r = d.recs[slot];  // the order key (createdAt, seq, id) does not change
    Impl::OrchRec& rec = *d.orchs[r.orch];
    --rec.counts[r.state];
    ++rec.counts[static_cast<std::size_t>(state)];
    r.state = static_cast<std::uint8_t>(state);
    r.description = text;
    setProgressFields(r, c);
}

void MemoryStore::rescheduleOperations(const std::string& orchestrationID, const std::vector<ScheduleChange>& changes,
                                       const std::string* description, Millis updatedAt) {
    Impl& d = *impl_;
    std::vector<std::uint32_t> slots;
    slots.reserve(changes.size());
    // A batch names its records by seq: fetch the order entries and records a few ahead (a large
    // rollout's batches are thousands of operations spread over megabytes of records).
    const std::uint32_t no = d.orchNo(orchestrationID);
    const Impl::OrchRec* orch = no == kNone ? nullptr : d.orchs[no].get();
    auto orderAt = [&](std::size_t i) -> std::int64_t {  // the seq of change i when it has a record, else -1
        if (!orch || i >= changes.size()) return -1;
        const std::int64_t seq = changes[i].seq;
        if (seq < 0 || static_cast<std::uint64_t>(seq) >= orch->order.size()) return -1;
        return seq;
    };
    for (std::size_t i = 0; i < changes.size(); ++i) {  // every one located before anything changes
        const ScheduleChange& c = changes[i];
        if (const std::int64_t seq = orderAt(i + 8); seq >= 0 && !orch->contiguous)
            prefetch(orch->order.data() + seq);
        if (const std::int64_t seq = orderAt(i + 4); seq >= 0)
            prefetch(&d.recs[orch->slotAt(static_cast<std::size_t>(seq))]);
        slots.push_back(d.requireSlot(orchestrationID, c.operationID, c.seq, c.operationUuid));
    }
    std::uint32_t text = kNone;
    if (description) {
        const Impl::Mark m = d.begin();
        try {
            text = d.pool.intern(*description, changes.empty() ? kNone : d.recs[slots[0]].description);
        } catch (...) {
            d.rollback(m);
            throw;
        }
    }
    for (std::size_t i = 0; i < slots.size(); ++i) {  // neither the order key nor the state changes
        OpRec& r = d.recs[slots[i]];
        setMove(r, changes[i], updatedAt);
        if (description) r.description = text;
    }
}

// The batch's parts change the store in place, in order; an undo log of every record and
// orchestration they replace (saved before the change) restores them if a later part throws.
// Records and pool entries the batch appended go with the usual rollback, orchestrations it
// added are taken back last.
void MemoryStore::apply(const WriteBatch& b) {
    applyParts(b);
    // Last, once nothing else can throw (only an allocation could, before anything is kept).
    if (b.notifications.empty()) return;
    std::vector<Notification> rows(b.notifications);
    for (Notification& n : rows) n.sequence = lastNotification_ + 1 + (&n - rows.data());
    for (Notification& n : rows) outbox_.emplace(n.sequence, std::move(n));
    lastNotification_ += static_cast<std::int64_t>(rows.size());
}

std::vector<Notification> MemoryStore::pendingNotifications(std::size_t limit) {
    std::vector<Notification> out;
    for (const auto& [seq, n] : outbox_) {
        if (out.size() >= limit) break;
        out.push_back(n);
    }
    return out;
}

void MemoryStore::markNotificationsDelivered(const std::vector<std::int64_t>& sequences) {
    for (std::int64_t s : sequences) outbox_.erase(s);
}

std::int64_t MemoryStore::pendingNotificationCount() { return static_cast<std::int64_t>(outbox_.size()); }

void MemoryStore::applyParts(const WriteBatch& b) {
    // The engine's batches are nearly always one part: those take the single write's path, which
    // is all-or-nothing without an undo log (it checks, or interns, before the first change).
    const bool io = !b.insertedOrchestrations.empty(), uo = !b.updatedOrchestrations.empty(),
               iops = !b.insertedOperations.empty(), src = static_cast<bool>(b.operationSource),
               uops = !b.updatedOperations.empty(), mv = !b.moves.empty(), pr = !b.progress.empty();
    if (!io && !iops && !uops) {
        if (pr && !uo && !src && !mv && b.progress.size() == 1) {
            updateOperationProgress(b.progress[0].orchestrationID, b.progress[0].change);
            return;
        }
        if (mv && !uo && !src && !pr && b.moves.size() == 1) {
            const WriteBatch::Moves& m = b.moves[0];
            rescheduleOperations(m.orchestrationID, m.changes, m.description ? &*m.description : nullptr, m.updatedAt);
            return;
        }
        if (uo && !src && !mv && !pr && b.updatedOrchestrations.size() == 1) {
            updateOrchestration(b.updatedOrchestrations[0]);
            return;
        }
    }
    Impl& d = *impl_;
    Impl::Mark m = d.begin();
    const std::size_t orchMark = d.orchs.size();
    std::vector<std::pair<std::uint32_t, OpRec>> savedRecs;
    std::vector<std::pair<std::uint32_t, Orchestration>> savedOrchs;
    auto saveRec = [&](std::uint32_t slot) { savedRecs.emplace_back(slot, d.recs[slot]); };
    try {
        for (const Orchestration& o : b.insertedOrchestrations) d.addOrchestration(o);
        for (const Operation& op : b.insertedOperations) d.append(m, op);
        if (b.operationSource) {
            if (b.operationSourceSize > 0) {
                // Sized up front: the index gets one entry per operation, the pool none when the
                // shoot names are KEB's (packed in the record, see packShoot), else about one (the
                // shoot name; the other strings repeat across a fleet or are UUIDs kept in the
                // record): reserved at the first shoot name that is pooled. Growing them while
                // 100,000 operations stream in rebuilt each table about 11 times.
                const std::size_t n = std::min<std::size_t>(b.operationSourceSize, kNone / 2);
                d.index.reserve(n);
                d.poolReserve = n;
                d.orderReserve = n;
            }
            struct NoReserveLeft {
                std::size_t &pool, &order;
                ~NoReserveLeft() { pool = order = 0; }
            } noReserveLeft{d.poolReserve, d.orderReserve};
            Operation op;
            while (b.operationSource(op)) {
                d.append(m, op, b.operationSourceUuids);
                resetOperation(op);
            }
        }
        for (const Operation& op : b.updatedOperations) {
            const std::uint32_t slot = d.requireSlot(op.orchestrationID, op.operationID, op.seq);
            OpRec next = d.recs[slot];
            d.fill(next, op);
            saveRec(slot);
            d.commitOne(slot, next);
        }
        for (const WriteBatch::Moves& mv : b.moves) {
            std::uint32_t text = kNone;
            for (const ScheduleChange& c : mv.changes) {
                const std::uint32_t slot = d.requireSlot(mv.orchestrationID, c.operationID, c.seq, c.operationUuid);
                if (mv.description && text == kNone) text = d.pool.intern(*mv.description, d.recs[slot].description);
                saveRec(slot);
                OpRec& r = d.recs[slot];
                setMove(r, c, mv.updatedAt);
                if (mv.description) r.description = text;
            }
        }
        for (const WriteBatch::Progress& p : b.progress) {
            const ProgressChange& c = p.change;
            const std::uint32_t slot = d.requireSlot(p.orchestrationID, c.operationID, c.seq, c.operationUuid);
            OpRec next = d.recs[slot];
            next.state = static_cast<std::uint8_t>(stateIndex(c.state));
            if (c.description) next.description = d.pool.intern(*c.description, next.description);
            setProgressFields(next, c);
            saveRec(slot);
            d.commitOne(slot, next);  // the order key (createdAt, seq, id) does not change
        }
        for (const Orchestration& o : b.updatedOrchestrations) {
            const std::uint32_t no = d.requireOrch(o.orchestrationID);
            Orchestration copy = o;
            savedOrchs.emplace_back(no, d.orchs[no]->o);
            d.setOrchestration(no, std::move(copy));
        }
    } catch (...) {
        for (auto it = savedRecs.rbegin(); it != savedRecs.rend(); ++it) d.commitOne(it->first, it->second);
        for (auto it = savedOrchs.rbegin(); it != savedOrchs.rend(); ++it) d.setOrchestration(it->first, std::move(it->second));
        d.rollback(m);
        while (d.orchs.size() > orchMark) d.removeLastOrchestration();
        throw;
    }
}

OperationStats MemoryStore::operationStats(const std::string& orchestrationID) {
    OperationStats stats;
    const std::uint32_t no = impl_->orchNo(orchestrationID);
    for (int i = 0; i < kStates; ++i)
        stats[static_cast<OperationState>(i)] = no == kNone ? 0 : impl_->orchs[no]->counts[static_cast<std::size_t>(i)];
    return stats;
}

std::size_t MemoryStore::operationCount() const { return impl_->recs.size(); }

std::size_t MemoryStore::approxBytes() const {
    const Impl& d = *impl_;
    std::size_t n = sizeof(Impl) + d.pool.bytes() + d.recs.bytes() + d.index.bytes() + d.config.capacity();
    n += d.orchs.capacity() * sizeof(d.orchs[0]) + d.orchOrder.capacity() * sizeof(std::uint32_t);
    for (const auto& rec : d.orchs)
        n += sizeof(Impl::OrchRec) + rec->order.capacity() * sizeof(std::uint32_t) + orchestrationHeap(rec->o);
    // unordered_map: bucket array plus one node per orchestration (pair, hash, next pointer).
    n += d.orchById.bucket_count() * sizeof(void*);
    for (const auto& [id, no] : d.orchById)
        n += sizeof(std::pair<const std::string, std::uint32_t>) + 2 * sizeof(void*) + stringHeap(id);
    return n;
}

}  // namespace keb
