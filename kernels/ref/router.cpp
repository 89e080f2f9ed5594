#include "kernels/ref/router.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gossamer::kernels::ref {

void router_topk_softmax(const float* logits, int64_t n, int n_experts, int k, int32_t* experts,
                         float* weights) {
  std::vector<int32_t> idx(static_cast<size_t>(n_experts));
  for (int64_t t = 0; t < n; ++t) {
    const float* l = logits + t * n_experts;
    std::iota(idx.begin(), idx.end(), 0);
    // stable_sort keeps equal logits in index order: ties go to the lower expert.
    std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
    double mx = l[idx[0]], sum = 0;
    for (int i = 0; i < k; ++i) sum += std::exp(double(l[idx[size_t(i)]]) - mx);
    for (int i = 0; i < k; ++i) {
      experts[t * k + i] = idx[size_t(i)];
      weights[t * k + i] = float(std::exp(double(l[idx[size_t(i)]]) - mx) / sum);
    }
  }
}

}  // namespace gossamer::kernels::ref
