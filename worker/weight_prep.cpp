#include "worker/weight_prep.h"

#include <unistd.h>

#include "core/progress.h"
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

PreparedSummary prepare_weights(ModelWeights& weights, const kernels::Exec& exec, bool show_progress) {
  Timer timer;
  kernels::WeightPreparer p(exec);
  Progress progress(exec.device == Device::kCPU ? "faulting weights in" : "copying weights to the device",
                    weights.layers.size() + 1, Progress::Unit::kItems,
                    // Off a terminal the summary line below says it all.
                    !show_progress || ::isatty(2) == 0);
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
    progress.advance(1);
  }
  weights.final_norm = p.vector(std::move(weights.final_norm));
  weights.unembedding = p.dense(weights.unembedding);
  progress.advance(1);
  progress.finish();
  for (auto& b : p.take_storage()) weights.prepared.push_back(std::move(b));
  const uint64_t huge = exec.device == Device::kCPU ? kernels::file_huge_page_bytes() : 0;
  return {p.bytes(), huge, timer.seconds()};
}

}  // namespace gossamer::worker
