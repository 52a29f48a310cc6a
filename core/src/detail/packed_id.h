// Ids as the engine keeps them. Operation and runtime ids are UUID-shaped (IdGenerator, Gardener)
// and are packed to 16 bytes (keb/uuid.h); any other id text is kept once in an IdTable and the
// packed form's first 4 bytes index it (`odd`). Such an index only means something inside its own
// table, so maps over ids of several tables (PackedIdMap) key odd ids by their text.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "keb/bits.h"
#include "keb/uuid.h"

namespace keb::detail {

struct PackedId {
    unsigned char bytes[16] = {};
    bool odd = false;
};

class IdTable {
public:
    void pack(std::string_view text, PackedId& id) {
        id = PackedId{};
        if (packUuid(text, id.bytes)) return;
        id.odd = true;
        const auto index = static_cast<std::uint32_t>(odd_.size());
        std::memcpy(id.bytes, &index, sizeof index);
        odd_.emplace_back(text);
    }
    void unpack(const PackedId& id, std::string& out) const {
        if (!id.odd) return unpackUuid(id.bytes, out);
        std::uint32_t index;
        std::memcpy(&index, id.bytes, sizeof index);
        out = odd_[index];
    }
    std::size_t oddCount() const { return odd_.size(); }

private:
    std::vector<std::string> odd_;
};

// Values by id: UUID ids by their packed bytes (no text is made to ask), any other by its text
// (read from the id's table).
template <class V>
class PackedIdMap {
public:
    V* find(const PackedId& id, const IdTable& table) {
        if (!id.odd) {
            auto it = packed_.find(keyOf(id));
            return it == packed_.end() ? nullptr : &it->second;
        }
        table.unpack(id, buf_);
        auto it = text_.find(buf_);
        return it == text_.end() ? nullptr : &it->second;
    }
    // The value of id, default-constructed when new.
    V& at(const PackedId& id, const IdTable& table) {
        if (!id.odd) return packed_[keyOf(id)];
        table.unpack(id, buf_);
        return text_[buf_];
    }
    // Erases id's value when keep(value) is false; true when erased.
    template <class Pred>
    bool eraseUnless(const PackedId& id, const IdTable& table, Pred&& keep) {
        if (!id.odd) {
            auto it = packed_.find(keyOf(id));
            if (it == packed_.end() || keep(it->second)) return false;
            packed_.erase(it);
            return true;
        }
        table.unpack(id, buf_);
        auto it = text_.find(buf_);
        if (it == text_.end() || keep(it->second)) return false;
        text_.erase(it);
        return true;
    }
    std::size_t size() const { return packed_.size() + text_.size(); }

private:
    struct Key {
        std::uint64_t lo, hi;
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const {
            return static_cast<std::size_t>(mix64(k.lo ^ mix64(k.hi)));
        }
    };
    static Key keyOf(const PackedId& id) {
        Key k;
        std::memcpy(&k.lo, id.bytes, 8);
        std::memcpy(&k.hi, id.bytes + 8, 8);
        return k;
    }
    std::unordered_map<Key, V, KeyHash> packed_;
    std::unordered_map<std::string, V> text_;
    std::string buf_;
};

}  // namespace keb::detail
