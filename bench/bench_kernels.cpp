// Micro-benchmark of the CPU kernels at gpt-oss-20b sizes: bf16 GEMV/GEMM, MXFP4 expert
// matmuls, attention decode. Prints a table and writes JSON. Bytes count the weights (or
// K/V) plus activations once; FLOPs are 2 per multiply-add.
//   bench_kernels [--out bench/results/kernels.json] [--threads N] [--seconds S] [--only TEXT]
//   [--precision exact|fast]
//   --only keeps the benchmarks whose call (as written in main) contains TEXT
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <immintrin.h>

#include <nlohmann/json.hpp>

#include "bench/bench_timing.h"
#include "core/dtype.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/attention.h"
#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/grouped_mxfp4.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/sampling.h"

namespace {
using namespace gossamer;
using namespace gossamer::kernels;

struct Result {
  std::string name;
  double ms, bytes, flops;
  double best_ms = 0;  // fastest run: on a shared machine, the least-disturbed one
  double cpu_ms = 0;   // median CPU time per call, all threads together
};

// Set by time_ms for the Result being built.
double g_best_ms = 0, g_cpu_ms = 0;

// CPU time of the whole process: unaffected by time spent descheduled, so it shows the
// kernel's cost on a machine whose other tenants steal the cores.
double g_seconds = 0.5;
std::string g_only;  // --only: keep results whose name contains this

// Median over repeats after a warm-up (at least 5 runs, then until g_seconds elapse).
double time_ms(const std::function<void()>& fn) {
  const auto t = bench::time_repeated(fn, 5, g_seconds, 1000);
  g_best_ms = t.best_ms;
  g_cpu_ms = t.cpu_ms;
  return t.median_ms;
}

std::vector<float> rand_f32(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Result bench_linear_bf16(const Exec& ex, const char* what, int64_t out, int64_t in, int64_t n) {
  std::vector<uint16_t> w(size_t(out * in));
  auto wf = rand_f32(w.size(), 1);
  for (size_t i = 0; i < w.size(); ++i) w[i] = f32_to_bf16(wf[i]).bits;
  auto x = rand_f32(size_t(n * in), 2);
  std::vector<float> y(size_t(n * out));
  DenseWeight dw{w.data(), DType::kBF16, out, in, 0};
  double ms = time_ms([&] { linear(ex, y.data(), x.data(), n, dw, nullptr); });
  char name[128];
  std::snprintf(name, sizeof name, "linear bf16 %s [%lldx%lld] n=%lld", what, (long long)out,
                (long long)in, (long long)n);
  return {name, ms, double(out * in * 2 + n * (in + out) * 4), 2.0 * double(n * out * in)};
}

Result bench_mxfp4(const Exec& ex, const char* what, int64_t out, int64_t in, int64_t n) {
  std::mt19937 rng(3);
  std::vector<uint8_t> blocks(size_t(out * in / 2)), scales(size_t(out * in / 32));
  for (auto& b : blocks) b = uint8_t(rng());
  for (auto& s : scales) s = uint8_t(118 + rng() % 8);
  auto x = rand_f32(size_t(n * in), 4);
  std::vector<float> y(size_t(n * out));
  Mxfp4Weight w{blocks.data(), scales.data(), out, in, 0};
  double ms = time_ms([&] { mxfp4_linear(ex, y.data(), x.data(), n, w, nullptr); });
  char name[128];
  std::snprintf(name, sizeof name, "mxfp4 %s [%lldx%lld] n=%lld", what, (long long)out,
                (long long)in, (long long)n);
  return {name, ms, double(blocks.size() + scales.size() + size_t(n * (in + out) * 4)),
          2.0 * double(n * out * in)};
}

// One decode query at position ctx-1 over a paged cache of ctx positions (block 16).
Result bench_attention(const Exec& ex, int64_t ctx, int window, int nh = 64, int nkv = 8) {
  const int d = 64, bs = 16;
  const int64_t blocks = (ctx + bs - 1) / bs;
  auto k = rand_f32(size_t(blocks * bs * nkv * d), 5), v = rand_f32(k.size(), 6);
  std::vector<int32_t> table(static_cast<size_t>(blocks));
  for (int64_t i = 0; i < blocks; ++i) table[size_t(i)] = int32_t(blocks - 1 - i);
  KvCacheView kv{k.data(), v.data(), bs, table.data()};
  AttentionShape sh{nh, nkv, d, window, 0.125f};
  auto q = rand_f32(size_t(nh * d), 7), sinks = rand_f32(size_t(nh), 8);
  std::vector<float> out(size_t(nh * d));
  int32_t pos = int32_t(ctx - 1);
  double ms = time_ms([&] { attention_sink(ex, out.data(), q.data(), &pos, 1, kv, sinks.data(), sh); });
  const int64_t keys = window > 0 ? std::min<int64_t>(window, ctx) : ctx;
  char name[128];
  std::snprintf(name, sizeof name, "attention decode ctx=%lld window=%d (%dq/%dkv x64)",
                (long long)ctx, window, nh, nkv);
  return {name, ms, double(2 * keys * nkv * d * 4), double(4 * keys * nh * d)};
}

// The engine's attention (attention_varlen): one sequence decoding one token at position
// ctx-1 over a paged cache (block 16, blocks in reverse order), f32 cache in precision
// exact and bf16 in fast, as the worker allocates it. Bytes: the K and V rows read.
Result bench_attention_varlen_decode(const Exec& ex, int64_t ctx, int window, int nh = 64, int nkv = 8) {
  const int d = 64, bs = 16;
  const int64_t blocks = (ctx + bs - 1) / bs, elems = blocks * bs * nkv * d;
  const bool bf16 = ex.fast();
  const size_t es = bf16 ? 2 : 4;
  std::vector<uint8_t> k(size_t(elems) * es), v(k.size());
  {
    const auto kf = rand_f32(size_t(elems), 5), vf = rand_f32(size_t(elems), 6);
    for (int64_t i = 0; i < elems; ++i) {
      if (bf16) {
        const uint16_t kb = f32_to_bf16(kf[size_t(i)]).bits, vb = f32_to_bf16(vf[size_t(i)]).bits;
        std::memcpy(k.data() + i * 2, &kb, 2);
        std::memcpy(v.data() + i * 2, &vb, 2);
      } else {
        std::memcpy(k.data() + i * 4, &kf[size_t(i)], 4);
        std::memcpy(v.data() + i * 4, &vf[size_t(i)], 4);
      }
    }
  }
  std::vector<int32_t> table(static_cast<size_t>(blocks));
  for (int64_t i = 0; i < blocks; ++i) table[size_t(i)] = int32_t(blocks - 1 - i);
  const PagedKv kv{k.data(), v.data(), bf16 ? DType::kBF16 : DType::kF32, blocks, bs};
  const int32_t pos = int32_t(ctx - 1), seq_offsets[2] = {0, 1}, table_offsets[2] = {0, int32_t(blocks)};
  const VarlenBatch batch{1, 1, &pos, seq_offsets, table.data(), table_offsets};
  AttentionShape sh{nh, nkv, d, window, 0.125f};
  auto q = rand_f32(size_t(nh * d), 7), sinks = rand_f32(size_t(nh), 8);
  std::vector<float> out(size_t(nh * d));
  double ms = time_ms([&] { attention_varlen(ex, out.data(), q.data(), kv, batch, sinks.data(), sh); });
  const int64_t keys = window > 0 ? std::min<int64_t>(window, ctx) : ctx;
  char name[128];
  std::snprintf(name, sizeof name, "attention_varlen decode ctx=%lld window=%d (%dq/%dkv x64, %s KV)",
                (long long)ctx, window, nh, nkv, bf16 ? "bf16" : "f32");
  return {name, ms, double(2 * keys * nkv * d * int64_t(es)), double(4 * keys * nh * d)};
}

// One draw over the full gpt-oss vocabulary. Gaussian logits (sigma 2.5) give a broad
// nucleus of thousands of tokens: a harder case than a trained model's usual peak.
Result bench_sampling(float top_p, int top_k) {
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.f, 2.5f);
  std::vector<float> logits(201088);
  for (auto& l : logits) l = dist(rng);
  uint64_t step = 0;
  double ms = time_ms([&] {
    sample_token(logits.data(), int64_t(logits.size()), SamplingParams{1.0f, top_k, top_p, 1}, step++);
  });
  char name[128];
  std::snprintf(name, sizeof name, "sample_token vocab=201088 T=1 top_k=%d top_p=%.2f", top_k, top_p);
  return {name, ms, double(logits.size() * 4), 0.0};
}

// The host reports a 480 MB L3, which holds every matrix above: those runs are
// cache-warm. The two cases below stream 768 MB per call so the data comes from DRAM,
// as the real 12 GB of gpt-oss-20b weights will.
constexpr int64_t kColdBytes = int64_t(768) << 20;

Result bench_read_bandwidth(const Exec& ex) {
  const int64_t n = kColdBytes / 4;
  std::vector<float> a(size_t(n), 1.0f);
  std::vector<float> sink(64);
  double ms = time_ms([&] {
    ex.threads().parallel_for(n / 8, 1 << 14, [&](int64_t b, int64_t e) {
      __m256 s0 = _mm256_setzero_ps(), s1 = s0;
      for (int64_t i = b; i + 2 <= e; i += 2) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(&a[size_t(i * 8)]));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(&a[size_t(i * 8 + 8)]));
      }
      _mm256_storeu_ps(&sink[size_t(b % 7) * 8], _mm256_add_ps(s0, s1));
    });
  });
  return {"DRAM read, 768 MB (roofline)", ms, double(kColdBytes), double(n)};
}

