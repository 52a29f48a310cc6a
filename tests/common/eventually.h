// Polling for tests that watch another thread or process: the one `eventually` of the native tests.
#pragma once
#include <chrono>
#include <functional>
#include <thread>

namespace keb::test {

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
