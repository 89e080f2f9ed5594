// Attention of one layer for a whole step at gpt-oss-20b shapes (64 query heads, 8 KV heads,
// head_dim 64, KV blocks of 16): the per-sequence path (kv_cache_write + attention_sink once
// per sequence, what worker/attention_layer.cpp did before) against the batched path
// (kv_cache_write_varlen + attention_varlen, one call each for all sequences). Both include
// the K/V write of the step's rows. Prints a table and writes JSON.
// Also times the batched path over a bf16 copy of the cache (runtime.precision fast's
// KV cache: half the bytes per key), interleaved with the f32 one.
//   bench_attention [--out bench/results/attention.json] [--threads N] [--seconds S] [--old 0]
// --old 0 skips the per-sequence path (slow; the f32-vs-bf16 comparison does not need it).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_timing.h"
#include "core/dtype.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/attention.h"

namespace {
using namespace gossamer;
using namespace gossamer::kernels;

double g_seconds = 1.0;
bool g_old = true;

// Median and best wall time (at least 3 runs, then until g_seconds elapse) and the
// median process CPU time.
bench::Timing time_it(const std::function<void()>& fn) { return bench::time_repeated(fn, 3, g_seconds, 500); }

// One step: `seqs` sequences, each with `cached` positions in the cache and `fed` new tokens.
struct Scenario {
  std::string name;
  int seqs, cached, fed, window;
};

struct Row {
  std::string name;
  double flops;
  bench::Timing old_path, new_path, bf16_path;
};

Row run(const Exec& ex, const Scenario& sc) {
  const int nh = 64, nkv = 8, d = 64, bs = 16;
  const AttentionShape shape{nh, nkv, d, sc.window, 1.0f / 8.0f};
  const int64_t len = sc.cached + sc.fed, blocks_per_seq = (len + bs - 1) / bs;
  const int64_t num_blocks = blocks_per_seq * sc.seqs, row = int64_t(nkv) * d;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  auto random = [&](size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = dist(rng);
    return v;
  };
  auto k_cache = random(size_t(num_blocks * bs * row)), v_cache = random(k_cache.size());
  const int64_t n = int64_t(sc.seqs) * sc.fed;
  auto q = random(size_t(n * nh * d)), k = random(size_t(n * row)), v = random(size_t(n * row));
  auto sinks = random(size_t(nh));
  std::vector<float> out(q.size());
  // Sequence i owns blocks [i * blocks_per_seq, (i + 1) * blocks_per_seq), interleaved in
  // memory order so neighbouring logical blocks are not neighbours in the cache.
  std::vector<int32_t> tables, table_offsets{0}, seq_offsets{0}, positions;
  for (int s = 0; s < sc.seqs; ++s) {
    for (int64_t b = 0; b < blocks_per_seq; ++b) tables.push_back(int32_t(b * sc.seqs + s));
    table_offsets.push_back(int32_t(tables.size()));
    for (int p = sc.cached; p < len; ++p) positions.push_back(p);
    seq_offsets.push_back(int32_t(positions.size()));
  }
  const PagedKv kv{k_cache.data(), v_cache.data(), DType::kF32, num_blocks, bs};
  std::vector<uint16_t> k_bf16(k_cache.size()), v_bf16(v_cache.size());
  for (size_t i = 0; i < k_cache.size(); ++i) {
    k_bf16[i] = f32_to_bf16(k_cache[i]).bits;
    v_bf16[i] = f32_to_bf16(v_cache[i]).bits;
  }
  const PagedKv kv_bf16{k_bf16.data(), v_bf16.data(), DType::kBF16, num_blocks, bs};
  const VarlenBatch batch{n, sc.seqs, positions.data(), seq_offsets.data(), tables.data(), table_offsets.data()};

  Row r;
  r.name = sc.name;
  // 2 flops per multiply-add, Q Kᵀ and P V: 4 d per (query head, visible key).
  double keys = 0;
  for (int p = sc.cached; p < len; ++p) keys += sc.window > 0 ? std::min(p + 1, sc.window) : p + 1;
  r.flops = 4.0 * d * nh * keys * sc.seqs;
  if (g_old) r.old_path = time_it([&] {
    for (int s = 0; s < sc.seqs; ++s) {
      const KvCacheView view{k_cache.data(), v_cache.data(), bs, tables.data() + table_offsets[size_t(s)]};
      const int64_t t0 = seq_offsets[size_t(s)];
      kv_cache_write(ex, view, k.data() + t0 * row, v.data() + t0 * row, positions.data() + t0, sc.fed, shape);
      attention_sink(ex, out.data() + t0 * nh * d, q.data() + t0 * nh * d, positions.data() + t0, sc.fed, view,
                     sinks.data(), shape);
    }
  });
  r.new_path = time_it([&] {
    kv_cache_write_varlen(ex, kv, k.data(), v.data(), batch, shape);
    attention_varlen(ex, out.data(), q.data(), kv, batch, sinks.data(), shape);
  });
  r.bf16_path = time_it([&] {
    kv_cache_write_varlen(ex, kv_bf16, k.data(), v.data(), batch, shape);
    attention_varlen(ex, out.data(), q.data(), kv_bf16, batch, sinks.data(), shape);
  });
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = "bench/results/attention.json";
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--out")) out_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) g_seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--old")) g_old = std::atoi(argv[i + 1]) != 0;
  }
  if (threads > 0) ThreadPool::set_global_threads(threads);
  const Exec ex = Exec::cpu();
  const std::vector<Scenario> scenarios = {
      {"prefill 512", 1, 0, 512, 0},
      {"prefill 2048", 1, 0, 2048, 0},
      {"prefill 2048, window 128", 1, 0, 2048, 128},
      {"16 decodes, ctx 512", 16, 511, 1, 0},
      {"16 decodes, ctx 4096", 16, 4095, 1, 0},
      {"16 decodes, ctx 4096, window 128", 16, 4095, 1, 128},
      {"1 decode, ctx 4096", 1, 4095, 1, 0},
  };
  std::printf("threads: %d   (64 q heads, 8 kv heads, head_dim 64, block 16; new = batched, f32 KV)\n",
              ex.threads().size());
  std::printf("%-36s %10s %10s %10s %10s %10s %9s %11s %11s\n", "step", "old ms", "new ms", "old best", "new best",
              "bf16KV ms", "speedup", "new GFLOP/s", "bf16 GFLOP/s");
  nlohmann::json j;
  j["threads"] = ex.threads().size();
  for (const auto& sc : scenarios) {
    const Row r = run(ex, sc);
    std::printf("%-36s %10.3f %10.3f %10.3f %10.3f %10.3f %8.2fx %11.2f %11.2f\n", r.name.c_str(),
                r.old_path.median_ms, r.new_path.median_ms, r.old_path.best_ms, r.new_path.best_ms,
                r.bf16_path.median_ms, r.old_path.median_ms / r.new_path.median_ms,
                r.flops / (r.new_path.best_ms * 1e-3) * 1e-9, r.flops / (r.bf16_path.best_ms * 1e-3) * 1e-9);
    j["results"].push_back({{"step", r.name},
                            {"flops", r.flops},
                            {"old_median_ms", r.old_path.median_ms},
                            {"old_best_ms", r.old_path.best_ms},
                            {"old_cpu_ms", r.old_path.cpu_ms},
                            {"new_median_ms", r.new_path.median_ms},
                            {"new_best_ms", r.new_path.best_ms},
                            {"new_cpu_ms", r.new_path.cpu_ms},
                            {"bf16_kv_median_ms", r.bf16_path.median_ms},
                            {"bf16_kv_best_ms", r.bf16_path.best_ms}});
  }
  std::filesystem::create_directories(std::filesystem::path(out_path).parent_path());
  std::ofstream(out_path) << j.dump(2) << "\n";
  std::printf("wrote %s\n", out_path.c_str());
}