// GEMV cycling through enough copies of the matrix that none is in cache.
Result bench_linear_bf16_cold(const Exec& ex, int64_t out, int64_t in) {
  const int64_t per = out * in, copies = std::max<int64_t>(2, kColdBytes / (per * 2));
  std::vector<uint16_t> w(size_t(per * copies));
  auto wf = rand_f32(size_t(per), 1);
  for (int64_t i = 0; i < per; ++i) w[size_t(i)] = f32_to_bf16(wf[size_t(i)]).bits;
  for (int64_t c = 1; c < copies; ++c)
    std::memcpy(w.data() + c * per, w.data(), size_t(per) * 2);
  auto x = rand_f32(size_t(in), 2);
  std::vector<float> y(static_cast<size_t>(out));
  int64_t next = 0;
  double ms = time_ms([&] {
    DenseWeight dw{w.data() + (next++ % copies) * per, DType::kBF16, out, in, 0};
    linear(ex, y.data(), x.data(), 1, dw, nullptr);
  });
  char name[128];
  std::snprintf(name, sizeof name, "linear bf16 qkv [%lldx%lld] n=1, DRAM", (long long)out,
                (long long)in);
  return {name, ms, double(per * 2 + (in + out) * 4), 2.0 * double(per)};
}

// Fast precision: the experts repacked as the engine does at load
// (kernels/weight_prep.cpp), so the rows time what a fast run executes. Returns the
// packed bytes (empty when the engine would not pack) and sets each view's `packed`.
std::vector<uint8_t> pack_like_the_engine(const Exec& ex, std::vector<Mxfp4Weight>& w) {
  std::vector<uint8_t> bytes;
  if (ex.fast() && cpu::packs_expert_weights(ex.precision)) cpu::pack_mxfp4_views(ex.threads(), w, bytes);
  return bytes;
}
const char* packed_label(const std::vector<uint8_t>& packed) { return packed.empty() ? "" : " packed"; }

