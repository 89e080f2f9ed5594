#include "kernels/cpu/rmsnorm.h"

#include <cmath>

namespace gossamer::kernels::cpu {
namespace {

void rmsnorm_row(float* y, const float* x, const float* gain, int64_t dim, float eps) {
  // Eight partial sums let the compiler keep one ymm accumulator (f32 is plenty: the
  // reference itself normalizes in f32).
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= dim; i += 8)
    for (int j = 0; j < 8; ++j) part[j] += x[i + j] * x[i + j];
  float ss = 0;
  for (int j = 0; j < 8; ++j) ss += part[j];
  for (; i < dim; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / float(dim) + eps);
  for (int64_t k = 0; k < dim; ++k) y[k] = x[k] * inv * gain[k];
}

}  // namespace

void rmsnorm(ThreadPool& pool, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps) {
  pool.parallel_for(n, 4, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) rmsnorm_row(y + t * dim, x + t * dim, gain, dim, eps);
  });
}

}  // namespace gossamer::kernels::cpu
