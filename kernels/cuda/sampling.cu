// Device sampling. Ranking ("higher logit, then lower id") becomes a unique 64-bit key
// per token — the logit's order-preserving bits above the inverted id — so "the first m
// tokens in rank order" is "every key >= K" and both top-k and top-p reduce to finding
// one threshold K, built bit by bit from the top (64 block-wide passes, no sort).
#include <vector>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/reduce.cuh"
#include "kernels/cuda/sampling.h"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kThreads = 1024;

struct RowArgs {
  double inv_temperature;  // 0 = greedy
  double top_p;            // >= 1 = off
  double u;                // the (seed, step) draw in [0, 1)
  long long top_k;         // 0 or >= vocab = off
};

__device__ __forceinline__ unsigned long long rank_key(const float* l, long long i) {
  const unsigned u = __float_as_uint(l[i]);
  const unsigned ordered = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ((unsigned long long)ordered << 32) | (0xffffffffull - (unsigned long long)i);
}

__global__ void __launch_bounds__(kThreads) sample_rows(int* tokens, const float* logits, long long vocab, long long row_stride,
                            const RowArgs* args) {
  __shared__ float best_val[kThreads];
  __shared__ long long best_idx[kThreads];
  __shared__ double chunk_sum[kThreads];
  __shared__ int found;
  const float* l = logits + blockIdx.x * row_stride;
  const RowArgs a = args[blockIdx.x];
  const int tid = threadIdx.x;

  // Argmax, lowest id on ties (each thread's ids ascend; the merge keeps the lower id).
  float bv = -INFINITY;
  long long bi = -1;
  for (long long i = tid; i < vocab; i += kThreads)
    if (bi < 0 || l[i] > bv) bv = l[i], bi = i;
  best_val[tid] = bv;
  best_idx[tid] = bi;
  __syncthreads();
  if (tid == 0) {
    for (int j = 1; j < kThreads; ++j)
      if (best_idx[j] >= 0 && (best_idx[0] < 0 || best_val[j] > best_val[0] ||
                               (best_val[j] == best_val[0] && best_idx[j] < best_idx[0])))
        best_val[0] = best_val[j], best_idx[0] = best_idx[j];
  }
  __syncthreads();
  const long long top = best_idx[0];
  __syncthreads();  // best_idx is reused below: every thread has read `top` first
  if (a.inv_temperature <= 0) {
    if (tid == 0) tokens[blockIdx.x] = int(top);
    return;
  }
  const double mx = double(l[top]) * a.inv_temperature;
  auto weight = [&](long long i) { return exp(double(l[i]) * a.inv_temperature - mx); };

  // Top-k: the largest K with #{key >= K} >= k is the k-th key.
  unsigned long long keep_from = 0;
  if (a.top_k > 0 && a.top_k < vocab) {
    for (int bit = 63; bit >= 0; --bit) {
      const unsigned long long cand = keep_from | (1ull << bit);
      long long count = 0;
      for (long long i = tid; i < vocab; i += kThreads) count += rank_key(l, i) >= cand;
      if (block_sum(count) >= a.top_k) keep_from = cand;
    }
  }
  // Top-p: the smallest rank prefix of the survivors whose weight reaches top_p · total,
  // i.e. the largest K whose set {key >= max(K, keep_from)} still weighs >= the goal.
  if (a.top_p < 1.0) {
    double total = 0;
    for (long long i = tid; i < vocab; i += kThreads)
      if (rank_key(l, i) >= keep_from) total += weight(i);
    const double goal = a.top_p * block_sum(total);
    unsigned long long k = 0;
    for (int bit = 63; bit >= 0; --bit) {
      const unsigned long long cand = k | (1ull << bit);
      const unsigned long long from = cand > keep_from ? cand : keep_from;
      double mass = 0;
      for (long long i = tid; i < vocab; i += kThreads)
        if (rank_key(l, i) >= from) mass += weight(i);
      if (block_sum(mass) >= goal) k = cand;
    }
    if (k > keep_from) keep_from = k;
  }

  // The draw walks the kept tokens in ascending id order: thread j owns ids
  // [j·per, (j+1)·per), so the chunk prefix sums locate the one chunk to walk.
  const long long per = (vocab + kThreads - 1) / kThreads;
  const long long lo = tid * per, hi = lo + per < vocab ? lo + per : vocab;
  double mine = 0;
  long long last_kept = -1;
  for (long long i = lo; i < hi; ++i)
    if (rank_key(l, i) >= keep_from) {
      const double w = weight(i);
      mine += w;
      if (w != 0.0) last_kept = i;
    }
  chunk_sum[tid] = mine;
  best_idx[tid] = last_kept;
  if (tid == 0) found = 0;
  __syncthreads();
  double before = 0, total = 0;
  for (int j = 0; j < kThreads; ++j) {
    if (j < tid) before += chunk_sum[j];
    total += chunk_sum[j];
  }
  const double target = a.u * total;
  if (before <= target && before + mine > target) {
    double cum = before;
    for (long long i = lo; i < hi; ++i) {
      if (rank_key(l, i) < keep_from) continue;
      const double w = weight(i);
      if (w == 0.0) continue;
      cum += w;
      if (cum > target) {
        tokens[blockIdx.x] = int(i);
        found = 1;
        break;
      }
    }
  }
  __syncthreads();
  if (tid == 0 && !found) {  // rounding put the target past the end: the last kept token
    long long last = top;
    for (int j = 0; j < kThreads; ++j)
      if (best_idx[j] >= 0) last = best_idx[j];
    tokens[blockIdx.x] = int(last);
  }
}

}  // namespace

void sample_tokens(void* stream, int32_t* tokens, const float* logits, int64_t n, int64_t vocab, int64_t row_stride,
                   const SamplingParams* params, const uint64_t* steps) {
  if (n <= 0) return;
  const cudaStream_t s = as_stream(stream);
  std::vector<RowArgs> args(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const SamplingParams& p = params[i];
    args[size_t(i)] = RowArgs{p.temperature > 0 ? 1.0 / double(p.temperature) : 0.0, double(p.top_p),
                              sampling_uniform(p.seed, steps[i]), (long long)p.top_k};
  }
  void* dev = nullptr;
  const size_t arg_bytes = args.size() * sizeof(RowArgs), token_bytes = size_t(n) * sizeof(int32_t);
  check(cudaMallocAsync(&dev, arg_bytes + token_bytes, s), "cudaMallocAsync (sampling)");
  auto* dev_args = static_cast<RowArgs*>(dev);
  auto* dev_tokens = reinterpret_cast<int*>(static_cast<char*>(dev) + arg_bytes);
  cudaError_t err = cudaMemcpyAsync(dev_args, args.data(), arg_bytes, cudaMemcpyHostToDevice, s);
  if (err == cudaSuccess) {
    sample_rows<<<unsigned(n), kThreads, 0, s>>>(dev_tokens, logits, vocab, row_stride, dev_args);
    err = cudaGetLastError();
  }
  if (err == cudaSuccess) err = cudaMemcpyAsync(tokens, dev_tokens, token_bytes, cudaMemcpyDeviceToHost, s);
  cudaFreeAsync(dev, s);
  if (err == cudaSuccess) err = cudaStreamSynchronize(s);
  check(err, "sample_tokens");
}

}  // namespace gossamer::kernels::cuda
