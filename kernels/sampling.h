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

}  // namespace gossamer::kernels
