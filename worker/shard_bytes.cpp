#include "worker/shard_bytes.h"

#include "model/tensor_names.h"

namespace gossamer::worker {
namespace {

// nbytes * part / whole; the splits are exact (heads, experts: whole multiples), the vocab
// split may leave a remainder row, hence the rounding of the product, not the factor.
// A missing tensor counts 0: biases are absent when attention_bias is false, and the
// weight binder (inspect's check) reports a missing weight by name.
uint64_t share(const model::Checkpoint& ck, const std::string& name, int64_t part, int64_t whole) {
  const auto* t = ck.find(name);
  if (!t) return 0;
  return static_cast<uint64_t>(t->nbytes) * static_cast<uint64_t>(part) / static_cast<uint64_t>(whole);
}

uint64_t whole(const model::Checkpoint& ck, const std::string& name) {
  const auto* t = name.empty() ? nullptr : ck.find(name);
  return t ? static_cast<uint64_t>(t->nbytes) : 0;
}

}  // namespace

ShardBytes shard_bytes(const model::Checkpoint& ck, const Mapping& m) {
  const auto& c = ck.config();
  const auto g = model::global_tensor_names(ck.layout());
  ShardBytes b;
  if (m.holds_embedding()) b.embedding = whole(ck, g.embedding);
  if (m.holds_lm_head())
    b.lm_head = whole(ck, g.final_norm) + share(ck, g.unembedding, m.vocab().size(), c.vocab_size);
  const int64_t nq = c.num_attention_heads, nkv = c.num_key_value_heads;
  const int64_t nq_l = m.q_heads().size(), nkv_l = m.kv_heads().size();
  const int64_t E = c.num_local_experts, e_l = m.experts().size();
  for (int64_t l = m.layers().begin; l < m.layers().end; ++l) {
    const auto n = model::layer_tensor_names(ck.layout(), static_cast<int>(l));
    if (n.fused_qkv) {
      // One [(nq + 2 nkv) d, H] tensor: this rank reads its q rows and its k and v rows.
      b.attention += share(ck, n.q_weight, nq_l + 2 * nkv_l, nq + 2 * nkv);
      b.attention += share(ck, n.q_bias, nq_l + 2 * nkv_l, nq + 2 * nkv);
    } else {
      b.attention += share(ck, n.q_weight, nq_l, nq) + share(ck, n.k_weight, nkv_l, nkv) +
                     share(ck, n.v_weight, nkv_l, nkv);
      b.attention += share(ck, n.q_bias, nq_l, nq) + share(ck, n.k_bias, nkv_l, nkv) +
                       share(ck, n.v_bias, nkv_l, nkv);
    }
    b.attention += share(ck, n.sinks, nq_l, nq) + share(ck, n.o_weight, nq_l, nq);
    b.shared += whole(ck, n.attn_norm) + whole(ck, n.mlp_norm) + whole(ck, n.router_weight) +
                whole(ck, n.router_bias) + whole(ck, n.o_bias);
    for (const auto* t : {&n.mlp1_blocks, &n.mlp1_scales, &n.mlp1_bias, &n.mlp2_blocks, &n.mlp2_scales,
                          &n.mlp2_bias})
      b.experts += share(ck, *t, e_l, E);
  }
  return b;
}

}  // namespace gossamer::worker
