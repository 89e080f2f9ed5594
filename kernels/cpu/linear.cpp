// Dense linear, CPU driver. The weight matrix dominates memory traffic (the 201088x2880
// bf16 unembedding is 1.16 GB), so the work is split by output rows: each thread streams
// its own contiguous run of weight rows from DRAM exactly once per call, whatever the
// number of tokens; the per-ISA kernels (kernels/cpu/dense_rows.h) do the rest.
#include "kernels/cpu/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

// Rows are handed to threads in units of this many (a multiple of every kernel's row
// group, so only the last unit has a remainder).
constexpr int64_t kRowUnit = 16;
// A chunk smaller than this many multiply-adds costs more to hand out than to run.
constexpr int64_t kMinChunkMacs = int64_t(1) << 18;

using RowsKernel = void (*)(const DenseRows&, int64_t, int64_t);

}  // namespace

void pack_pairs(const float* x, int64_t n, int64_t in, int64_t block, float* xp, int64_t xp_stride) {
  const int64_t half = block / 2;
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * in;
    float* dst = xp + t * xp_stride;
    std::fill(dst + in / block * block, dst + xp_stride, 0.f);
    for (int64_t b = 0; b < xp_stride; b += block) {
      const int64_t len = std::min(block, in - b);
      for (int64_t i = 0; i < len; ++i) dst[b + (i & 1) * half + i / 2] = src[b + i];
    }
  }
}

namespace {
std::atomic<int64_t>& dp_max_tokens() {
  static std::atomic<int64_t> n{[] {
    const char* env = std::getenv("GOSSAMER_DENSE_DP_MAX_TOKENS");
    return env && *env ? int64_t(std::atoll(env)) : int64_t(3);
  }()};
  return n;
}
}  // namespace

int64_t fast_dp_max_tokens() { return dp_max_tokens().load(std::memory_order_relaxed); }
void set_fast_dp_max_tokens(int64_t n) { dp_max_tokens().store(n, std::memory_order_relaxed); }

bool linear_fast_rounds_x(Isa isa, int64_t n) {
  return n <= fast_dp_max_tokens() && isa == Isa::kAvx512 && cpu_features().avx512_bf16;
}

bool linear_fast_uses_fp16(Isa isa, int64_t n) {
  // From 32 tokens: each thread converts its weight tile to fp16 once per call, which the
  // FMA kernel's widening beats below that. bench_kernels qkv 5120x2880, 2 threads, GFLOP/s
  // fp16 vs f32: n = 12 216 vs 218-222, n = 16 238-243 vs 213-226, n = 32 262-269 vs
  // 234-237; but 16 sequences decoding on the 20b (gossamer bench --batch 16) ran no faster
  // with fp16 at n = 16 (22.1-22.7 vs 22.9-23.1 tok/s), so it starts at 32.
  constexpr int64_t kFp16MinTokens = 32;
  return n >= kFp16MinTokens && n > fast_dp_max_tokens() && isa == Isa::kAvx512 && cpu_features().avx512_fp16;
}

void linear_with_isa(Isa isa, ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
                     const float* bias, Precision precision) {
  if (!isa_supported(isa, cpu_features()))
    GOSSAMER_THROW(kUnsupported, "linear: this CPU cannot run the {} path", isa_name(isa));
  if (n <= 0 || w.out <= 0) return;
  DenseRows job;
  job.y = y;
  job.y_stride = w.out;
  job.w = w.data;
  job.w_stride = w.stride();
  job.in = w.in;
  job.n = n;
  job.bias = bias;
  RowsKernel kernel = dense_f32_rows_avx2;
  // Scratch for the packed x, reused across calls by each calling thread.
  thread_local std::vector<float> packed;
  thread_local std::vector<uint16_t> rounded;
  thread_local std::vector<float> unscale;
  if (w.dtype == DType::kBF16 && precision == Precision::kFast && linear_fast_uses_fp16(isa, n)) {
    job.x_stride = (w.in + kAvx512Bf16Block - 1) / kAvx512Bf16Block * kAvx512Bf16Block;
    if (rounded.size() < size_t(n * job.x_stride + 32)) rounded.resize(size_t(n * job.x_stride + 32));
    if (unscale.size() < size_t(n)) unscale.resize(size_t(n));
    uint16_t* xh = rounded.data() + (64 - reinterpret_cast<uintptr_t>(rounded.data()) % 64) % 64 / 2;
    round_rows_fp16_avx512(x, n, w.in, xh, job.x_stride, unscale.data());
    job.xh = xh;
    job.x_unscale = unscale.data();
    kernel = dense_fp16_rows_avx512;
  } else if (w.dtype == DType::kBF16 && precision == Precision::kFast && linear_fast_rounds_x(isa, n)) {
    job.x_stride = (w.in + kAvx512Bf16Block - 1) / kAvx512Bf16Block * kAvx512Bf16Block;
    // 64-byte aligned rows (x_stride is whole lines): no x load of the kernel splits a line.
    if (rounded.size() < size_t(n * job.x_stride + 32)) rounded.resize(size_t(n * job.x_stride + 32));
    uint16_t* xb = rounded.data() + (64 - reinterpret_cast<uintptr_t>(rounded.data()) % 64) % 64 / 2;
    round_rows_bf16_avx512(x, n, w.in, xb, job.x_stride);
    job.xb = xb;
    kernel = dense_bf16_dp_rows_avx512;
  } else if (w.dtype == DType::kBF16) {
    const int64_t block = isa == Isa::kAvx512 ? kAvx512PairBlock : kAvx2PairBlock;
    job.x_stride = (w.in + block - 1) / block * block;
    if (packed.size() < size_t(n * job.x_stride)) packed.resize(size_t(n * job.x_stride));
    pack_pairs(x, n, w.in, block, packed.data(), job.x_stride);
    job.x = packed.data();
    kernel = isa == Isa::kAvx512 ? dense_bf16_rows_avx512 : dense_bf16_rows_avx2;
  } else {
    job.x = x;
    job.x_stride = w.in;
  }
  const int64_t units = (w.out + kRowUnit - 1) / kRowUnit;
  const int64_t unit_macs = std::max<int64_t>(1, kRowUnit * w.in * n);
  const int64_t grain = std::max<int64_t>(1, kMinChunkMacs / unit_macs);
  pool.parallel_for(units, grain, [&](int64_t b, int64_t e) {
    kernel(job, b * kRowUnit, std::min(w.out, e * kRowUnit));
  });
}

void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w, const float* bias,
            Precision precision) {
  linear_with_isa(active_isa(), pool, y, x, n, w, bias, precision);
}

void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table, const int32_t* ids,
                      int64_t n) {
  const int64_t dim = table.in, ws = table.stride();
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* o = out + t * dim;
      if (table.dtype == DType::kF32) {
        std::memcpy(o, static_cast<const float*>(table.data) + int64_t(ids[t]) * ws, size_t(dim) * 4);
        continue;
      }
      // bf16 is the top half of an f32: zero-extend and shift.
      const uint16_t* row = static_cast<const uint16_t*>(table.data) + int64_t(ids[t]) * ws;
      int64_t c = 0;
      for (; c + 8 <= dim; c += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c));
        _mm256_storeu_ps(o + c, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)));
      }
      for (; c < dim; ++c) o[c] = bf16_to_f32(bf16{row[c]});
    }
  });
}

}  // namespace gossamer::kernels::cpu
