#pragma once
// One accepted request as the step thread tracks it, from admission to its terminal reply:
// a planned sequence (worker/step_planner.h: tokens, KV blocks, how much is computed) plus
// what the service needs to answer its client. A preempted request starts over at
// computed = 0 (recompute), keeping what it already streamed.
//
// Thread-safety: none; owned by the step thread (the front door never sees one).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/output_stream.h"
#include "worker/step_planner.h"

namespace gossamer::coordinator {

using Clock = std::chrono::steady_clock;

struct Request : worker::PlannedSequence {
  // Identity on the wire: replies go to `connection` (ROUTER identity) with `id`.
  std::string connection;
  std::string id;

  int64_t max_tokens = 0;       // resolved (params or server default)
  bool stream = true;
  std::unique_ptr<OutputStream> output;
  int64_t next_delta_seq = 0;

  Clock::time_point received;
  Clock::time_point first_scheduled{};
  Clock::time_point first_token{};
  bool has_first_token = false;
};

}  // namespace gossamer::coordinator
