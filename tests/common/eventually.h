// Polling for tests that watch another thread or process: the one `eventually` of the native tests.
#pragma once
#include <chrono>
#include <functional>
#include <thread>

namespace keb::test {

// Elapsed-time bounds of tests (a request answers within X ms, a server starts within Y s) are
// multiplied by this in sanitizer builds (KEB_SANITIZE_BUILD: ASan/UBSan/TSan make keb-server
// 2-15x slower, and such a bound then measures the instrumentation, not the product). A bound
// whose meaning depends on a second duration (a request must not wait for a 3 s backend call)
// scales that duration too, so what the test can catch stays the same.
#ifdef KEB_SANITIZE_BUILD
inline constexpr int kTimeScale = 4;
#else
inline constexpr int kTimeScale = 1;
#endif

// Polls until pred() or the timeout; returns pred()'s last value.
inline bool eventually(const std::function<bool()>& pred, int timeoutMs, int stepMs = 50) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(stepMs));
    }
    return pred();
}

}  // namespace keb::test
