#include "engine_loop.h"

#include <chrono>
#include <cstdlib>

#include "log.h"

namespace keb::server {

Millis wallClockMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

EngineLoop::EngineLoop(Store& store, FleetSource& fleet, UpgradeBackend& backend, IdGenerator& ids,
                       EngineConfig config, int workers, Metrics& metrics, EngineListener* listener, Clock clock)
    : store_(store),
      backend_(backend),
      engine_(store, fleet, ids, std::move(config)),
      metrics_(metrics),
      clock_(std::move(clock)),
      workerCount_(std::max(1, workers)) {
    engine_.setListener(listener);
}

EngineLoop::~EngineLoop() { stop(); }

double EngineLoop::start() {
    std::promise<double> recovered;
    auto fut = recovered.get_future();
    for (int i = 0; i < workerCount_; ++i) workers_.emplace_back([this] { workerMain(); });
    engineThread_ = std::thread([this, &recovered] {
        try {
            auto t0 = std::chrono::steady_clock::now();
            engine_.recover(clock_());
            active_ = engine_.activeOrchestrations();
            recovered.set_value(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        } catch (...) {
            recovered.set_exception(std::current_exception());
            return;
        }
        engineMain();
    });
    try {
        return fut.get();
    } catch (...) {
        engineThread_.join();
        {
            std::lock_guard<std::mutex> lk(wmu_);
            workersStopping_ = true;
        }
        wcv_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
        throw;
    }
}

void EngineLoop::stop() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (engineThread_.joinable()) engineThread_.join();
    {
        std::lock_guard<std::mutex> lk(wmu_);
        workersStopping_ = true;
    }
    wcv_.notify_all();
    for (auto& w : workers_)
        if (w.joinable()) w.join();
    workers_.clear();
    // Calls posted after the stop would wait forever: fail them.
    std::deque<Task> left;
    {
        std::lock_guard<std::mutex> lk(mu_);
        left.swap(tasks_);
    }
    left.clear();  // destroying the tasks breaks their promises: call() throws EngineStoppedError
}

void EngineLoop::post(Task t) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_) throw EngineStoppedError("server is shutting down");
        if (failed_) throw EngineStoppedError("the engine stopped after a store failure");
        tasks_.push_back(std::move(t));
    }
    cv_.notify_all();
}

void EngineLoop::engineMain() {
    std::unique_lock<std::mutex> lk(mu_);
    while (!stopping_) {
        std::deque<Task> tasks;
        std::deque<std::pair<Action, StepResult>> results;
        tasks.swap(tasks_);
        results.swap(results_);
        lk.unlock();
        std::vector<Release> releases;
        try {
            releases.reserve(tasks.size());
            if (groupBegin_) groupBegin_();
            for (auto& t : tasks) releases.push_back(t(engine_, clock_()));  // exceptions go to the caller
            for (auto& [a, r] : results) engine_.complete(a, r, clock_());
            std::vector<Action> actions = engine_.tick(clock_());
            // Durable first: an answer (a 202) and a start handed to a worker both follow the commit.
            if (groupCommit_) groupCommit_();
            for (auto& r : releases) r();
            if (!actions.empty()) {
                {
                    std::lock_guard<std::mutex> wl(wmu_);
                    for (auto& a : actions) work_.push_back(std::move(a));
                }
                wcv_.notify_all();
            }
            active_ = engine_.activeOrchestrations();
            out_ = engine_.actionsOut();
        } catch (const std::exception& ex) {
            if (onStoreFailure_) {  // a replica: stop driving, the leadership code decides what next
                logEvent("error", "engine.stopped", {{"error", ex.what()}});
                // Without group commit every write of a call was committed when it ran: answer
                // the calls that ran. With it nothing of the round is durable: their promises
                // break (below) and the callers get a 503.
                if (!groupCommit_)
                    for (auto& r : releases) r();
                releases.clear();
                // Nothing runs posted calls any more: refuse new ones, fail the queued ones (their
                // callers would otherwise wait until the loop is stopped, or forever).
                std::deque<Task> left;
                {
                    std::lock_guard<std::mutex> g(mu_);
                    failed_ = true;
                    left.swap(tasks_);
                }
                left.clear();
                tasks.clear();
                onStoreFailure_(ex.what());
                return;
            }
            // The store failed under the engine (disk full, I/O error): its in-memory state may
            // no longer match the store. Everything acknowledged is on disk; exit and let the
            // supervisor restart us (recovery takes up the work again).
            logEvent("error", "engine.fatal", {{"error", ex.what()}});
            std::_Exit(70);
        }
        std::optional<Millis> wake = engine_.nextWakeup();
        lk.lock();
        if (stopping_ || !tasks_.empty() || !results_.empty()) continue;
        if (wake) {
            Millis delay = *wake - clock_();
            if (delay <= 0) continue;
            cv_.wait_for(lk, std::chrono::milliseconds(delay));
        } else {
            cv_.wait(lk);
        }
    }
}

void EngineLoop::workerMain() {
    for (;;) {
        Action a;
        {
            std::unique_lock<std::mutex> lk(wmu_);
            wcv_.wait(lk, [this] { return workersStopping_ || !work_.empty(); });
            if (workersStopping_) return;
            a = std::move(work_.front());
            work_.pop_front();
        }
        const int kind = a.kind == Action::Kind::Start ? 0 : 1;
        if (mayAct_ && !mayAct_()) continue;  // lost the lease: no backend call (the next leader recovers it)
        auto t0 = std::chrono::steady_clock::now();
        StepResult r;
        try {
            r = kind == 0 ? backend_.start(a.type, a.operation(), clock_()) : backend_.poll(a.type, a.operation(), clock_());
        } catch (const std::exception& ex) {
            logEvent("error", "backend.error",
                     {{"operationID", a.operation().operationID}, {"step", kind == 0 ? "start" : "poll"}, {"error", ex.what()}});
            // A step that threw is tried again after the step retry interval (--step-retry).
            r = StepResult::again(engine_.config().stepRetryInterval, std::string("backend error: ") + ex.what());
        }
        metrics_.stepLatency(kind, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                             r.kind == StepResult::Kind::Failed);
        {
            std::lock_guard<std::mutex> lk(mu_);
            results_.emplace_back(std::move(a), std::move(r));
        }
        cv_.notify_all();
    }
}

}  // namespace keb::server
