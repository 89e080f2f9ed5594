#include "worker/workspace.h"

#include <algorithm>

#include "core/error.h"

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

AttentionScratch::AttentionScratch(int64_t t, int64_t hidden, int64_t q_width, int64_t kv_width)
    : h(t * hidden), o(t * hidden), q(t * q_width), attn(t * q_width), k(t * kv_width), v(t * kv_width) {}

Workspace::Workspace(const model::ModelConfig& c, int64_t tokens, int64_t q_width, int64_t kv_width, int ep_size)
    : max_tokens(std::max<int64_t>(tokens, 1)),
      x(max_tokens * c.hidden_size),
      rows(max_tokens * c.hidden_size),
      normed(max_tokens * c.hidden_size),
      attention(max_tokens, c.hidden_size, q_width, kv_width),
      moe(c, max_tokens, ep_size) {}

void Workspace::check_fits(int64_t n) const {
  if (n > max_tokens)
    GOSSAMER_THROW(kInvalidArgument, "a step of {} tokens exceeds this rank's workspace of {} (max_step_tokens)", n,
                   max_tokens);
}

}  // namespace gossamer::worker
