// Router, CPU. k is tiny (4 of 32), so a selection by insertion into a k-long sorted list
// beats any sort; comparing with strict '>' keeps the earlier (lower) index on ties.
#include "kernels/cpu/router.h"

#include <cmath>
#include <vector>

namespace gossamer::kernels::cpu {

void router_topk_softmax(ThreadPool& pool, const float* logits, int64_t n, int n_experts, int k,
                         int32_t* experts, float* weights) {
  pool.parallel_for(n, 64, [&](int64_t b, int64_t e) {
    std::vector<float> val(static_cast<size_t>(k));
    std::vector<int32_t> idx(static_cast<size_t>(k));
    for (int64_t t = b; t < e; ++t) {
      const float* l = logits + t * n_experts;
      int filled = 0;
      for (int i = 0; i < n_experts; ++i) {
        if (filled == k && !(l[i] > val[size_t(k - 1)])) continue;
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && l[i] > val[size_t(pos - 1)]) {
          val[size_t(pos)] = val[size_t(pos - 1)];
          idx[size_t(pos)] = idx[size_t(pos - 1)];
          --pos;
        }
        val[size_t(pos)] = l[i];
        idx[size_t(pos)] = i;
      }
      float sum = 0;
      for (int i = 0; i < k; ++i) sum += std::exp(val[size_t(i)] - val[0]);
      for (int i = 0; i < k; ++i) {
        experts[t * k + i] = idx[size_t(i)];
        weights[t * k + i] = std::exp(val[size_t(i)] - val[0]) / sum;
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
