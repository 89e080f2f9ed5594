#pragma once
// Runs the expert MLPs of (token, slot) pairs wherever their experts live, and brings each
// pair's output back to the token's home rank (the dispatch/combine of DeepEP).
// Outputs come back per slot, unweighted: the caller sums the k slots in top-k order
// (kernels::moe_combine), so every layout adds the same numbers in the same order as one
// rank. Every local expert runs in one grouped call per projection (kernels/grouped_mxfp4.h).
#include <cstdint>

#include "kernels/grouped_mxfp4.h"
#include "worker/layer_context.h"
#include "worker/workspace.h"

namespace gossamer::worker {

// This rank's experts of one layer, as the grouped kernels take them.
struct LocalExperts {
  int64_t first_expert = 0;  // global id of this rank's first expert
  int64_t count = 0;         // experts held here (the same count on every EP rank)
  const kernels::Mxfp4Weight* mlp1 = nullptr;  // [count], out 2I (gate/linear interleaved)
  const float* mlp1_bias = nullptr;            // [count, 2I]
  const kernels::Mxfp4Weight* mlp2 = nullptr;  // [count], out H
  const float* mlp2_bias = nullptr;            // [count, H]
  float swiglu_alpha = 1.702f, swiglu_limit = 7.f;
};

// out[r, H] = mlp2(swiglu(mlp1(x_r))) for every row r of `groups` (x rows indirect through
// groups.row_index when set); act [rows, I] is scratch. Two kernel calls, no per-expert loop.
void run_grouped_experts(const kernels::Exec& exec, const LocalExperts& experts, const float* x,
                         const kernels::ExpertGroups& groups, float* act, float* out);

// Permutes this rank's pairs onto its local experts and runs them: pair p's output row is
// scratch.expert_out[scratch.pair_row[p]] (-1: the expert lives elsewhere). Returns the rows.
int64_t run_local_pairs(const kernels::Exec& exec, const float* h, const int32_t* experts, int64_t n, int k,
                        const LocalExperts& local, MoeScratch& scratch);

// h [n, H] this rank's tokens; experts [n, k] global ids; slot_out [n, k, H] (written).
// ctx.ep must be split; every rank of the EP group calls with its own n (0 is fine).
void dispatch_experts(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n, int k,
                      int64_t H, const LocalExperts& local, MoeScratch& scratch, float* slot_out);

}  // namespace gossamer::worker
