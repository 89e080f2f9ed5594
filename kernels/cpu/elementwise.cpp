#include "kernels/cpu/elementwise.h"

namespace gossamer::kernels::cpu {

// Below ~64K elements a thread hand-off costs more than the loop itself.
constexpr int64_t kGrain = 1 << 16;

void add_inplace(ThreadPool& pool, float* y, const float* x, int64_t n) {
  pool.parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] += x[i];
  });
}

void axpy(ThreadPool& pool, float* y, float a, const float* x, int64_t n) {
  pool.parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] += a * x[i];
  });
}

}  // namespace gossamer::kernels::cpu
