// Paged attention on CUDA, the simple form: one block per (token, query head), keys in
// chunks of blockDim with an online softmax, the sink as the running maximum's start.
// Flash-decoding (splitting long contexts over blocks) and a tensor-core prefill kernel
// are later steps; this one is the correctness baseline they are checked against.
#include "kernels/cuda/attention.h"
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/reduce.cuh"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kDimsPerThread = kAttentionMaxHeadDim / kThreads;

// The sequence owning token row t: the i with seq_offsets[i] <= t < seq_offsets[i + 1]
// (empty sequences are skipped because offsets never decrease).
__device__ long long sequence_of(const int* seq_offsets, long long n_seqs, long long t) {
  long long lo = 0, hi = n_seqs;  // invariant: seq_offsets[lo] <= t < seq_offsets[hi]
  while (hi - lo > 1) {
    const long long mid = (lo + hi) / 2;
    if (seq_offsets[mid] <= t) lo = mid;
    else hi = mid;
  }
  return lo;
}

struct Geometry {
  long long n_tokens, n_seqs, num_blocks, block_size;
  int n_heads, n_kv_heads, head_dim, window;
  float sm_scale;
};

// Element offset of (position, kv head) in the cache, or -1 when its block is not real.
__device__ long long cache_row(const int* table, long long table_len, long long pos, int kvh, const Geometry& g) {
  const long long logical = pos / g.block_size;
  if (logical >= table_len) return -1;
  const long long phys = table[logical];
  if (phys < 0 || phys >= g.num_blocks) return -1;
  return ((phys * g.block_size + pos % g.block_size) * g.n_kv_heads + kvh) * (long long)g.head_dim;
}

__global__ void kv_write(float* kc, float* vc, const float* k, const float* v, const int* positions,
                         const int* seq_offsets, const int* tables, const int* table_offsets, Geometry g) {
  const long long row = (long long)g.n_kv_heads * g.head_dim;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < g.n_tokens * row;
       i += (long long)gridDim.x * blockDim.x) {
    const long long t = i / row, j = i % row;
    const long long s = sequence_of(seq_offsets, g.n_seqs, t);
    const int* table = tables + table_offsets[s];
    const long long at = cache_row(table, table_offsets[s + 1] - table_offsets[s], positions[t],
                                   int(j / g.head_dim), g);
    if (at < 0) continue;
    kc[at + j % g.head_dim] = k[i];
    vc[at + j % g.head_dim] = v[i];
  }
}

__global__ void attend(float* out, const float* q, const float* kc, const float* vc, const int* positions,
                       const int* seq_offsets, const int* tables, const int* table_offsets, const float* sinks,
                       Geometry g) {
  __shared__ float q_s[kAttentionMaxHeadDim];
  __shared__ float p_s[kThreads];
  __shared__ long long row_s[kThreads];
  const long long t = blockIdx.x;
  const int h = blockIdx.y, tid = threadIdx.x, hd = g.head_dim;
  const int kvh = h / (g.n_heads / g.n_kv_heads);
  const long long s = sequence_of(seq_offsets, g.n_seqs, t);
  const int* table = tables + table_offsets[s];
  const long long table_len = table_offsets[s + 1] - table_offsets[s];
  const long long pos = positions[t];
  const long long first = g.window > 0 ? (pos - g.window + 1 > 0 ? pos - g.window + 1 : 0) : 0;
  const float* qr = q + (t * g.n_heads + h) * hd;
  for (int d = tid; d < hd; d += kThreads) q_s[d] = qr[d];
  __syncthreads();

  // Softmax over [scores..., sink]: start from the sink alone (max = sink, sum = 1).
  float m = sinks[h], l = 1.f;
  float acc[kDimsPerThread];
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) acc[i] = 0.f;

  for (long long c0 = first; c0 <= pos; c0 += kThreads) {
    const long long j = c0 + tid;
    float score = -INFINITY;
    long long at = -1;
    if (j <= pos) at = cache_row(table, table_len, j, kvh, g);
    if (at >= 0) {
      const float* kr = kc + at;
      float dot = 0.f;
      for (int d = 0; d < hd; ++d) dot += q_s[d] * kr[d];
      score = dot * g.sm_scale;
    }
    const float m_new = fmaxf(m, block_max(score));
    const float p = at >= 0 ? expf(score - m_new) : 0.f;
    p_s[tid] = p;
    row_s[tid] = at;
    const float corr = expf(m - m_new);
    l = l * corr + block_sum(p);  // block_sum's barrier also publishes p_s / row_s
    const int keys = int(pos - c0 + 1 < kThreads ? pos - c0 + 1 : kThreads);
#pragma unroll
    for (int i = 0; i < kDimsPerThread; ++i) {
      const int d = tid + i * kThreads;
      if (d >= hd) break;
      float a = acc[i] * corr;
      for (int jj = 0; jj < keys; ++jj)
        if (row_s[jj] >= 0) a += p_s[jj] * vc[row_s[jj] + d];
      acc[i] = a;
    }
    m = m_new;
    __syncthreads();  // p_s / row_s are rewritten by the next chunk
  }
  float* orow = out + (t * g.n_heads + h) * hd;
#pragma unroll
  for (int i = 0; i < kDimsPerThread; ++i) {
    const int d = tid + i * kThreads;
    if (d < hd) orow[d] = acc[i] / l;
  }
}

Geometry geometry(const PagedKv& kv, const VarlenBatch& b, const AttentionShape& s) {
  return Geometry{b.n_tokens, b.n_seqs, kv.num_blocks, kv.block_size, s.n_heads, s.n_kv_heads, s.head_dim, s.window,
                  s.sm_scale};
}

}  // namespace

void kv_cache_write_varlen(void* stream, const PagedKv& kv, const float* k, const float* v, const VarlenBatch& batch,
                           const AttentionShape& shape) {
  if (batch.n_tokens <= 0) return;
  const long long total = batch.n_tokens * (long long)shape.n_kv_heads * shape.head_dim;
  kv_write<<<blocks_for(total, 256), 256, 0, as_stream(stream)>>>(
      static_cast<float*>(kv.k), static_cast<float*>(kv.v), k, v, batch.positions, batch.seq_offsets,
      batch.block_tables, batch.block_table_offsets, geometry(kv, batch, shape));
  check(cudaGetLastError(), "kv_write launch");
}

void attention_varlen(void* stream, float* out, const float* q, const PagedKv& kv, const VarlenBatch& batch,
                      const float* sinks, const AttentionShape& shape) {
  if (shape.head_dim > kAttentionMaxHeadDim)
    throw Error(ErrorCode::kUnsupported, "CUDA attention_varlen: head_dim above 256");
  if (batch.n_tokens <= 0) return;
  const dim3 grid(unsigned(batch.n_tokens), unsigned(shape.n_heads));
  attend<<<grid, kThreads, 0, as_stream(stream)>>>(out, q, static_cast<const float*>(kv.k),
                                                   static_cast<const float*>(kv.v), batch.positions, batch.seq_offsets,
                                                   batch.block_tables, batch.block_table_offsets, sinks,
                                                   geometry(kv, batch, shape));
  check(cudaGetLastError(), "attend launch");
}

}  // namespace gossamer::kernels::cuda
