#include "kernels/cuda/check.cuh"
#include "kernels/cuda/elementwise.h"

namespace gossamer::kernels::cuda {
namespace {

__global__ void f32_axpy(float* y, float a, const float* x, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x)
    y[i] += a * x[i];
}

}  // namespace

void add_inplace(void* stream, float* y, const float* x, int64_t n) {
  if (n <= 0) return;
  // a = 1 is exact: y + 1*x rounds like y + x even when contracted to an FMA.
  f32_axpy<<<blocks_for(n, 256), 256, 0, as_stream(stream)>>>(y, 1.0f, x, n);
  check(cudaGetLastError(), "f32_axpy launch");
}

void axpy(void* stream, float* y, float a, const float* x, int64_t n) {
  if (n <= 0) return;
  f32_axpy<<<blocks_for(n, 256), 256, 0, as_stream(stream)>>>(y, a, x, n);
  check(cudaGetLastError(), "f32_axpy launch");
}

}  // namespace gossamer::kernels::cuda
