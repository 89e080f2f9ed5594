// MoE routing and dispatch on CUDA. Bookkeeping kernels are small and simple: their cost
// is a few microseconds next to the expert GEMMs.
#include "kernels/cuda/check.cuh"
#include "kernels/cuda/moe.h"

namespace gossamer::kernels::cuda {
namespace {

// One thread per token: k rounds of "largest not yet chosen" (ascending scan with a
// strict >, so ties go to the lower expert, as the reference's stable sort), then the
// softmax over the k picks in double, as kernels/ref/router.cpp.
__global__ void router_topk(const float* logits, long long n, int n_experts, int k, int* experts, float* weights) {
  const long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x;
  if (t >= n) return;
  const float* l = logits + t * n_experts;
  int pick[kMaxTopK];
  for (int i = 0; i < k; ++i) {
    int best = -1;
    for (int e = 0; e < n_experts; ++e) {
      bool taken = false;
      for (int j = 0; j < i; ++j) taken |= pick[j] == e;
      if (!taken && (best < 0 || l[e] > l[best])) best = e;
    }
    pick[i] = best;
  }
  const double mx = l[pick[0]];
  double sum = 0;
  for (int i = 0; i < k; ++i) sum += exp(double(l[pick[i]]) - mx);
  for (int i = 0; i < k; ++i) {
    experts[t * k + i] = pick[i];
    weights[t * k + i] = float(exp(double(l[pick[i]]) - mx) / sum);
  }
}

// One block does the whole stable counting sort; warp w owns local experts w, w + warps, ...
// and scans the pairs 32 at a time in order, so rows of an expert keep (token, slot) order.
constexpr int kPermuteThreads = 1024;

__global__ void __launch_bounds__(kPermuteThreads) permute_rows(const int* experts, long long pairs, int k, long long first, long long count,
                             int64_t* offsets, int* row_token, int* row_slot, int* pair_row) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  if (pair_row)
    for (long long p = threadIdx.x; p < pairs; p += blockDim.x) pair_row[p] = -1;
  // Pass 1: rows per expert into offsets[e + 1].
  for (long long e = warp; e < count; e += warps) {
    long long rows = 0;
    for (long long base = 0; base < pairs; base += 32) {
      const long long p = base + lane;
      const bool match = p < pairs && experts[p] == first + e;
      rows += __popc(__ballot_sync(0xffffffffu, match));
    }
    if (lane == 0) offsets[e + 1] = rows;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    offsets[0] = 0;
    for (long long e = 0; e < count; ++e) offsets[e + 1] += offsets[e];
  }
  __syncthreads();
  // Pass 2: each match's row = the expert's first row + matches before it.
  for (long long e = warp; e < count; e += warps) {
    long long row = offsets[e];
    for (long long base = 0; base < pairs; base += 32) {
      const long long p = base + lane;
      const bool match = p < pairs && experts[p] == first + e;
      const unsigned mask = __ballot_sync(0xffffffffu, match);
      if (match) {
        const long long r = row + __popc(mask & ((1u << lane) - 1u));
        row_token[r] = int(p / k);
        if (row_slot) row_slot[r] = int(p % k);
        if (pair_row) pair_row[p] = int(r);
      }
      row += __popc(mask);
    }
  }
}

// gathered[r, :] = x[row_token[r], :] for r < offsets[count] (read on the device).
__global__ void gather_permuted(float* gathered, const float* x, const int* row_token, const int64_t* offsets,
                                long long count, long long max_rows, long long H) {
  const long long rows = offsets[count];
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < max_rows * H;
       i += (long long)gridDim.x * blockDim.x) {
    const long long r = i / H;
    if (r < rows) gathered[i] = x[(long long)row_token[r] * H + i % H];
  }
}

__global__ void combine(float* out, const float* y, const int* pair_row, const float* weights, long long n, int k,
                        long long H) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n * H; i += (long long)gridDim.x * blockDim.x) {
    const long long t = i / H, h = i % H;
    float acc = 0.f;
    for (int s = 0; s < k; ++s) {
      const long long p = t * k + s;
      const long long r = pair_row ? (long long)pair_row[p] : p;
      if (r < 0) continue;
      acc += weights[p] * y[r * H + h];
    }
    out[i] = acc;
  }
}

__global__ void unpermute(float* out, const float* y, const int* pair_row, long long pairs, long long H) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < pairs * H;
       i += (long long)gridDim.x * blockDim.x) {
    const long long r = pair_row[i / H];
    out[i] = r < 0 ? 0.f : y[r * H + i % H];
  }
}

}  // namespace

void router_topk_softmax(void* stream, const float* logits, int64_t n, int n_experts, int k, int32_t* experts,
                         float* weights) {
  if (k > kMaxTopK) throw Error(ErrorCode::kUnsupported, "CUDA router_topk_softmax: k above 32");
  if (n <= 0) return;
  router_topk<<<unsigned((n + 127) / 128), 128, 0, as_stream(stream)>>>(logits, n, n_experts, k, experts, weights);
  check(cudaGetLastError(), "router_topk launch");
}

int64_t moe_permute(void* stream, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x, int64_t H) {
  const cudaStream_t s = as_stream(stream);
  const long long pairs = (long long)n * k;
  permute_rows<<<1, kPermuteThreads, 0, s>>>(experts, pairs, k, local.first, local.count, out.offsets, out.row_token,
                                  out.row_slot, out.pair_row);
  check(cudaGetLastError(), "permute_rows launch");
  if (out.gathered && pairs > 0) {
    gather_permuted<<<blocks_for(pairs * H, 256), 256, 0, s>>>(out.gathered, x, out.row_token, out.offsets,
                                                              local.count, pairs, H);
    check(cudaGetLastError(), "gather_permuted launch");
  }
  long long rows = 0;
  check(cudaMemcpyAsync(&rows, out.offsets + local.count, sizeof(rows), cudaMemcpyDeviceToHost, s),
        "moe_permute row count");
  check(cudaStreamSynchronize(s), "moe_permute synchronize");
  return rows;
}

void moe_combine(void* stream, float* out, const float* y, const int32_t* pair_row, const float* weights, int64_t n,
                 int k, int64_t H) {
  if (n <= 0) return;
  combine<<<blocks_for(n * H, 256), 256, 0, as_stream(stream)>>>(out, y, pair_row, weights, n, k, H);
  check(cudaGetLastError(), "combine launch");
}

void moe_unpermute(void* stream, float* out, const float* y, const int32_t* pair_row, int64_t pairs, int64_t H) {
  if (pairs <= 0) return;
  unpermute<<<blocks_for(pairs * H, 256), 256, 0, as_stream(stream)>>>(out, y, pair_row, pairs, H);
  check(cudaGetLastError(), "unpermute launch");
}

}  // namespace gossamer::kernels::cuda