// One decode step's experts of one layer: 4 of 32 experts with one row each through
// grouped_mxfp4_swiglu (mlp1, 5760x2880), cycling through enough copies of the 32 experts
// that every call reads its weights from DRAM, as a decode step of the real model does.
// warm = true: always the same 4 experts (35 MB, in L3): what the kernel can stream when
// DRAM is not the limit (on a shared machine DRAM bandwidth is often what others leave).
Result bench_grouped_mxfp4_decode_cold(const Exec& ex, bool warm = false) {
  constexpr int64_t kOut = 5760, kIn = 2880, kExperts = 32, kActive = 4;
  const int64_t block_bytes = kOut * kIn / 2, scale_bytes = kOut * kIn / 32;
  const int64_t copies = std::max<int64_t>(3, kColdBytes / (kExperts * (block_bytes + scale_bytes)));
  std::mt19937 rng(3);
  std::vector<uint8_t> blocks(size_t(copies * kExperts * block_bytes)), scales(size_t(copies * kExperts * scale_bytes));
  for (auto& b : blocks) b = uint8_t(rng());
  for (auto& s : scales) s = uint8_t(118 + rng() % 8);
  std::vector<Mxfp4Weight> w(size_t(copies * kExperts));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = Mxfp4Weight{blocks.data() + i * block_bytes, scales.data() + i * scale_bytes, kOut, kIn, 0};
  const auto packed = pack_like_the_engine(ex, w);
  auto x = rand_f32(size_t(kActive * kIn), 4);
  std::vector<float> y(size_t(kActive * kOut / 2));
  std::vector<int64_t> offsets(kExperts + 1);
  int64_t call = 0;
  double ms = time_ms([&] {
    // Experts 4j..4j+3 (j cycles through all 32) of copy c: one row each, the rest empty.
    const int64_t c = warm ? 0 : (call / 8) % copies, first = warm ? 0 : (call % 8) * 4;
    ++call;
    for (int64_t e = 0; e <= kExperts; ++e) offsets[size_t(e)] = std::clamp<int64_t>(e - first, 0, kActive);
    grouped_mxfp4_swiglu(ex, y.data(), x.data(), ExpertGroups{offsets.data(), kExperts, nullptr},
                         w.data() + c * kExperts, nullptr, 1.702f, 7.f);
  });
  return {std::string("grouped mxfp4 swiglu decode 4 experts x 1 row, ") + (warm ? "L3" : "DRAM") +
              (ex.fast() ? " fast" : "") + packed_label(packed),
          ms,
          double(kActive * (block_bytes + scale_bytes)), 2.0 * double(kActive * kOut * kIn)};
}

