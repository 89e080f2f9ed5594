#include "kernels/cpu/moe_permute.h"

#include <algorithm>
#include <cstring>

namespace gossamer::kernels::cpu {

int64_t moe_permute(ThreadPool& pool, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x, int64_t H) {
  const int64_t pairs = n * k, E = local.count;
  int64_t* offsets = out.offsets;
  for (int64_t e = 0; e <= E; ++e) offsets[e] = 0;
  // Counts shifted by one, so the prefix sum leaves each expert's start in offsets[e].
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t e = experts[p] - local.first;
    if (e >= 0 && e < E) ++offsets[e + 1];
  }
  for (int64_t e = 0; e < E; ++e) offsets[e + 1] += offsets[e];
  // Place pairs in (token, slot) order; offsets[e] walks to the end of expert e's rows
  // and is shifted back afterwards (no second array).
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t e = experts[p] - local.first;
    int32_t row = -1;
    if (e >= 0 && e < E) {
      row = static_cast<int32_t>(offsets[e]++);
      out.row_token[row] = static_cast<int32_t>(p / k);
      if (out.row_slot) out.row_slot[row] = static_cast<int32_t>(p % k);
    }
    if (out.pair_row) out.pair_row[p] = row;
  }
  for (int64_t e = E; e > 0; --e) offsets[e] = offsets[e - 1];
  offsets[0] = 0;
  const int64_t rows = offsets[E];
  if (out.gathered && rows > 0) {
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H));
    pool.parallel_for(rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        std::memcpy(out.gathered + r * H, x + int64_t{out.row_token[r]} * H, sizeof(float) * size_t(H));
    });
  }
  return rows;
}

}  // namespace gossamer::kernels::cpu
