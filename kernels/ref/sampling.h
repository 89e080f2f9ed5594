#pragma once
// Scalar oracle for token sampling. The contract both versions implement:
//   * temperature <= 0: argmax, ties to the lowest id.
//   * else l_i = logits_i / T; candidates ranked by (l desc, id asc);
//     top_k > 0 keeps the first k; weights w_i = exp(l_i - max l) over the survivors;
//     top_p < 1 keeps the shortest ranked prefix whose weight reaches top_p of the total
//     (at least one token);
//     draw u = sampling_uniform(seed, step) and walk the kept tokens in ascending id order
//     until the running weight exceeds u * (sum of kept weights). Sums are in double and
//     taken in ascending id order, so a fast version that avoids sorting can match exactly.
#include <cstdint>

#include "kernels/sampling.h"

namespace gossamer::kernels::ref {

int32_t sample_token(const float* logits /*[vocab]*/, int64_t vocab, const SamplingParams& params,
                     uint64_t step);

}  // namespace gossamer::kernels::ref
