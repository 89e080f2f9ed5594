#pragma once
// Runs the expert MLPs of (token, slot) pairs wherever their experts live, and brings each
// pair's output back to the token's home rank (DeepEP's dispatch/combine, CONVENTIONS.md).
// Outputs come back per slot, unweighted: the caller sums the k slots in top-k order, so
// every layout adds the same numbers in the same order as one rank.
#include <cstdint>
#include <functional>

#include "worker/layer_context.h"

namespace gossamer::worker {

// One local expert over gathered rows: out[m, H] = expert(in[m, H]).
using ExpertFn = std::function<void(int64_t local_expert, const float* in, int64_t m, float* out)>;

struct ExpertPlacement {
  int64_t first_expert = 0;   // global id of this rank's first expert
  int64_t local_experts = 0;  // experts held here (the same count on every EP rank)
};

// h [n, H] this rank's tokens; experts [n, k] global ids; slot_out [n, k, H] (written).
// With ctx.ep split, every rank of the EP group must call with its own n (0 is fine).
void run_experts(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n,
                 int k, int64_t H, const ExpertPlacement& placement, const ExpertFn& expert,
                 float* slot_out);

}  // namespace gossamer::worker
