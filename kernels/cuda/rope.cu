// RoPE on CUDA. The table (32 doubles for gpt-oss) travels by value in the kernel
// arguments, so no device copy is needed; angles are formed in double as on the CPU,
// because f32 angles drift by pos * 2^-24 rad at long context.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/rope.h"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kMaxPairs = 128;

struct RopeArgs {
  double inv_freq[kMaxPairs];
  double concentration;
  int half;
  long long heads;
};

// One block per token; threads cover (head, pair).
__global__ void f32_rope_halfsplit(float* x, const int32_t* pos, RopeArgs args) {
  const long long t = blockIdx.x;
  const int half = args.half;
  for (long long k = threadIdx.x; k < args.heads * half; k += blockDim.x) {
    const long long h = k / half;
    const int i = int(k % half);
    double s, c;
    sincos(double(pos[t]) * args.inv_freq[i], &s, &c);
    const float cf = float(c * args.concentration), sf = float(s * args.concentration);
    float* v = x + (t * args.heads + h) * 2 * half;
    const float x1 = v[i], x2 = v[i + half];
    v[i] = x1 * cf - x2 * sf;
    v[i + half] = x2 * cf + x1 * sf;
  }
}

}  // namespace

void rope_apply(void* stream, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table) {
  if (n <= 0) return;
  const int half = table.head_dim / 2;
  if (half > kMaxPairs)
    throw Error(ErrorCode::kUnsupported, "CUDA rope_apply: head_dim above 256");
  RopeArgs args{};
  for (int i = 0; i < half; ++i) args.inv_freq[i] = table.inv_freq[size_t(i)];
  args.concentration = table.concentration;
  args.half = half;
  args.heads = heads;
  f32_rope_halfsplit<<<unsigned(n), 256, 0, as_stream(stream)>>>(x, pos, args);
  check(cudaGetLastError(), "f32_rope_halfsplit launch");
}

}  // namespace gossamer::kernels::cuda
