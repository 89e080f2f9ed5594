#include "coordinator/stats_board.h"

namespace gossamer::coordinator {

void StatsBoard::step_started(protocol::StatsReply now) {
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_ = std::move(now);
  started_ = std::chrono::steady_clock::now();
  in_step_ = true;
}

void StatsBoard::step_ended() {
  std::lock_guard<std::mutex> lock(mutex_);
  in_step_ = false;
}

std::optional<protocol::StatsReply> StatsBoard::during_step() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!in_step_) return std::nullopt;
  protocol::StatsReply s = snapshot_;
  s.extra["step_running_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  return s;
}

}  // namespace gossamer::coordinator
