// expect.nothingLostAcrossRestarts: at least one restart happened (the timeline's, or one after a
// fatal store failure); every operation that existed at a restart still exists, final states never
// changed, everything unfinished at a restart finished later, every accepted orchestration finished.
// Watches restarts: the operations' states are taken from the store at each one.
#include <algorithm>
#include <string_view>
#include <vector>
#include <utility>

#include "common.h"
#include "keb/big_alloc.h"
#include "keb/uuid.h"
#include "keb/world/flat_map.h"
#include "keb/world/random.h"

namespace keb::sim::checkers {
namespace {

// 16 bytes an operation (1.6 MB at 100,000): huge pages (keb/big_alloc.h). The three of them
// (last restart's, this restart's, the sort's scratch) are kept and reused: a later restart
// touches no fresh memory.
using Snapshot = std::vector<std::pair<std::uint64_t, OperationState>, BigAllocator<std::pair<std::uint64_t, OperationState>>>;

// The key of an operation id: of its 16 bytes when it is UUID-shaped (what the store's packed
// briefs give: a restart then converts no id), else of its text. uuid: the bytes when known.
std::uint64_t opKey(const unsigned char* uuid, std::string_view text) {
    unsigned char bytes[16];
    if (!uuid && packUuid(text, bytes)) uuid = bytes;
    if (uuid) return world::idKey(std::string_view(reinterpret_cast<const char*>(uuid), 16));
    return world::idKey(text);
}

// Sorts the pairs into the order std::sort gives them (key, then state): a stable LSD radix sort,
// the state first, then the key a byte at a time. 100,000 pairs at each restart of a large
// rollout, in nine linear passes instead of a comparison sort. tmp: scratch of any content.
void sortSnapshot(Snapshot& v, Snapshot& tmp) {
    using Pair = Snapshot::value_type;
    tmp.resize(v.size());
    std::size_t count[257];
    auto pass = [&](auto digitOf) {
        std::fill(std::begin(count), std::end(count), 0);
        for (const Pair& p : v) ++count[digitOf(p) + 1];
        for (std::size_t b = 1; b <= 256; ++b) count[b] += count[b - 1];
        for (const Pair& p : v) tmp[count[digitOf(p)]++] = p;
        v.swap(tmp);
    };
    // States are 0 .. Canceled: one byte, in enum order (what std::pair's < compares).
    static_assert(static_cast<int>(OperationState::Pending) == 0 && static_cast<int>(OperationState::Canceled) < 256);
    pass([](const Pair& p) { return static_cast<std::size_t>(p.second); });
    for (int shift = 0; shift < 64; shift += 8)  // 256 buckets a pass: the scattered writes stay in cache
        pass([shift](const Pair& p) { return static_cast<std::size_t>((p.first >> shift) & 0xFF); });
}

class NothingLostAcrossRestarts : public Checker {
public:
    void onRestart(Simulation& sim) override {
        Snapshot& snap = next_;
        snap.clear();
        std::size_t total = 16;
        for (const auto& info : sim.orchestrations())
            for (const auto& [state, n] : sim.store().operationStats(info.orchestrationID))
                total += static_cast<std::size_t>(n);
        snap.reserve(total);
        for (const auto& info : sim.orchestrations())
            sim.store().forEachOperationBriefPacked(info.orchestrationID, [&](const Store::OperationBrief& op) {
                snap.emplace_back(opKey(op.operationUuid, op.operationID), op.state);
            });
        sortSnapshot(snap, scratch_);
        // Since the previous restart nothing may have vanished and no final state may have changed.
        // Both lists are sorted: one merge walk finds what lower_bound would for each entry (the
        // probes (h, Pending) never decrease along atRestart_).
        auto it = snap.begin();
        for (const auto& [h, st] : atRestart_) {
            const std::pair<std::uint64_t, OperationState> probe{h, OperationState::Pending};
            while (it != snap.end() && *it < probe) ++it;
            if (it == snap.end() || it->first != h) {
                ++lost_;
            } else if (isFinished(st) && it->second != st) {
                ++lost_;
            }
        }
        atRestart_.swap(snap);
    }

    void scan(Simulation& sim, const OrchestrationInfo& info, const Operation& op) override {
        (void)sim;
        (void)info;
        current_[opKey(nullptr, op.operationID)] = op.state;
    }

    void verdict(Simulation& sim, std::vector<CheckResult>& out) override {
        std::int64_t lost = lost_, stuck = 0;
        for (const auto& [h, st] : atRestart_) {
            const OperationState* now = current_.find(h);
            if (!now || (isFinished(st) && *now != st)) ++lost;
            else if (!isFinished(*now)) ++stuck;
        }
        std::int64_t orchLost = 0;
        for (const auto& info : sim.orchestrations()) {
            auto o = sim.store().getOrchestration(info.orchestrationID);
            if (!o || !isFinished(o->state)) ++orchLost;
        }
        const int restarts = sim.restarts();
        out.push_back({"nothingLostAcrossRestarts", restarts > 0 && lost == 0 && stuck == 0 && orchLost == 0,
                       std::to_string(restarts) + " restart(s); " + std::to_string(lost) +
                           " operation(s) lost or changed after finishing, " + std::to_string(stuck) +
                           " never finished, " + std::to_string(orchLost) + " orchestration(s) unfinished"});
        current_ = world::FlatMap<OperationState>();  // the next verdict scans again
    }

private:
    // Operation states at the last restart: opKey(operationID) -> state, sorted.
    Snapshot atRestart_;
    Snapshot next_, scratch_;  // buffers of onRestart
    std::int64_t lost_ = 0;  // found missing or changed at a later restart
    world::FlatMap<OperationState> current_;  // the end's scan: opKey(operationID) -> state
};

}  // namespace

extern const CheckerSpec kNothingLostAcrossRestarts{
    .name = "nothingLostAcrossRestarts",
    .parse = [](const ScenarioNode& n, Scenario& sc) { sc.expect.nothingLostAcrossRestarts = n.boolean(); },
    .make = [](const Scenario& sc) { return makeIf<NothingLostAcrossRestarts>(sc.expect.nothingLostAcrossRestarts); },
    .scansOperations = true,
};

}  // namespace keb::sim::checkers
