#include "worker/weight_prep.h"

#include "core/timer.h"
#include "kernels/weight_prep.h"

namespace gossamer::worker {
namespace {

void prepare(kernels::WeightPreparer& p, Linear& l) {
  l.weight = p.dense(l.weight);
  l.bias = p.vector(std::move(l.bias));
}

void prepare(kernels::WeightPreparer& p, ExpertMatrix& m) {
  for (auto& w : m.per_expert) w = p.mxfp4(w);
  m.bias = p.vector(std::move(m.bias));
}

}  // namespace

PreparedSummary prepare_weights(ModelWeights& weights, const kernels::Exec& exec) {
  Timer timer;
  kernels::WeightPreparer p(exec);
  weights.embedding = p.gathered_table(weights.embedding);
  for (auto& layer : weights.layers) {
    layer.attn_norm = p.vector(std::move(layer.attn_norm));
    prepare(p, layer.q);
    prepare(p, layer.k);
    prepare(p, layer.v);
    prepare(p, layer.o);
    layer.sinks = p.vector(std::move(layer.sinks));
    layer.mlp_norm = p.vector(std::move(layer.mlp_norm));
    prepare(p, layer.router);
    prepare(p, layer.mlp1);
    prepare(p, layer.mlp2);
  }
  weights.final_norm = p.vector(std::move(weights.final_norm));
  weights.unembedding = p.dense(weights.unembedding);
  for (auto& b : p.take_storage()) weights.prepared.push_back(std::move(b));
  return {p.bytes(), timer.seconds()};
}

}  // namespace gossamer::worker
