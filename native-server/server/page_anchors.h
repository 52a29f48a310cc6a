// Deep operation pages without OFFSET (SQLite and PostgreSQL stores).
//
// OFFSET makes the database step through every skipped row (SQLite, offset 99,900 of 100,000:
// ~14 ms per request). For unfiltered pages a store remembers, per orchestration, the key
// (created_at, seq, id) of every stride-th operation, and a page seeks to the nearest one at or
// before it. Operations are never deleted, so an orchestration's keys change only by inserts,
// which change its total: anchors are used only while the total read with the page (same
// snapshot) equals theirs. Shared by the connections of one store (its reader pool): one scan per
// orchestration and total.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

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
        std::vector<Key> keys;  // keys[i]: the key at position (i + 1) * stride
        // The anchor at or before `offset` and the rows to skip after it; nullptr: none (use OFFSET).
        const Key* before(std::int64_t offset, std::int64_t* skip) const;
    };
    std::shared_ptr<const Anchors> find(const std::string& orchestrationID, std::int64_t stride) const;
    void put(const std::string& orchestrationID, std::shared_ptr<const Anchors> a);
    // Forgets them unless another connection already put newer ones.
    void drop(const std::string& orchestrationID, const Anchors* stale);
    static constexpr std::size_t kMaxOrchestrations = 64;

private:
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::shared_ptr<const Anchors>> byOrchestration_;
};

}  // namespace keb::server
