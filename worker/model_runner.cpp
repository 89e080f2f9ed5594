#include "worker/model_runner.h"

#include <cstring>

#include "comm/communicator.h"
#include "core/error.h"
#include "kernels/linear.h"
#include "kernels/rmsnorm.h"

namespace gossamer::worker {

kernels::RopeParams rope_params_from(const model::ModelConfig& c) {
  kernels::RopeParams p;
  p.head_dim = c.head_dim;
  p.theta = c.rope_theta;
  p.factor = c.rope_scaling.factor;
  p.beta_fast = c.rope_scaling.beta_fast;
  p.beta_slow = c.rope_scaling.beta_slow;
  p.original_context = static_cast<double>(c.rope_scaling.original_max_position_embeddings);
  p.truncate = c.rope_scaling.truncate;
  return p;
}

ModelRunner::ModelRunner(const ModelWeights& weights, KvCache& cache, LayerContext base,
                         int64_t max_step_tokens)
    : weights_(weights), cache_(cache), base_(base),
      rope_(kernels::RopeTable::build(rope_params_from(weights.config))) {
  base_.config = &weights_.config;
  if (!weights_.layers.empty()) {
    const auto& first = weights_.layers.front();  // every layer has this rank's same head slice
    attention_scratch_ = std::make_unique<AttentionScratch>(max_step_tokens, weights_.config.hidden_size,
                                                            first.q.weight.out, first.k.weight.out);
  }
  moe_scratch_ = std::make_unique<MoeScratch>(weights_.config, max_step_tokens, base_.ep ? base_.ep->size() : 1);
  for (size_t i = 0; i < weights_.layers.size(); ++i) {
    attention_.push_back(std::make_unique<AttentionLayer>(weights_.layers[i], static_cast<int>(i), rope_,
                                                          *attention_scratch_));
    moe_.push_back(std::make_unique<MoeLayer>(weights_.layers[i], weights_.selection.experts.begin,
                                              weights_.config, *moe_scratch_));
  }
}

bool ModelRunner::forward(const ForwardBatch& batch, std::vector<float>& logits, DumpSink* dump_sink) {
  const auto& cfg = weights_.config;
  const int64_t n = batch.n_tokens(), H = cfg.hidden_size;
  for (int32_t t : batch.tokens)
    if (t < 0 || t >= cfg.vocab_size)
      GOSSAMER_THROW(kInvalidArgument, "token id {} outside the vocabulary [0, {})", t, cfg.vocab_size);
  LayerContext ctx = base_;
  ctx.dump = dump_sink;
  const bool staged = ctx.pp && ctx.pp->size() > 1;
  const bool first_stage = !staged || ctx.pp->rank() == 0;
  const bool last_stage = !staged || ctx.pp->rank() == ctx.pp->size() - 1;

  x_.resize(static_cast<size_t>(n * H));
  if (first_stage) {
    kernels::embedding_lookup(ctx.exec, x_.data(), weights_.embedding, batch.tokens.data(), n);
    dump(dump_sink, "embedding", kNoLayer, x_.data(), n, H);
  } else {
    // Hidden states of the same tokens from the previous stage.
    ctx.pp->recv(x_.data(), static_cast<size_t>(n * H), DType::kF32, ctx.pp->rank() - 1,
                 kStageTag, ctx.exec.device);
  }

  for (size_t i = 0; i < attention_.size(); ++i) {
    attention_[i]->forward(ctx, x_.data(), batch, cache_);
    moe_[i]->forward(ctx, x_.data(), n);
  }

  if (!last_stage) {
    ctx.pp->send(x_.data(), static_cast<size_t>(n * H), DType::kF32, ctx.pp->rank() + 1, kStageTag,
                 ctx.exec.device);
    logits.clear();
    return false;
  }

  // Only the wanted rows go through the final norm and the (large) unembedding.
  const auto rows = batch.logit_rows();
  const auto m = static_cast<int64_t>(rows.size());
  rows_.resize(static_cast<size_t>(m * H));
  for (int64_t r = 0; r < m; ++r)
    std::memcpy(rows_.data() + r * H, x_.data() + rows[static_cast<size_t>(r)] * H, sizeof(float) * H);
  normed_.resize(rows_.size());
  kernels::rmsnorm(ctx.exec, normed_.data(), rows_.data(), weights_.final_norm.as<float>(), m, H,
                   cfg.rms_norm_eps);
  dump(dump_sink, "final_norm", kNoLayer, normed_.data(), m, H);
  const int64_t V = vocab_local();
  logits.resize(static_cast<size_t>(m * V));
  kernels::linear(ctx.exec, logits.data(), normed_.data(), m, weights_.unembedding, nullptr);
  dump(dump_sink, "logits", kNoLayer, logits.data(), m, V);
  return true;
}

}  // namespace gossamer::worker
