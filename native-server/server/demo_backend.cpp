#include "demo_backend.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <fstream>
#include <thread>
#include <stdexcept>

#include "keb/wire.h"
#include "keb/world/faults.h"

namespace keb::server {

DemoBackend::DemoBackend(DemoBackendOptions options) : options_(std::move(options)) {
    if (options_.journalPath.empty()) return;
    {
        std::ifstream in(options_.journalPath);
        std::string line;
        while (std::getline(in, line)) {
            Json j = Json::parse(line, nullptr, false);
            if (!j.is_object() || j.value("kind", "") != "upgrade") continue;  // torn line or duplicate note
            Record r;
            r.startedAt = j.value("startedAt", Millis{0});
            r.duration = j.value("durationMs", Millis{0});
            r.fails = j.value("fails", false);
            started_.emplace(j.value("operationID", ""), r);
            ++loaded_;
        }
    }
    fd_ = ::open(options_.journalPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
        throw std::runtime_error("cannot open demo upgrade journal '" + options_.journalPath + "': " + std::strerror(errno));
    // A torn last line would glue onto the next record: start on a fresh line.
    off_t size = ::lseek(fd_, 0, SEEK_END);
    if (size > 0) {
        char last = '\n';
        int rfd = ::open(options_.journalPath.c_str(), O_RDONLY | O_CLOEXEC);
        if (rfd >= 0) {
            if (::pread(rfd, &last, 1, size - 1) != 1) last = '\n';
            ::close(rfd);
        }
        if (last != '\n') makeDurable(append(""));
    }
}

DemoBackend::~DemoBackend() {
    if (fd_ >= 0) ::close(fd_);
}

std::uint64_t DemoBackend::append(const std::string& line) {
    if (fd_ < 0) return 0;
    std::string text = line + "\n";
    const char* p = text.data();
    std::size_t left = text.size();
    while (left > 0) {
        ssize_t n = ::write(fd_, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("demo upgrade journal write failed: ") + std::strerror(errno));
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return appended_.fetch_add(1) + 1;
}

void DemoBackend::makeDurable(std::uint64_t line) {
    if (fd_ < 0 || !options_.fsync || line == 0) return;
    std::lock_guard<std::mutex> lock(syncMu_);
    if (synced_ >= line) return;  // a sync that started after our write covered it
    // Every line numbered up to `upto` was written before this load: one sync covers them all.
    const std::uint64_t upto = appended_.load();
    if (::fdatasync(fd_) != 0)
        throw std::runtime_error(std::string("demo upgrade journal fsync failed: ") + std::strerror(errno));
    syncs_.fetch_add(1);
    synced_ = upto;
}

UpgradeRecord DemoBackend::fateOf(const Operation& op, Millis now) const {
    world::FaultPlan plan;
    plan.failureProbability = options_.failureProbability;
    plan.duration.kind = world::DurationDist::Kind::Fixed;
    plan.duration.value = options_.upgradeDuration;
    plan.duration.min = 0;
    plan.duration.max = options_.upgradeDuration;
    const world::UpgradeFate fate = world::decideFate(plan, options_.seed, op, now);
    return Record{now, fate.duration, fate.fails};
}

StepResult DemoBackend::start(OrchestrationType, const Operation& op, Millis now) {
    if (options_.callLatency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.callLatency));
    if (op.dryRun) return StepResult::done();
    if (options_.pgJournal) {  // shared with the other replicas; recorded (fenced) before it counts
        auto [r, fresh] = options_.pgJournal->startOnce(op, fateOf(op, now));
        if (!fresh) return StepResult::again(std::max<Millis>(r.startedAt + r.duration - now, 1), "upgrade already started");
        return StepResult::again(std::max<Millis>(r.duration, 1), "upgrade started");
    }
    std::uint64_t line = 0;
    StepResult result;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = started_.find(op.operationID);
        if (it != started_.end()) {
            line = append(Json{{"kind", "duplicate-start"}, {"operationID", op.operationID}}.dump());
            Millis left = it->second.startedAt + it->second.duration - now;
            result = StepResult::again(std::max<Millis>(left, 1), "upgrade already started");
        } else {
            const Record r = fateOf(op, now);
            // Durable before the upgrade counts as started (and before the engine hears about it).
            line = append(Json{{"kind", "upgrade"},
                               {"operationID", op.operationID},
                               {"orchestrationID", op.orchestrationID},
                               {"runtimeID", op.runtimeID},
                               {"startedAt", now},
                               {"durationMs", r.duration},
                               {"fails", r.fails}}
                              .dump());
            started_.emplace(op.operationID, r);
            result = StepResult::again(std::max<Millis>(r.duration, 1), "upgrade started");
        }
    }
    // The line (and every line before it, e.g. the first start of a duplicate) is on disk before
    // the engine hears about the start.
    makeDurable(line);
    return result;
}

StepResult DemoBackend::poll(OrchestrationType type, const Operation& op, Millis now) {
    if (options_.callLatency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(options_.callLatency));
    if (op.dryRun) return StepResult::done();
    Record r;
    bool known = false;
    if (options_.pgJournal) {
        if (auto found = options_.pgJournal->find(op.operationID)) known = true, r = *found;
    } else {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = started_.find(op.operationID);
        if (it != started_.end()) {
            known = true;
            r = it->second;
        }
    }
    // The engine believes the upgrade started but the journal has no record of it: the
    // journal is the truth, so start it now (once, recorded).
    if (!known) return start(type, op, now);
    if (now < r.startedAt + r.duration) return StepResult::again(r.startedAt + r.duration - now, "upgrading");
    if (r.fails) return StepResult::failed("upgrade failed: simulated backend error");
    return StepResult::done();
}

std::size_t DemoBackend::upgrades() const {
    std::lock_guard<std::mutex> lock(mu_);
    return started_.size();
}

}  // namespace keb::server
