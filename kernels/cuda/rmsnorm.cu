// RMSNorm on CUDA: one block per row, warp-shuffle then shared-memory reduction.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/rmsnorm.h"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void f32_rmsnorm(float* y, const float* x, const float* gain, long long dim, float eps) {
  const float* xr = x + blockIdx.x * dim;
  float* yr = y + blockIdx.x * dim;
  float ss = 0.f;
  for (long long i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
  for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
  __shared__ float warp_sums[kThreads / 32];
  __shared__ float inv;
  if ((threadIdx.x & 31) == 0) warp_sums[threadIdx.x >> 5] = ss;
  __syncthreads();
  if (threadIdx.x == 0) {
    float t = 0.f;
    for (int w = 0; w < kThreads / 32; ++w) t += warp_sums[w];
    inv = rsqrtf(t / float(dim) + eps);
  }
  __syncthreads();
  for (long long i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i] * inv * gain[i];
}

}  // namespace

void rmsnorm(void* stream, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps) {
  if (n <= 0) return;
  f32_rmsnorm<<<unsigned(n), kThreads, 0, as_stream(stream)>>>(y, x, gain, dim, eps);
  check(cudaGetLastError(), "f32_rmsnorm launch");
}

}  // namespace gossamer::kernels::cuda
