// The server's driver of the single-threaded core (issue 4, DESIGN "Driving it"):
// ONE engine thread owns keb::Engine and runs every call into it (API writes, tick,
// complete); upgrade steps, which may block on the network, run on a bounded pool of
// worker threads and post their StepResult back. The engine thread sleeps until
// min(nextWakeup, next posted call or result).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include "keb/engine.h"
#include "metrics.h"

namespace keb::server {

using Clock = std::function<Millis()>;
Millis wallClockMillis();

// A call the engine thread will never answer: the loop stopped (shutdown, stepping down) or its
// engine thread ended on a store failure (a replica that was fenced or lost its database). The API
// answers 503 with Retry-After (keb::StoreUnavailable), and the client retries.
class EngineStoppedError : public std::runtime_error, public keb::StoreUnavailable {
public:
    using std::runtime_error::runtime_error;
};

class EngineLoop {
public:
    EngineLoop(Store& store, FleetSource& fleet, UpgradeBackend& backend, IdGenerator& ids, EngineConfig config,
               int workers, Metrics& metrics, EngineListener* listener, Clock clock = wallClockMillis);
    ~EngineLoop();
    EngineLoop(const EngineLoop&) = delete;
    EngineLoop& operator=(const EngineLoop&) = delete;

    // Recovers unfinished orchestrations (SPEC 7) on the engine thread and starts the loop.
    // Returns once recovery has finished (rethrows its error). Returns the time it took (ms).
    double start();
    void stop();

    // Runs fn(engine, now) on the engine thread and waits for its result, which is handed back
    // only after what the engine thread wrote in that round is committed (group commit): a 202
    // is never sent for a write that is not durable yet.
    template <class F>
    auto call(F&& fn) -> decltype(fn(std::declval<Engine&>(), Millis{})) {
        using R = decltype(fn(std::declval<Engine&>(), Millis{}));
        auto promise = std::make_shared<std::promise<R>>();
        auto fut = promise->get_future();
        auto f = std::make_shared<std::decay_t<F>>(std::forward<F>(fn));
        // Only the task (and the release it returns) owns the promise, not this caller: a task
        // dropped unanswered (the loop stopped, its engine thread ended on a store failure)
        // breaks the promise and the caller gets EngineStoppedError instead of waiting forever.
        post([promise = std::move(promise), f](Engine& e, Millis now) -> Release {
            try {
                if constexpr (std::is_void_v<R>) {
                    (*f)(e, now);
                    return [promise] { promise->set_value(); };
                } else {
                    auto r = std::make_shared<R>((*f)(e, now));
                    return [promise, r] { promise->set_value(std::move(*r)); };
                }
            } catch (...) {
                return [promise, ex = std::current_exception()] { promise->set_exception(ex); };
            }
        });
        try {
            return fut.get();
        } catch (const std::future_error&) {
            throw EngineStoppedError("the engine stopped before answering (store failure or shutdown)");
        }
    }

    // Replicas (SPEC 11). onStoreFailure: a store error under tick/complete (a fenced write, a lost
    // database) stops this loop's engine thread and is reported here, instead of exiting the
    // process. mayAct: asked before every backend call; false drops the call (we no longer lead).
    // Set both before start().
    void setOnStoreFailure(std::function<void(const std::string&)> f) { onStoreFailure_ = std::move(f); }
    void setMayAct(std::function<bool()> f) { mayAct_ = std::move(f); }

    // Group commit (issue 15): when set, each round of the engine thread (posted calls, step
    // results, one tick) runs between begin() and commit(); callers get their results and
    // workers their actions only after commit() returned. A commit that throws ends the process
    // (exit 70) with nothing of the round acknowledged or handed to a backend. Set before start().
    void setCommitGroup(std::function<void()> begin, std::function<void()> commit) {
        groupBegin_ = std::move(begin);
        groupCommit_ = std::move(commit);
    }

    Engine& engineUnsafe() { return engine_; }  // only for constructing read-side routers
    std::size_t activeOrchestrations() const { return active_.load(); }
    std::size_t actionsOut() const { return out_.load(); }

private:
    using Release = std::function<void()>;  // hands a call's result over (after the commit)
    using Task = std::function<Release(Engine&, Millis)>;
    void post(Task t);
    void engineMain();
    void workerMain();

    Store& store_;
    UpgradeBackend& backend_;
    Engine engine_;
    Metrics& metrics_;
    Clock clock_;
    int workerCount_;
    std::function<void(const std::string&)> onStoreFailure_;
    std::function<bool()> mayAct_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Task> tasks_;
    std::deque<std::pair<Action, StepResult>> results_;
    bool stopping_ = false;
    bool failed_ = false;  // the engine thread ended on a store failure (under mu_)
    std::thread engineThread_;

    std::mutex wmu_;
    std::condition_variable wcv_;
    std::deque<Action> work_;
    bool workersStopping_ = false;
    std::vector<std::thread> workers_;

    std::atomic<std::size_t> active_{0}, out_{0};
    std::function<void()> groupBegin_, groupCommit_;
};

}  // namespace keb::server
