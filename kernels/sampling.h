#pragma once
// Token sampling. Deterministic for a given (seed, step): the random draw does not depend
// on batching or on which rank samples.
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy (argmax; ties: lowest id)
  int top_k = 0;             // 0 = off
  float top_p = 1.0f;        // 1 = off
  uint64_t seed = 0;
};

// A uniform draw in [0, 1) from (seed, step) — counter-based, no hidden state.
double sampling_uniform(uint64_t seed, uint64_t step);

// logits[vocab] f32 (CPU). Order: temperature, top-k, top-p (over the sorted survivors),
// then draw. Returns the token id.
int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     uint64_t step);

// n rows at once, on the device the logits live on: logits [n, row_stride] on
// exec.device (the first `vocab` of each row are the row's logits); params[n], steps[n]
// and tokens[n] on the host. CPU: sample_token per row. CUDA: selection on the device
// with the same draw and kept-set definitions (kernels/cuda/sampling.h says what may
// differ); only the n ids come back.
void sample_tokens(const Exec& exec, int32_t* tokens, const float* logits, int64_t n, int64_t vocab,
                   int64_t row_stride, const SamplingParams* params, const uint64_t* steps);

}  // namespace gossamer::kernels
