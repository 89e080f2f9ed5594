#pragma once
// The only places where the layers meet comm/: a row-parallel linear (partial products
// all-reduced over TP, bias added once) and the vocab-parallel pieces. At tp = 1 they are
// plain kernels with no collective.
#include <cstdint>

#include "worker/layer_context.h"
#include "worker/weights.h"
#include "worker/workspace.h"

namespace gossamer::worker {

// y[n, out] = x[n, in_local] · W[out, in_local]ᵀ, summed over the TP group, + bias (once).
void row_parallel_linear(const LayerContext& ctx, float* y, const float* x, int64_t n,
                         const Linear& w);

// data [n, width]: each TP rank filled the rows of its share (Mapping::token_share);
// afterwards all ranks hold
// all rows (all-gather-v over TP). No-op at tp = 1.
// send: scratch of at least [share rows, width] on the context's device (the all-gather
// needs distinct send and receive buffers). counts: the workspace's, for the per-rank sizes.
void gather_token_shares(const LayerContext& ctx, float* data, int64_t n, int64_t width, float* send,
                         GroupCounts& counts);

}  // namespace gossamer::worker
