#pragma once
// One accepted request as the step thread tracks it, from admission to its terminal reply.
// The sequence's tokens are prompt + generated; `computed` of them are in the KV cache. A
// step feeds tokens[computed, computed + chunk); when that reaches the end, the sampled id
// is the next generated token. Decode is the chunk of one, and a preempted request simply
// starts over at computed = 0 (recompute), keeping what it already streamed.
//
// Thread-safety: none; owned by the step thread (the front door never sees one).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "coordinator/output_stream.h"
#include "worker/kv_pools.h"
#include "worker/step_plan.h"

namespace gossamer::coordinator {

using Clock = std::chrono::steady_clock;

struct Request {
  // Identity on the wire: replies go to `connection` (ROUTER identity) with `id`.
  std::string connection;
  std::string id;

  std::vector<int32_t> tokens;  // prompt + generated
  int64_t prompt_tokens = 0;
  int64_t max_tokens = 0;       // resolved (params or server default)
  worker::SamplingParams sampling;
  bool stream = true;
  std::unique_ptr<OutputStream> output;
  int64_t next_delta_seq = 0;

  // Scheduling state.
  int64_t seq_id = -1;  // assigned at first admission; replica = seq_id % dp
  int replica = 0;
  worker::SequenceKv kv;               // its KV blocks (both pools) and prefix hashes
  int64_t computed = 0;
  int64_t cached_tokens = 0;           // prompt tokens served from the prefix cache
  int preemptions = 0;

  Clock::time_point received;
  Clock::time_point first_scheduled{};
  Clock::time_point first_token{};
  bool scheduled_once = false;
  bool has_first_token = false;

  int64_t generated() const { return static_cast<int64_t>(tokens.size()) - prompt_tokens; }
};

}  // namespace gossamer::coordinator
