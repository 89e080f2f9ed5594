#pragma once
// Warp and block reductions shared by the CUDA kernels. Block versions need blockDim.x a
// multiple of 32 (at most 1024) and every thread of the block to call them.
#include <cuda_runtime.h>

namespace gossamer::kernels::cuda {

template <typename T>  // float, double, int, long long
__device__ __forceinline__ T warp_sum(T v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int off = 16; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

// Sum over the block; every thread gets the result. Sums in a fixed order (warps, then
// warp totals in warp order), so a fixed block size gives a fixed result.
template <typename T>
__device__ T block_sum(T v) {
  __shared__ T partial[32];
  __syncthreads();  // partial may still be read by a previous call
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  T total = 0;
  const int warps = int(blockDim.x + 31) >> 5;
  for (int w = 0; w < warps; ++w) total += partial[w];
  return total;
}

__device__ inline float block_max(float v) {
  __shared__ float partial[32];
  __syncthreads();
  v = warp_max(v);
  if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  float m = partial[0];
  const int warps = int(blockDim.x + 31) >> 5;
  for (int w = 1; w < warps; ++w) m = fmaxf(m, partial[w]);
  return m;
}

// bf16 bits -> f32 (exact).
__device__ __forceinline__ float bf16_to_f32(unsigned short bits) { return __uint_as_float(unsigned(bits) << 16); }

}  // namespace gossamer::kernels::cuda
