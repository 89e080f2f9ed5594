#include "worker/weight_prep.h"

#include <unistd.h>

#include "core/progress.h"
#include "core/timer.h"
#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/weight_prep.h"
#include "worker/packed_experts.h"

namespace gossamer::worker {
namespace {

void prepare(kernels::WeightPreparer& p, Linear& l) {
  l.weight = p.dense(l.weight);
  l.bias = p.vector(std::move(l.bias));
}

// Where the packed experts go (null: the stored layout is read as it is), and whether they
// are still to be packed.
struct PackedTarget {
  uint8_t* at = nullptr;
  bool pack = false;
  bool release_source = false;
};

void prepare(kernels::WeightPreparer& p, ExpertMatrix& m, PackedTarget& packed) {
  if (packed.at) {
    m.per_expert = p.packed_experts(m.per_expert, packed.at, packed.pack, packed.release_source);
    for (const auto& w : m.per_expert) packed.at += kernels::cpu::packed_mxfp4_bytes(w);
  } else {
    for (auto& w : m.per_expert) w = p.mxfp4(w);
  }
  m.bias = p.vector(std::move(m.bias));
}

uint64_t packed_bytes(const ModelWeights& weights) {
  uint64_t bytes = 0;
  for (const auto& layer : weights.layers)
    for (const ExpertMatrix* m : {&layer.mlp1, &layer.mlp2})
      for (const auto& w : m->per_expert) bytes += static_cast<uint64_t>(kernels::cpu::packed_mxfp4_bytes(w));
  return bytes;
}

}  // namespace

PreparedSummary prepare_weights(ModelWeights& weights, const kernels::Exec& exec, bool show_progress) {
  Timer timer;
  kernels::WeightPreparer p(exec);
  // Precision fast: the experts in the int8 kernels' packed layout,
  // from a cache file of an earlier start or packed now (worker/packed_experts.h).
  PackedTarget packed;
  const uint64_t to_pack = exec.device == Device::kCPU && kernels::cpu::packs_expert_weights(exec.precision)
                               ? packed_bytes(weights)
                               : 0;
  if (to_pack > 0) {
    weights.packed_experts = PackedExpertStore::open(weights, to_pack);
    packed.at = weights.packed_experts->data();
    packed.pack = !weights.packed_experts->ready();
    // Views into the read-only checkpoint mapping give their pages back once packed.
    packed.release_source = weights.checkpoint != nullptr;
  }
  const char* what = exec.device != Device::kCPU ? "copying weights to the device"
                     : packed.pack               ? "packing experts (once per checkpoint), faulting weights in"
                                                 : "faulting weights in";
  Progress progress(what,
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
    prepare(p, layer.mlp1, packed);
    prepare(p, layer.mlp2, packed);
    progress.advance(1);
  }
  weights.final_norm = p.vector(std::move(weights.final_norm));
  weights.unembedding = p.dense(weights.unembedding);
  progress.advance(1);
  progress.finish();
  for (auto& b : p.take_storage()) weights.prepared.push_back(std::move(b));
  if (weights.packed_experts) weights.packed_experts->commit();
  const uint64_t huge = exec.device == Device::kCPU ? kernels::file_huge_page_bytes() : 0;
  return {p.bytes(), huge, timer.seconds(), weights.packed_experts ? weights.packed_experts->where() : std::string()};
}

}  // namespace gossamer::worker
