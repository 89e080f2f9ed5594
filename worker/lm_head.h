#pragma once
// The vocab-parallel end of the model. Each TP rank of the last stage holds a slice of the
// unembedding rows and computes logits for its slice only; what follows decides as much as
// possible from the slices: greedy and top-k sampling need only each slice's best
// candidates (value, id), pure temperature / top-p sampling and eval-logits gather rows.
#include <cstdint>
#include <vector>

#include "kernels/sampling.h"
#include "worker/layer_context.h"
#include "worker/range.h"

namespace gossamer::worker {

// full [m, vocab] on every TP rank from each rank's local [m, its slice] (the balanced
// split of the vocab over TP, rank order = vocab order). At tp = 1 a copy.
void gather_full_logits(const LayerContext& ctx, const float* local, int64_t m, int64_t vocab,
                        std::vector<float>& full);

// One token per row. params[i] / steps[i] belong to row i (step = the draw's counter, the
// absolute position of the new token). Every TP rank returns the same tokens.
// tokens [m] receives them. At tp = 1 nothing is allocated.
void sample_rows(const LayerContext& ctx, const float* local, int64_t m, Range slice, int64_t vocab,
                 const std::vector<kernels::SamplingParams>& params, const std::vector<uint64_t>& steps,
                 int32_t* tokens);

}  // namespace gossamer::worker
