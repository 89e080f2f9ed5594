// MXFP4 expert matmuls on CUDA: a plain SIMT kernel, correctness first (tensor cores are
// a later step). Block (unit tile, group): warp w owns one output unit — one row of W_e
// (linear) or the gate/linear row pair 2i, 2i+1 (SwiGLU) — and walks it once per chunk
// of up to 8 rows of the group, decoding each weight byte once for all of them.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/mxfp4.h"
#include "kernels/cuda/reduce.cuh"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kWarps = 8;
constexpr int kRowChunk = 8;

struct GroupedArgs {
  const unsigned char* blocks[kMaxExpertGroups];
  const unsigned char* scales[kMaxExpertGroups];
  const int64_t* offsets;  // [groups + 1] or nullptr: one group of `rows` rows
  const int* row_index;      // input row of each permuted row, or nullptr
  const float* bias;         // [groups, out] or nullptr
  long long rows;            // only when offsets == nullptr
  long long out, in, stride; // stride in 32-value blocks
  int swiglu;
  float alpha, limit;
};

__constant__ float kFp4Table[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                    -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// Adds Σ_c x_t[c] · W[o, c] for the chunk's rows into acc[t]. Lane l decodes byte (l % 16)
// of block (l / 16) of each pair of 32-value blocks: two elements per lane per step.
__device__ __forceinline__ void dot_rows(float (&acc)[kRowChunk], const unsigned char* blocks,
                                         const unsigned char* scales, long long o, const GroupedArgs& a,
                                         const long long (&xrow)[kRowChunk], int nrows, const float* x,
                                         const float* table) {
  const int lane = threadIdx.x & 31;
  const long long nb = a.in / 32;
  const unsigned char* wb = blocks + o * a.stride * 16;
  const unsigned char* ws = scales + o * a.stride;
  for (long long blk = lane >> 4; blk < nb; blk += 2) {
    const unsigned byte = wb[blk * 16 + (lane & 15)];
    const float scale = ldexpf(1.0f, int(ws[blk]) - 127);
    const float w0 = table[byte & 15u] * scale, w1 = table[byte >> 4] * scale;
    const long long c = blk * 32 + 2 * (lane & 15);
#pragma unroll
    for (int t = 0; t < kRowChunk; ++t) {
      if (t >= nrows) break;
      const float* xr = x + xrow[t] * a.in + c;
      acc[t] += xr[0] * w0 + xr[1] * w1;
    }
  }
}

__global__ void grouped_mxfp4_kernel(float* y, const float* x, GroupedArgs a) {
  __shared__ float table[16];
  if (threadIdx.x < 16) table[threadIdx.x] = kFp4Table[threadIdx.x];
  __syncthreads();
  const int e = blockIdx.y, lane = threadIdx.x & 31;
  const long long unit = (long long)blockIdx.x * kWarps + (threadIdx.x >> 5);
  const long long units = a.swiglu ? a.out / 2 : a.out;
  if (unit >= units) return;  // no block-level sync after this point
  const long long r0 = a.offsets ? a.offsets[e] : 0, r1 = a.offsets ? a.offsets[e + 1] : a.rows;
  const float* bias = a.bias ? a.bias + e * a.out : nullptr;
  for (long long base = r0; base < r1; base += kRowChunk) {
    const int nrows = int(r1 - base < kRowChunk ? r1 - base : kRowChunk);
    long long xrow[kRowChunk];
#pragma unroll
    for (int t = 0; t < kRowChunk; ++t)
      xrow[t] = t < nrows ? (a.row_index ? (long long)a.row_index[base + t] : base + t) : 0;
    float acc[kRowChunk], acc2[kRowChunk];
#pragma unroll
    for (int t = 0; t < kRowChunk; ++t) acc[t] = acc2[t] = 0.f;
    if (a.swiglu) {
      dot_rows(acc, a.blocks[e], a.scales[e], 2 * unit, a, xrow, nrows, x, table);
      dot_rows(acc2, a.blocks[e], a.scales[e], 2 * unit + 1, a, xrow, nrows, x, table);
    } else {
      dot_rows(acc, a.blocks[e], a.scales[e], unit, a, xrow, nrows, x, table);
    }
#pragma unroll
    for (int t = 0; t < kRowChunk; ++t) {
      if (t >= nrows) break;
      const float s = warp_sum(acc[t]);
      const float s2 = a.swiglu ? warp_sum(acc2[t]) : 0.f;
      if (lane != 0) continue;
      const long long r = base + t;
      if (!a.swiglu) {
        y[r * a.out + unit] = s + (bias ? bias[unit] : 0.f);
        continue;
      }
      const float gate = fminf(s + (bias ? bias[2 * unit] : 0.f), a.limit);  // clamped above only
      const float lin = fminf(fmaxf(s2 + (bias ? bias[2 * unit + 1] : 0.f), -a.limit), a.limit);
      y[r * (a.out / 2) + unit] = gate / (1.0f + expf(-a.alpha * gate)) * (lin + 1.0f);
    }
  }
}

void launch(cudaStream_t s, float* y, const float* x, const GroupedArgs& a, long long groups) {
  const long long units = a.swiglu ? a.out / 2 : a.out;
  if (groups <= 0 || units <= 0) return;
  const dim3 grid(unsigned((units + kWarps - 1) / kWarps), unsigned(groups));
  grouped_mxfp4_kernel<<<grid, kWarps * 32, 0, s>>>(y, x, a);
  check(cudaGetLastError(), "grouped_mxfp4_kernel launch");
}

}  // namespace

void grouped_mxfp4(void* stream, float* y, const float* x, const ExpertGroups& groups, const Mxfp4Weight* weights,
                   const float* bias, const SwigluParams* swiglu) {
  if (groups.groups <= 0) return;
  if (groups.groups > kMaxExpertGroups)
    throw Error(ErrorCode::kUnsupported, "CUDA grouped_mxfp4: more than 128 expert groups in one call");
  GroupedArgs a{};
  for (int64_t e = 0; e < groups.groups; ++e) {
    if (weights[e].stride() != weights[0].stride())
      throw Error(ErrorCode::kUnsupported, "CUDA grouped_mxfp4: experts with different block strides");
    a.blocks[e] = weights[e].blocks;
    a.scales[e] = weights[e].scales;
  }
  a.offsets = groups.offsets;
  a.row_index = groups.row_index;
  a.bias = bias;
  a.out = weights[0].out;
  a.in = weights[0].in;
  a.stride = weights[0].stride();
  a.swiglu = swiglu != nullptr;
  a.alpha = swiglu ? swiglu->alpha : 0.f;
  a.limit = swiglu ? swiglu->limit : 0.f;
  launch(as_stream(stream), y, x, a, groups.groups);
}

void mxfp4_linear(void* stream, float* y, const float* x, int64_t n, const Mxfp4Weight& w, const float* bias) {
  if (n <= 0) return;
  GroupedArgs a{};
  a.blocks[0] = w.blocks;
  a.scales[0] = w.scales;
  a.rows = n;
  a.bias = bias;
  a.out = w.out;
  a.in = w.in;
  a.stride = w.stride();
  launch(as_stream(stream), y, x, a, 1);
}

}  // namespace gossamer::kernels::cuda
