#pragma once
// What the front door hands to the step thread. The front door never waits for the model:
// it pushes here and goes back to its socket; the step thread drains the inbox between
// steps and sleeps on it (with a timeout, to send heartbeats) when there is no work.
//
// Thread-safety: push from the front door thread, drain/wait from the step thread.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "coordinator/request.h"

namespace gossamer::coordinator {

struct NewRequest {
  std::unique_ptr<Request> request;  // validated, rendered and tokenized
};
struct CancelRequest {
  std::string connection, id;
};
struct ConnectionGone {
  std::string connection;
  std::vector<std::string> ids;  // its requests, cancelled without a reply
};
struct StatsQuery {
  std::string connection;
  std::optional<std::string> id;
};
using InboxEvent = std::variant<NewRequest, CancelRequest, ConnectionGone, StatsQuery>;

class Inbox {
 public:
  void push(InboxEvent e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      events_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  // Everything queued, waiting up to `timeout` when empty.
  std::deque<InboxEvent> drain(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (events_.empty() && timeout.count() > 0)
      cv_.wait_for(lock, timeout, [&] { return !events_.empty() || woken_; });
    woken_ = false;
    std::deque<InboxEvent> out;
    out.swap(events_);
    return out;
  }
  // Ends a drain early (shutdown signal).
  void wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      woken_ = true;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<InboxEvent> events_;
  bool woken_ = false;
};

}  // namespace gossamer::coordinator
