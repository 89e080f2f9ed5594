#pragma once
// Where the step thread leaves its stats for the front door, so that a `stats` request is
// answered at once while a step runs (a long prefill, a follower rank that is slow or
// stopped) instead of waiting in the inbox until the step ends.
//
// The snapshot is published right before each step starts and nothing is sent to clients
// while the step runs, so the snapshot already reflects every reply a client can have seen:
// a client that saw `done` and then asks `stats` never sees that request still running.
// Between steps the front door does not use it: the step thread answers from its live
// counters (it drains the inbox at once when no step runs).
//
// Thread-safety: step_started/step_ended on the step thread, during_step on the front
// door thread; one mutex, held for a copy.
#include <chrono>
#include <mutex>
#include <optional>

#include "protocol/server_messages.h"

namespace gossamer::coordinator {

class StatsBoard {
 public:
  // `now` is the step loop's stats as the step begins (no id; `rejected` counts the step
  // thread's refusals only, the front door adds its own).
  void step_started(protocol::StatsReply now);
  void step_ended();
  // The snapshot of the running step, with extra.step_running_ms; nullopt between steps.
  std::optional<protocol::StatsReply> during_step() const;

 private:
  mutable std::mutex mutex_;
  bool in_step_ = false;
  std::chrono::steady_clock::time_point started_{};
  protocol::StatsReply snapshot_;
};

}  // namespace gossamer::coordinator
