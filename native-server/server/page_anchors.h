// Deep operation pages without OFFSET (SQLite and PostgreSQL stores).
//
// OFFSET makes the database step through every skipped row (SQLite, offset 99,900 of 100,000:
// ~14 ms per request). For unfiltered pages a store remembers, per orchestration, the key
// (created_at, seq, id) of every stride-th operation, and a page seeks to the nearest one at or
// before it. Operations are never deleted, so an orchestration's keys change only by inserts,
// which change its total: anchors are used only while the total read with the page (same
// snapshot) equals theirs. Shared by the connections of one store (its reader pool): one scan per
// orchestration and total.
//
// Filtered pages (state=S1,..,Sk) have anchors of their own, kept per (orchestration, set of
// states). A state change moves an operation in or out of the filtered set, possibly without
// changing its count, so their validity token is the count AND the number of entries: the
// per-(orchestration, state) counters keep, beside n, a never-decreasing `entered` (times an
// operation entered that state, inserts included), so left = entered - n never decreases either.
// If sum(entered) and sum(n) over S1..Sk are both unchanged, no operation entered any Si (each
// entered_i only grows) and none left one (each left_i only grows and their sum is unchanged):
// the filtered set, and with keys that never change its order, is the same.
#pragma once
#include <cstdint>
#include <span>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "keb/model.h"

namespace keb::server {

class PageAnchors {
public:
    struct Key {
        std::int64_t createdAt = 0;
        std::int64_t seq = 0;
        std::string id;
    };
    struct Anchors {
        std::int64_t stride = 0;
        std::int64_t total = 0;
        std::int64_t entered = 0;  // filtered anchors: sum of the states' `entered` (unused: 0)
        std::vector<Key> keys;  // keys[i]: the key at position (i + 1) * stride
        // The anchor at or before `offset` and the rows to skip after it; nullptr: none (use OFFSET).
        const Key* before(std::int64_t offset, std::int64_t* skip) const;
    };
    // `states`: the filter as a bit set of state codes (bit c: state code c); 0: no filter.
    std::shared_ptr<const Anchors> find(const std::string& orchestrationID, unsigned states, std::int64_t stride) const;
    void put(const std::string& orchestrationID, unsigned states, std::shared_ptr<const Anchors> a);
    // Forgets them unless another connection already put newer ones.
    void drop(const std::string& orchestrationID, unsigned states, const Anchors* stale);
    static constexpr std::size_t kMaxEntries = 256;  // (orchestration, filter) pairs

private:
    static std::string keyOf(const std::string& orchestrationID, unsigned states);
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<const Anchors>> byKey_;
};

// A page filter's distinct state codes, ascending, and as a bit set (`mask`: bit c for code c;
// PageAnchors' `states` key, 0: no filter). A state's code is its index in `codeOrder` (the store's
// own state codes).
std::vector<int> filterCodes(const std::vector<OperationState>& states, std::span<const OperationState> codeOrder,
                             unsigned* mask);

}  // namespace keb::server
