#pragma once
// The vocab-parallel end of the model. Each TP rank of the last stage holds a slice of the
// unembedding rows and computes logits for its slice only; what follows decides as much as
// possible from the slices: greedy and top-k sampling need only each slice's best
// candidates (value, id), pure temperature / top-p sampling and eval-logits gather rows.
#include <cstdint>
#include <utility>
#include <vector>

#include "kernels/sampling.h"
#include "worker/layer_context.h"
#include "worker/range.h"

namespace gossamer::worker {

// Host scratch of the functions below, kept by the caller between steps so that a TP
// split samples without allocating. reserve() sizes it up front from the step bounds; a
// larger top_k than reserved for grows the candidate arrays once, on the first step
// that asks for it.
struct SamplingScratch {
  // tp_size: ranks of the TP group; rows: most rows one call samples (the step's
  // sequences); slice: this rank's vocab slice width; vocab: the whole vocabulary.
  void reserve(int tp_size, int64_t rows, int64_t slice, int64_t vocab);

  std::vector<size_t> counts;            // [tp] gathered logits per rank
  std::vector<Range> slices;             // [tp] each rank's vocab slice
  std::vector<float> blocks, full;       // [m, vocab] gathered blocks, then rows
  std::vector<int32_t> order;            // [slice] a row's indices, partially sorted
  std::vector<float> my_values, all_values;  // [m, c], [tp, m, c] candidates
  std::vector<int32_t> my_ids, all_ids;
  std::vector<std::pair<int32_t, float>> merged;  // [tp * c] one row's candidates by id
  std::vector<float> merged_values;
};

// full [m, vocab] on every TP rank from each rank's local [m, its slice] (the balanced
// split of the vocab over TP, rank order = vocab order). At tp = 1 a copy.
// scratch: counts, slices and blocks come from there.
void gather_full_logits(const LayerContext& ctx, const float* local, int64_t m, int64_t vocab,
                        std::vector<float>& full, SamplingScratch& scratch);

// One token per row. params[i] / steps[i] belong to row i (step = the draw's counter, the
// absolute position of the new token). Every TP rank returns the same tokens.
// tokens [m] receives them. Nothing is allocated once `scratch` has seen the shapes.
void sample_rows(const LayerContext& ctx, const float* local, int64_t m, Range slice, int64_t vocab,
                 const std::vector<kernels::SamplingParams>& params, const std::vector<uint64_t>& steps,
                 int32_t* tokens, SamplingScratch& scratch);

}  // namespace gossamer::worker
