// Router, CPU. k is tiny (4 of 32), so a selection by insertion into a k-long sorted list
// beats any sort; comparing with strict '>' keeps the earlier (lower) index on ties.
#include "kernels/cpu/router.h"

#include <cmath>

#include "core/error.h"

namespace gossamer::kernels::cpu {

void router_topk_softmax(ThreadPool& pool, const float* logits, int64_t n, int n_experts, int k,
                         int32_t* experts, float* weights) {
  // The k-long list lives on the stack: the router runs every layer of every step.
  constexpr int kMaxK = 64;
  GOSSAMER_CHECK(k >= 1 && k <= kMaxK, "router_topk_softmax: k = {} outside [1, {}]", k, kMaxK);
  pool.parallel_for(n, 64, [&](int64_t b, int64_t e) {
    float val[kMaxK];
    int32_t idx[kMaxK];
    for (int64_t t = b; t < e; ++t) {
      const float* l = logits + t * n_experts;
      int filled = 0;
      for (int i = 0; i < n_experts; ++i) {
        if (filled == k && !(l[i] > val[k - 1])) continue;
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && l[i] > val[pos - 1]) {
          val[pos] = val[pos - 1];
          idx[pos] = idx[pos - 1];
          --pos;
        }
        val[pos] = l[i];
        idx[pos] = i;
      }
      float sum = 0;
      for (int i = 0; i < k; ++i) sum += std::exp(val[i] - val[0]);
      for (int i = 0; i < k; ++i) {
        experts[t * k + i] = idx[i];
        weights[t * k + i] = std::exp(val[i] - val[0]) / sum;
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
