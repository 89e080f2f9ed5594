#pragma once
#include <cstdint>

#include "kernels/sampling.h"

namespace gossamer::kernels::cpu {

// The contract of kernels/ref/sampling.h, without sorting the vocabulary: top-k uses a
// partial selection, top-p sorts only what is needed, and the plain temperature draw
// walks the vocabulary in id order.
int32_t sample_token(const float* logits /*[vocab]*/, int64_t vocab, const SamplingParams& params,
                     uint64_t step);

}  // namespace gossamer::kernels::cpu
