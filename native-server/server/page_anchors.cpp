#include "page_anchors.h"

#include <algorithm>
#include <stdexcept>

namespace keb::server {

const PageAnchors::Key* PageAnchors::Anchors::before(std::int64_t offset, std::int64_t* skip) const {
    if (stride <= 0 || offset < stride || keys.empty()) return nullptr;
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(offset / stride), keys.size());
    *skip = offset - static_cast<std::int64_t>(i) * stride;
    return &keys[i - 1];
}

// The orchestration's id, a NUL and the filter's bits as one character: the last two characters
// always decode to the filter, the rest to the id, so no two pairs share a key.
std::string PageAnchors::keyOf(const std::string& orchestrationID, unsigned states) {
    std::string k;
    k.reserve(orchestrationID.size() + 2);
    k += orchestrationID;
    k += '\0';
    k += static_cast<char>('A' + (states & 0x3f));
    return k;
}

std::shared_ptr<const PageAnchors::Anchors> PageAnchors::find(const std::string& orchestrationID, unsigned states,
                                                              std::int64_t stride) const {
    const std::string key = keyOf(orchestrationID, states);
    std::lock_guard<std::mutex> lk(mu_);
    auto it = byKey_.find(key);
    if (it == byKey_.end() || it->second->stride != stride) return nullptr;
    return it->second;
}

void PageAnchors::put(const std::string& orchestrationID, unsigned states, std::shared_ptr<const Anchors> a) {
    std::string key = keyOf(orchestrationID, states);
    std::lock_guard<std::mutex> lk(mu_);
    if (byKey_.size() >= kMaxEntries && !byKey_.count(key))
        byKey_.clear();  // bounded: the next deep page of each takes them again
    byKey_[std::move(key)] = std::move(a);
}

void PageAnchors::drop(const std::string& orchestrationID, unsigned states, const Anchors* stale) {
    const std::string key = keyOf(orchestrationID, states);
    std::lock_guard<std::mutex> lk(mu_);
    auto it = byKey_.find(key);
    if (it != byKey_.end() && it->second.get() == stale) byKey_.erase(it);
}

std::vector<int> filterCodes(const std::vector<OperationState>& states, std::span<const OperationState> codeOrder,
                             unsigned* mask) {
    std::vector<int> codes;
    *mask = 0;
    for (OperationState st : states) {
        const auto at = std::find(codeOrder.begin(), codeOrder.end(), st);
        if (at == codeOrder.end()) throw std::invalid_argument("page filter: a state without a store code");
        const int c = static_cast<int>(at - codeOrder.begin());
        if (*mask & (1u << c)) continue;
        *mask |= 1u << c;
        codes.push_back(c);
    }
    std::sort(codes.begin(), codes.end());
    return codes;
}

}  // namespace keb::server
