#include "worker/workspace.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::worker {

GroupCounts::GroupCounts(int max_group_size) {
  const auto n = static_cast<size_t>(std::max(max_group_size, 1));
  for (auto* v : {&rows, &ids, &out, &back}) v->resize(n);
  sent.resize(n);
  received.resize(n);
}

MoeScratch::MoeScratch(const model::ModelConfig& c, int64_t tokens, int ep_size, Device d, int tp_size)
    : max_tokens(std::max<int64_t>(tokens, 1)),
      max_pairs(max_tokens * c.num_experts_per_tok),
      group_pairs(max_pairs * std::max(ep_size, 1)),
      h(max_tokens * c.hidden_size, d),
      logits(max_tokens * c.num_local_experts, d),
      weights(max_pairs, d),
      sum(max_tokens * c.hidden_size, d),
      experts(max_pairs, d),
      slot_out(max_pairs * c.hidden_size, d),
      offsets(c.num_local_experts + 1, d),
      row_token(group_pairs, d),
      pair_row(group_pairs, d),
      act(group_pairs * c.intermediate_size, d),
      expert_out(group_pairs * c.hidden_size, d),
      peer_rows(group_pairs * c.hidden_size, d),
      pair_out(group_pairs * c.hidden_size, d),
      peer_ids(group_pairs, d),
      send_offsets(c.num_local_experts + 1, d),
      send_token(max_pairs, d),
      send_pair_row(max_pairs, d),
      send_ids(max_pairs, d),
      send_rows(max_pairs * c.hidden_size, d),
      share_send(max_tokens * c.hidden_size, d),
      counts(std::max(ep_size, tp_size)) {
  if (d != Device::kCPU) {
    host_offsets.resize(static_cast<size_t>(c.num_local_experts + 1));
    host_ids.resize(static_cast<size_t>(max_pairs));
  }
}

AttentionScratch::AttentionScratch(int64_t t, int64_t hidden, int64_t q_width, int64_t kv_width, Device d)
    : h(t * hidden, d), o(t * hidden, d), q(t * q_width, d), attn(t * q_width, d), k(t * kv_width, d),
      v(t * kv_width, d) {}

Workspace::Workspace(const model::ModelConfig& c, int64_t tokens, int64_t q_width, int64_t kv_width, int ep_size,
                     Device d, int tp_size)
    : device(d),
      max_tokens(std::max<int64_t>(tokens, 1)),
      x(max_tokens * c.hidden_size, d),
      rows(max_tokens * c.hidden_size, d),
      normed(max_tokens * c.hidden_size, d),
      attention(max_tokens, c.hidden_size, q_width, kv_width, d),
      moe(c, max_tokens, ep_size, d, tp_size) {}

float* Workspace::logits_for(size_t count) {
  if (device == Device::kCPU) {
    if (logits.size() < count) logits.resize(count);
    return logits.data();
  }
  if (device_logits.size() < count * sizeof(float)) device_logits = Buffer(count * sizeof(float), device);
  return device_logits.as<float>();
}

void Workspace::check_fits(int64_t n) const {
  if (n > max_tokens)
    GOSSAMER_THROW(kInvalidArgument, "a step of {} tokens exceeds this rank's workspace of {} (max_step_tokens)", n,
                   max_tokens);
}

}  // namespace gossamer::worker

namespace gossamer::worker {

size_t Workspace::bytes() const {
  const auto& a = attention;
  const auto& m = moe;
  return x.bytes() + rows.bytes() + normed.bytes() + a.h.bytes() + a.o.bytes() + a.q.bytes() + a.attn.bytes() +
         a.k.bytes() + a.v.bytes() + m.h.bytes() + m.logits.bytes() + m.weights.bytes() + m.sum.bytes() +
         m.experts.bytes() + m.slot_out.bytes() + m.offsets.bytes() + m.row_token.bytes() + m.pair_row.bytes() +
         m.act.bytes() + m.expert_out.bytes() + m.peer_rows.bytes() + m.pair_out.bytes() + m.peer_ids.bytes() +
         m.send_offsets.bytes() + m.send_token.bytes() + m.send_pair_row.bytes() + m.send_ids.bytes() +
         m.send_rows.bytes() + m.share_send.bytes();
}

}  // namespace gossamer::worker
