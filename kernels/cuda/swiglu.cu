#include "kernels/cuda/check.cuh"
#include "kernels/cuda/swiglu.h"

namespace gossamer::kernels::cuda {
namespace {

__global__ void f32_swiglu_clamped(float* out, const float* gate_up, long long total, float alpha,
                                   float limit) {
  for (long long k = blockIdx.x * (long long)blockDim.x + threadIdx.x; k < total;
       k += (long long)gridDim.x * blockDim.x) {
    const float g = fminf(gate_up[2 * k], limit);  // gate: clamped above only
    const float u = fminf(fmaxf(gate_up[2 * k + 1], -limit), limit);
    out[k] = g / (1.0f + expf(-alpha * g)) * (u + 1.0f);
  }
}

}  // namespace

void swiglu_clamped(void* stream, float* out, const float* gate_up, int64_t n,
                    int64_t intermediate, float alpha, float limit) {
  const long long total = n * intermediate;
  if (total <= 0) return;
  f32_swiglu_clamped<<<blocks_for(total, 256), 256, 0, as_stream(stream)>>>(out, gate_up, total,
                                                                          alpha, limit);
  check(cudaGetLastError(), "f32_swiglu_clamped launch");
}

}  // namespace gossamer::kernels::cuda
