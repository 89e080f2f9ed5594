#include "worker/moe_scratch.h"

#include <algorithm>

namespace gossamer::worker {

MoeScratch::MoeScratch(const model::ModelConfig& c, int64_t tokens, int ep_size)
    : max_tokens(std::max<int64_t>(tokens, 1)),
      max_pairs(max_tokens * c.num_experts_per_tok),
      group_pairs(max_pairs * std::max(ep_size, 1)),
      h(max_tokens * c.hidden_size),
      logits(max_tokens * c.num_local_experts),
      weights(max_pairs),
      sum(max_tokens * c.hidden_size),
      experts(max_pairs),
      slot_out(max_pairs * c.hidden_size),
      offsets(c.num_local_experts + 1),
      row_token(group_pairs),
      pair_row(group_pairs),
      act(group_pairs * c.intermediate_size),
      expert_out(group_pairs * c.hidden_size),
      peer_rows(group_pairs * c.hidden_size),
      pair_out(group_pairs * c.hidden_size),
      peer_ids(group_pairs),
      send_offsets(c.num_local_experts + 1),
      send_token(max_pairs),
      send_pair_row(max_pairs),
      send_ids(max_pairs),
      send_rows(max_pairs * c.hidden_size) {}

}  // namespace gossamer::worker
