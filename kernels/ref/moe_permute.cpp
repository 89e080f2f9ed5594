#include "kernels/ref/moe_permute.h"

namespace gossamer::kernels::ref {

int64_t moe_permute(const int32_t* experts, int64_t n, int k, ExpertRange local, const MoePermutation& out,
                    const float* x, int64_t H) {
  if (out.pair_row)
    for (int64_t p = 0; p < n * k; ++p) out.pair_row[p] = -1;
  int64_t row = 0;
  for (int64_t e = 0; e < local.count; ++e) {
    out.offsets[e] = row;
    for (int64_t p = 0; p < n * k; ++p) {
      if (experts[p] != local.first + e) continue;
      out.row_token[row] = static_cast<int32_t>(p / k);
      if (out.row_slot) out.row_slot[row] = static_cast<int32_t>(p % k);
      if (out.pair_row) out.pair_row[p] = static_cast<int32_t>(row);
      if (out.gathered)
        for (int64_t c = 0; c < H; ++c) out.gathered[row * H + c] = x[(p / k) * H + c];
      ++row;
    }
  }
  out.offsets[local.count] = row;
  return row;
}

}  // namespace gossamer::kernels::ref