// One prefill step's experts of one layer: 512 tokens x top-4 over 32 experts = 64 rows
// per expert through grouped_mxfp4_swiglu (mlp1, 5760x2880) or, down = true,
// grouped_mxfp4_linear (mlp2, 2880x2880): the expert-grouped GEMM.
// rows_per < 64: a batched decode step (16 sequences x top-4 = 2 rows per expert).
Result bench_grouped_mxfp4_prefill(const Exec& ex, bool down = false, int64_t rows_per = 64) {
  const int64_t kOut = down ? 2880 : 5760, kRowsPer = rows_per;
  constexpr int64_t kIn = 2880, kExperts = 32;
  const int64_t block_bytes = kOut * kIn / 2, scale_bytes = kOut * kIn / 32;
  std::mt19937 rng(3);
  std::vector<uint8_t> blocks(size_t(kExperts * block_bytes)), scales(size_t(kExperts * scale_bytes));
  for (auto& b : blocks) b = uint8_t(rng());
  for (auto& s : scales) s = uint8_t(118 + rng() % 8);
  std::vector<Mxfp4Weight> w(static_cast<size_t>(kExperts));
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = Mxfp4Weight{blocks.data() + i * block_bytes, scales.data() + i * scale_bytes, kOut, kIn, 0};
  const auto packed = pack_like_the_engine(ex, w);
  auto x = rand_f32(size_t(kExperts * kRowsPer * kIn), 4);
  std::vector<float> y(size_t(kExperts * kRowsPer * kOut));
  std::vector<int64_t> offsets(kExperts + 1);
  for (int64_t e = 0; e <= kExperts; ++e) offsets[size_t(e)] = e * kRowsPer;
  double ms = time_ms([&] {
    if (down)
      grouped_mxfp4_linear(ex, y.data(), x.data(), ExpertGroups{offsets.data(), kExperts, nullptr}, w.data(), nullptr);
    else
      grouped_mxfp4_swiglu(ex, y.data(), x.data(), ExpertGroups{offsets.data(), kExperts, nullptr}, w.data(),
                           nullptr, 1.702f, 7.f);
  });
  return {std::string("grouped mxfp4 ") + (down ? "down" : "swiglu") + " 32 experts x " + std::to_string(kRowsPer) +
              " rows" + (ex.fast() ? " fast" : "") + packed_label(packed),
          ms,
          double(kExperts * (block_bytes + scale_bytes)), 2.0 * double(kExperts * kRowsPer * kOut * kIn)};
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = "bench/results/kernels.json";
  int threads = 0;
  Precision precision = Precision::kExact;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--out")) out_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) g_seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only")) g_only = argv[i + 1];
    else if (!std::strcmp(argv[i], "--precision")) precision = parse_precision(argv[i + 1]);
  }
  if (threads > 0) ThreadPool::set_global_threads(threads);
  const Exec ex = Exec::cpu(nullptr, precision);
  const int nthreads = ex.threads().size();

  std::vector<Result> results;
  // Runs a benchmark unless --only names something its call does not contain.
  auto add_if = [&](const char* call, auto run) {
    if (std::string(call).find(g_only) == std::string::npos) return;
    Result r = run();
    r.best_ms = g_best_ms;
    r.cpu_ms = g_cpu_ms;
    results.push_back(std::move(r));
  };
  add_if("bench_read_bandwidth(ex)", [&] { return bench_read_bandwidth(ex); });
  add_if("bench_linear_bf16_cold(ex, 5120, 2880)", [&] { return bench_linear_bf16_cold(ex, 5120, 2880); });
  // gpt-oss-20b: qkv 5120x2880, o_proj 2880x4096, router 32x2880, lm_head slice.
  add_if("bench_linear_bf16(ex, \"qkv\", 5120, 2880, 1)", [&] { return bench_linear_bf16(ex, "qkv", 5120, 2880, 1); });
  add_if("bench_linear_bf16(ex, \"o_proj\", 2880, 4096, 1)", [&] { return bench_linear_bf16(ex, "o_proj", 2880, 4096, 1); });
  add_if("bench_linear_bf16(ex, \"qkv\", 5120, 2880, 4)", [&] { return bench_linear_bf16(ex, "qkv", 5120, 2880, 4); });
  add_if("bench_linear_bf16(ex, \"qkv\", 5120, 2880, 16)", [&] { return bench_linear_bf16(ex, "qkv", 5120, 2880, 16); });
  add_if("bench_linear_bf16(ex, \"qkv\", 5120, 2880, 32)", [&] { return bench_linear_bf16(ex, "qkv", 5120, 2880, 32); });
  add_if("bench_linear_bf16(ex, \"qkv\", 5120, 2880, 128)", [&] { return bench_linear_bf16(ex, "qkv", 5120, 2880, 128); });
  // One expert: mlp1 (gate_up) 5760x2880, mlp2 (down) 2880x2880.
  add_if("bench_grouped_mxfp4_decode_cold(ex)", [&] { return bench_grouped_mxfp4_decode_cold(ex); });
  add_if("bench_grouped_mxfp4_decode_warm(ex)", [&] { return bench_grouped_mxfp4_decode_cold(ex, true); });
  add_if("bench_grouped_mxfp4_prefill(ex)", [&] { return bench_grouped_mxfp4_prefill(ex); });
  add_if("bench_grouped_mxfp4_prefill(ex, true)", [&] { return bench_grouped_mxfp4_prefill(ex, true); });
  // Batched decode (16 and 48 sequences x top-4 over 32 experts).
  add_if("bench_grouped_mxfp4_batch(ex, 2)", [&] { return bench_grouped_mxfp4_prefill(ex, false, 2); });
  add_if("bench_grouped_mxfp4_batch(ex, 6)", [&] { return bench_grouped_mxfp4_prefill(ex, false, 6); });
  add_if("bench_grouped_mxfp4_batch(ex, 4)", [&] { return bench_grouped_mxfp4_prefill(ex, false, 4); });
  add_if("bench_mxfp4(ex, \"mlp1\", 5760, 2880, 1)", [&] { return bench_mxfp4(ex, "mlp1", 5760, 2880, 1); });
  add_if("bench_mxfp4(ex, \"mlp2\", 2880, 2880, 1)", [&] { return bench_mxfp4(ex, "mlp2", 2880, 2880, 1); });
  add_if("bench_mxfp4(ex, \"mlp1\", 5760, 2880, 4)", [&] { return bench_mxfp4(ex, "mlp1", 5760, 2880, 4); });
  add_if("bench_mxfp4(ex, \"mlp1\", 5760, 2880, 16)", [&] { return bench_mxfp4(ex, "mlp1", 5760, 2880, 16); });
  add_if("bench_attention(ex, 4096, 0)", [&] { return bench_attention(ex, 4096, 0); });
  add_if("bench_attention(ex, 4096, 128)", [&] { return bench_attention(ex, 4096, 128); });
  // One rank's share at tp = 8:
  add_if("bench_attention(ex, 4096, 0, 8, 1)", [&] { return bench_attention(ex, 4096, 0, 8, 1); });
  // The engine's path, as a decode step calls it.
  add_if("bench_attention_varlen_decode(ex, 4096, 0)", [&] { return bench_attention_varlen_decode(ex, 4096, 0); });
  add_if("bench_attention_varlen_decode(ex, 16384, 0)", [&] { return bench_attention_varlen_decode(ex, 16384, 0); });
  add_if("bench_attention_varlen_decode(ex, 4096, 128)", [&] { return bench_attention_varlen_decode(ex, 4096, 128); });
  add_if("bench_sampling(1.0f, 0)", [&] { return bench_sampling(1.0f, 0); });
  add_if("bench_sampling(0.9f, 0)", [&] { return bench_sampling(0.9f, 0); });
  add_if("bench_sampling(1.0f, 50)", [&] { return bench_sampling(1.0f, 50); });

  std::printf("threads: %d\n", nthreads);
  // Rates are from the best run; the median shows how much the machine disturbed it.
  std::printf("%-52s %10s %10s %10s %10s %10s %12s\n", "kernel", "median ms", "best ms", "cpu ms",
              "GB/s", "GFLOP/s", "GFLOP/cpu-s");
  nlohmann::json j;
  j["threads"] = nthreads;
  j["hardware_concurrency"] = std::thread::hardware_concurrency();
  for (const auto& r : results) {
    const double s = r.best_ms * 1e-3;
    std::printf("%-52s %10.3f %10.3f %10.3f %10.2f %10.2f %12.2f\n", r.name.c_str(), r.ms,
                r.best_ms, r.cpu_ms, r.bytes / s * 1e-9, r.flops / s * 1e-9,
                r.flops / (r.cpu_ms * 1e-3) * 1e-9);
    j["results"].push_back({{"name", r.name}, {"median_ms", r.ms}, {"best_ms", r.best_ms},
                            {"cpu_ms", r.cpu_ms}, {"gflop_per_cpu_s", r.flops / (r.cpu_ms * 1e-3) * 1e-9},
                            {"bytes", r.bytes}, {"flops", r.flops},
                            {"gb_per_s_best", r.bytes / s * 1e-9},
                            {"gflop_per_s_best", r.flops / s * 1e-9}});
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(out_path).parent_path(), ec);
  std::ofstream(out_path) << j.dump(2) << "\n";
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}
