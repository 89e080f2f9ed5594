#pragma once
// Token sampling on the device (kernels/sampling.h has the contract): greedy,
// temperature, top-k, top-p with the same (seed, step) uniform draw as the CPU. The
// kept set and the draw follow the CPU's definitions; sums run in a different order, so
// a draw that lands within rounding of a boundary may pick a neighbour of the CPU's token.
// A fixed seed gives a fixed result on the same GPU.
#include <cstdint>

#include "kernels/sampling.h"

namespace gossamer::kernels::cuda {

// logits [n, row_stride] on the device (the first `vocab` of each row are read);
// params[n], steps[n] and tokens[n] on the host. One block per row; waits for the result.
void sample_tokens(void* stream, int32_t* tokens, const float* logits, int64_t n, int64_t vocab, int64_t row_stride,
                   const SamplingParams* params, const uint64_t* steps);

}  // namespace gossamer::kernels::cuda
