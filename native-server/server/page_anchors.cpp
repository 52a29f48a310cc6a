#include "page_anchors.h"

#include <algorithm>

namespace keb::server {

const PageAnchors::Key* PageAnchors::Anchors::before(std::int64_t offset, std::int64_t* skip) const {
    if (stride <= 0 || offset < stride || keys.empty()) return nullptr;
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(offset / stride), keys.size());
    *skip = offset - static_cast<std::int64_t>(i) * stride;
    return &keys[i - 1];
}

std::shared_ptr<const PageAnchors::Anchors> PageAnchors::find(const std::string& orchestrationID,
                                                              std::int64_t stride) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = byOrchestration_.find(orchestrationID);
    if (it == byOrchestration_.end() || it->second->stride != stride) return nullptr;
    return it->second;
}

void PageAnchors::put(const std::string& orchestrationID, std::shared_ptr<const Anchors> a) {
    std::lock_guard<std::mutex> lk(mu_);
    if (byOrchestration_.size() >= kMaxOrchestrations && !byOrchestration_.count(orchestrationID))
        byOrchestration_.clear();  // bounded: the next deep page of each takes them again
    byOrchestration_[orchestrationID] = std::move(a);
}

void PageAnchors::drop(const std::string& orchestrationID, const Anchors* stale) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = byOrchestration_.find(orchestrationID);
    if (it != byOrchestration_.end() && it->second.get() == stale) byOrchestration_.erase(it);
}

}  // namespace keb::server
