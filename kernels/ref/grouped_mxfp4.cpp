#include "kernels/ref/grouped_mxfp4.h"

#include <vector>

#include "kernels/ref/mxfp4_linear.h"
#include "kernels/ref/swiglu.h"

namespace gossamer::kernels::ref {
namespace {

// u[out] for permuted row r of group e.
void row_output(float* u, const float* x, const ExpertGroups& g, const Mxfp4Weight* w, const float* bias,
                int64_t e, int64_t r) {
  const int64_t in = w[e].in;
  const float* xr = x + (g.row_index ? int64_t{g.row_index[r]} : r) * in;
  mxfp4_linear(u, xr, 1, w[e], bias ? bias + e * w[e].out : nullptr);
}

}  // namespace

void grouped_mxfp4_linear(float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                          const float* bias) {
  for (int64_t e = 0; e < groups.groups; ++e)
    for (int64_t r = groups.offsets[e]; r < groups.offsets[e + 1]; ++r)
      row_output(y + r * weights[e].out, x, groups, weights, bias, e, r);
}

void grouped_mxfp4_swiglu(float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                          const float* bias, float alpha, float limit) {
  for (int64_t e = 0; e < groups.groups; ++e) {
    std::vector<float> u(static_cast<size_t>(weights[e].out));
    for (int64_t r = groups.offsets[e]; r < groups.offsets[e + 1]; ++r) {
      row_output(u.data(), x, groups, weights, bias, e, r);
      swiglu_clamped(y + r * (weights[e].out / 2), u.data(), 1, weights[e].out / 2, alpha, limit);
    }
  }
}

}  // namespace gossamer::kernels::ref
