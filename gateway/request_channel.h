#pragma once
// The messages of one upstream request, handed from the upstream I/O thread to the HTTP
// thread serving it. One producer, one consumer; every wait is bounded.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "protocol/server_messages.h"

namespace gossamer::gateway {

class RequestChannel {
 public:
  void push(protocol::ServerMessage m) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(m));
    }
    cv_.notify_one();
  }
  // The next message, or nullopt when none came within `timeout`.
  std::optional<protocol::ServerMessage> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !queue_.empty(); })) return std::nullopt;
    protocol::ServerMessage m = std::move(queue_.front());
    queue_.pop_front();
    return m;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<protocol::ServerMessage> queue_;
};

}  // namespace gossamer::gateway
