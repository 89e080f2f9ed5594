// Batched paged attention on the CPU, flash-attention style.
//
// Work item = (sequence, a run of KV heads, tile of that sequence's query tokens[, key
// range]). For each KV head its query rows are the tile's tokens times the GQA group's
// heads, so every K/V row loaded from the cache serves all of them. A prefill tile takes
// one KV head and 64 / group tokens; a decode (one token) takes up to 64 / group KV heads,
// so it walks whole cache rows (all heads of a position are adjacent) instead of striding.
// Keys go by in tiles of tile::kKeyTile aligned to multiples of it (one KV block at the
// default block size): the K tile is transposed into scratch, S = Q Kᵀ is register-blocked
// over query rows, the softmax is online (running max and sum per row, O rescaled when
// the max grows) and O += P V is register-blocked again. The sink joins the denominator
// only at the end. Keys outside an item's range are never loaded: their rows read as zeros.
//
// Items are sorted largest first and claimed one at a time from a shared counter, so a
// long causal prefill (items of very different sizes) and a batch of decodes (many equal
// small items) both keep every thread busy. When a step has too few items for the pool
// (one long decode with one KV head per rank), the key range is split as well and the
// partial softmaxes merged afterwards (flash-decoding).
//
// A bf16 cache (Precision::kFast) holds half the bytes: each key tile's K and V rows of a
// head are widened (exactly) into f32 scratch as they are first touched, and the f32 tile
// code runs on them unchanged; the widening is a shift per value next to the 2 d FMAs
// per row and key. On AVX-512 the key tile is widened and transposed in one step, and the
// scores and value updates run 16 lanes wide (kernels/cpu/attention_tile_avx512.h), with
// the same results bit for bit. Writes (kv_cache_write_varlen.cpp) round to bf16 (nearest even).
//
// Memory: per-thread tile scratch and the per-call plan live in thread_local buffers that
// grow to the largest shape seen and are then reused: no allocation on the steady path.
#include "kernels/cpu/attention_varlen.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/attention_tile.h"
#include "kernels/cpu/attention_tile_avx512.h"
#include "kernels/cpu/isa.h"

namespace gossamer::kernels::cpu {
namespace {
using tile::kKeyTile;

constexpr int64_t kRowsPerItem = 64;      // query rows (tokens x group heads) per work item
constexpr int64_t kMinKeysPerVarlenSplit = 256;  // below this a key split costs more than it gains
constexpr int64_t kRowBlock = 4;           // query rows per register block

// A 64-byte-aligned float buffer that only ever grows.
class GrowingBuffer {
 public:
  ~GrowingBuffer() { std::free(data_); }
  float* get(size_t floats) {
    if (floats > cap_) {
      std::free(data_);
      cap_ = (floats + 15) / 16 * 16;
      data_ = static_cast<float*>(std::aligned_alloc(64, cap_ * sizeof(float)));
      if (!data_) throw std::bad_alloc();
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  size_t cap_ = 0;
};

inline int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

struct WorkItem {
  int32_t seq, kv_head, kv_heads, tok_begin, tok_end;  // KV heads [kv_head, kv_head + kv_heads)
  int32_t key_begin, key_end;  // keys [key_begin, key_end) of this piece
  int32_t piece;               // partial-result slot, -1 = whole range: write `out` directly
  int64_t cost;
};

// A query tile whose key range was split: its pieces' partial results get merged.
struct MergeItem {
  int32_t kv_head, kv_heads, tok_begin, tok_end, first_piece, pieces;
};

// Everything run_item needs, behind one pointer (the thread pool's std::function then
// stores the lambda inline instead of allocating).
struct Job {
  const float* q;
  float* out;
  const void* k;  // [blocks, block_size, nkv, d] f32 or bf16 (`bf16`)
  const void* v;
  bool bf16;
  bool avx512;  // scores and value updates on the AVX-512 tiles (kernels/cpu/attention_tile_avx512.h)
  const int32_t* positions;
  const int32_t* tables;
  const int32_t* table_offsets;
  const float* sinks;
  int64_t nh, nkv, group, d, dp, bs, window, rows_max;
  float scale;
  float* partials;  // [pieces, piece_stride]: m[rows_max], l[rows_max], o[rows_max, dp]
  int64_t piece_stride;
  const WorkItem* items;
  int64_t n_items;
  std::atomic<int64_t> next{0};
};

inline int64_t first_key(int64_t pos, int64_t window) { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }

struct TileScratch {
  float *kt, *s, *o, *m, *l;
  float *kw, *vw;  // bf16 cache: the tile's K and V rows of one head widened, [kKeyTile][dp]
  const float** qrows;
};

TileScratch thread_scratch(const Job& job) {
  thread_local GrowingBuffer floats;
  thread_local std::vector<const float*> qrows;
  // Sized for the most rows any item of this head geometry can have, not this call's:
  // which thread runs which item changes from step to step, and a buffer that grew only
  // when a thread first met a bigger item would allocate in the middle of serving.
  const int64_t R = std::max<int64_t>({job.rows_max, kRowsPerItem, job.group});
  float* base = floats.get(size_t(job.dp * kKeyTile + R * kKeyTile + R * job.dp + 2 * round16(R) +
                                  2 * kKeyTile * job.dp));
  if (static_cast<int64_t>(qrows.size()) < R) qrows.resize(size_t(R));
  TileScratch t;
  t.kt = base;
  t.s = t.kt + job.dp * kKeyTile;
  t.o = t.s + R * kKeyTile;
  t.m = t.o + R * job.dp;
  t.l = t.m + round16(R);
  t.kw = t.l + round16(R);
  t.vw = t.kw + kKeyTile * job.dp;
  t.qrows = qrows.data();
  return t;
}

template <int NR>
void accumulate_rows(float* o, int64_t dp, const float* p, const float* const* v, int nk, int64_t d,
                     __m256i tail) {
  const int64_t full = d / 8 * 8;
  int64_t c = 0;
  for (; c + 16 <= full; c += 16) tile::accumulate<NR, 2, false>(o, dp, p, v, nk, c, tail);
  if (c < full) {
    tile::accumulate<NR, 1, false>(o, dp, p, v, nk, c, tail);
    c += 8;
  }
  if (c < d) tile::accumulate<NR, 1, true>(o, dp, p, v, nk, c, tail);
}

// Calls F<NR>::run(row, args...) over rows [0, R) in register blocks of kRowBlock, then
// the remainder.
template <template <int> class F, class... Args>
void over_row_blocks(int64_t R, Args&&... args) {
  int64_t r = 0;
  for (; r + kRowBlock <= R; r += kRowBlock) F<kRowBlock>::run(r, args...);
  switch (R - r) {
    case 3: F<3>::run(r, args...); break;
    case 2: F<2>::run(r, args...); break;
    case 1: F<1>::run(r, args...); break;
    default: break;
  }
}

template <int NR>
struct ScoreBlock {
  static void run(int64_t r, const float* const* q, const float* kt, int64_t d, float scale, float* s) {
    tile::scores<NR>(q + r, kt, d, scale, s + r * kKeyTile);
  }
};
template <int NR>
struct AccumulateBlock {
  static void run(int64_t r, float* o, int64_t dp, const float* p, const float* const* v, int nk,
                  int64_t d, __m256i tail) {
    accumulate_rows<NR>(o + r * dp, dp, p + r * kKeyTile, v, nk, d, tail);
  }
};

// d bf16 values -> f32 (the top half of an f32: exact).
inline void widen_bf16(const uint16_t* src, int64_t d, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= d; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(
                                  _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))), 16)));
  for (; i < d; ++i) {
    const uint32_t u = uint32_t(src[i]) << 16;
    std::memcpy(dst + i, &u, 4);
  }
}

// Rows of an item: (KV head hm, token ti, group head g) -> r = (hm * nt + ti) * G + g.
void run_item(const Job& job, const WorkItem& it) {
  alignas(32) static const float zeros[kVarlenMaxHeadDim] = {};
  const TileScratch t = thread_scratch(job);
  const int64_t G = job.group, d = job.d, dp = job.dp, bs = job.bs;
  const int64_t nt = it.tok_end - it.tok_begin, Rh = nt * G, R = Rh * it.kv_heads;
  const int64_t row_stride = job.nkv * d;
  const int32_t* table = job.tables + job.table_offsets[it.seq];

  int64_t max_lo = it.key_begin, min_p = it.key_end - 1;  // keys every row of the item sees
  for (int64_t ti = 0; ti < nt; ++ti) {
    const int64_t p = job.positions[it.tok_begin + ti];
    max_lo = std::max(max_lo, first_key(p, job.window));
    min_p = std::min(min_p, p);
  }
  for (int64_t hm = 0; hm < it.kv_heads; ++hm)
    for (int64_t ti = 0; ti < nt; ++ti)
      for (int64_t g = 0; g < G; ++g)
        t.qrows[(hm * nt + ti) * G + g] = job.q + ((it.tok_begin + ti) * job.nh + (it.kv_head + hm) * G + g) * d;
  std::fill(t.o, t.o + R * dp, 0.0f);
  std::fill(t.m, t.m + R, -INFINITY);
  std::fill(t.l, t.l + R, 0.0f);
  const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(d % 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256 iota_lo = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7), iota_hi = _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15);
  int64_t cache_row[kKeyTile];  // float offset of each key's cache row, -1 outside the range
  const float *krows[kKeyTile], *vrows[kKeyTile];

  for (int64_t k0 = it.key_begin / kKeyTile * kKeyTile; k0 < it.key_end; k0 += kKeyTile) {
    for (int j = 0; j < kKeyTile; ++j) {
      const int64_t pos = k0 + j;
      cache_row[j] = pos >= it.key_begin && pos < it.key_end
                         ? (int64_t(table[pos / bs]) * bs + pos % bs) * row_stride
                         : -1;
    }
    // Every row sees the whole tile unless it straddles a window start, a diagonal or the range.
    const bool unmasked = k0 >= max_lo && k0 + kKeyTile - 1 <= min_p;
    for (int64_t hm = 0; hm < it.kv_heads; ++hm) {
      const int64_t head_off = (it.kv_head + hm) * d;
      if (job.avx512) {
        // Widen (bf16) and transpose straight from the cache rows; V widened into scratch.
        const void *kraw[kKeyTile], *vraw[kKeyTile];
        const int64_t es = job.bf16 ? 2 : 4;
        for (int j = 0; j < kKeyTile; ++j) {
          const bool in = cache_row[j] >= 0;
          kraw[j] = in ? static_cast<const void*>(static_cast<const char*>(job.k) + (cache_row[j] + head_off) * es) : zeros;
          vraw[j] = in ? static_cast<const void*>(static_cast<const char*>(job.v) + (cache_row[j] + head_off) * es) : zeros;
        }
        attention_key_tile_avx512(kraw, job.bf16, d, t.kt);
        if (job.bf16) {
          attention_widen_rows_avx512(reinterpret_cast<const uint16_t* const*>(vraw), kKeyTile, d, t.vw, dp);
          for (int j = 0; j < kKeyTile; ++j) vrows[j] = t.vw + j * dp;
        } else {
          for (int j = 0; j < kKeyTile; ++j) vrows[j] = static_cast<const float*>(vraw[j]);
        }
      } else {
        for (int j = 0; j < kKeyTile; ++j) {
          if (cache_row[j] < 0) {
            krows[j] = vrows[j] = zeros;
          } else if (job.bf16) {
            widen_bf16(static_cast<const uint16_t*>(job.k) + cache_row[j] + head_off, d, t.kw + j * dp);
            widen_bf16(static_cast<const uint16_t*>(job.v) + cache_row[j] + head_off, d, t.vw + j * dp);
            krows[j] = t.kw + j * dp;
            vrows[j] = t.vw + j * dp;
          } else {
            krows[j] = static_cast<const float*>(job.k) + cache_row[j] + head_off;
            vrows[j] = static_cast<const float*>(job.v) + cache_row[j] + head_off;
          }
        }
        tile::transpose_tile(krows, d, t.kt);
      }
      float* S = t.s + hm * Rh * kKeyTile;
      if (job.avx512) attention_scores_avx512(t.qrows + hm * Rh, Rh, t.kt, d, job.scale, S);
      else over_row_blocks<ScoreBlock>(Rh, t.qrows + hm * Rh, t.kt, d, job.scale, S);

      for (int64_t rr = 0; rr < Rh; ++rr) {
        const int64_t r = hm * Rh + rr;
        float* s = S + rr * kKeyTile;
        __m256 s0 = _mm256_load_ps(s), s1 = _mm256_load_ps(s + 8);
        if (!unmasked) {
          const int64_t p = job.positions[it.tok_begin + rr / G];
          const float lo = float(std::max<int64_t>(first_key(p, job.window), it.key_begin) - k0);
          const float hi = float(std::min<int64_t>(p, it.key_end - 1) - k0);
          const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), ninf = _mm256_set1_ps(-INFINITY);
          s0 = _mm256_blendv_ps(ninf, s0, _mm256_and_ps(_mm256_cmp_ps(iota_lo, vlo, _CMP_GE_OQ),
                                                        _mm256_cmp_ps(iota_lo, vhi, _CMP_LE_OQ)));
          s1 = _mm256_blendv_ps(ninf, s1, _mm256_and_ps(_mm256_cmp_ps(iota_hi, vlo, _CMP_GE_OQ),
                                                        _mm256_cmp_ps(iota_hi, vhi, _CMP_LE_OQ)));
        }
        const float tile_max = tile::hmax(_mm256_max_ps(s0, s1));
        if (tile_max == -INFINITY) {  // no visible key for this row in this tile
          _mm256_store_ps(s, _mm256_setzero_ps());
          _mm256_store_ps(s + 8, _mm256_setzero_ps());
          continue;
        }
        if (tile_max > t.m[r]) {
          const float corr = std::exp(t.m[r] - tile_max);  // 0 on the first visible tile
          t.l[r] *= corr;
          const __m256 c = _mm256_set1_ps(corr);
          float* o = t.o + r * dp;
          for (int64_t i = 0; i < dp; i += 8) _mm256_store_ps(o + i, _mm256_mul_ps(_mm256_load_ps(o + i), c));
          t.m[r] = tile_max;
        }
        const __m256 mx = _mm256_set1_ps(t.m[r]);
        const __m256 p0 = tile::exp(_mm256_sub_ps(s0, mx)), p1 = tile::exp(_mm256_sub_ps(s1, mx));
        _mm256_store_ps(s, p0);
        _mm256_store_ps(s + 8, p1);
        t.l[r] += tile::hsum(_mm256_add_ps(p0, p1));
      }
      if (job.avx512) attention_accumulate_avx512(t.o + hm * Rh * dp, dp, Rh, S, vrows, kKeyTile, d);
      else over_row_blocks<AccumulateBlock>(Rh, t.o + hm * Rh * dp, dp, S, vrows, kKeyTile, d, tail);
    }
  }

  if (it.piece >= 0) {  // a slice of the keys: keep the partial softmax for the merge
    float* part = job.partials + it.piece * job.piece_stride;
    std::memcpy(part, t.m, sizeof(float) * size_t(R));
    std::memcpy(part + job.rows_max, t.l, sizeof(float) * size_t(R));
    std::memcpy(part + 2 * job.rows_max, t.o, sizeof(float) * size_t(R * dp));
    return;
  }
  // out = O e^(m-M) / (l e^(m-M) + e^(sink-M)), M = max(m, sink): the sink joins the
  // denominator unscaled and has no value row.
  for (int64_t r = 0; r < R; ++r) {
    const int64_t hm = r / Rh, tok = it.tok_begin + (r % Rh) / G, h = (it.kv_head + hm) * G + r % G;
    const float sink = job.sinks[h], big = std::max(t.m[r], sink);
    const float e = std::exp(t.m[r] - big);
    const float w = e / (t.l[r] * e + std::exp(sink - big));
    float* dst = job.out + (tok * job.nh + h) * d;
    const float* o = t.o + r * dp;
    for (int64_t i = 0; i < d; ++i) dst[i] = o[i] * w;
  }
}

// Combines the pieces of one split query tile with the sink into `out`.
void merge_item(const Job& job, const MergeItem& mi) {
  const int64_t G = job.group, d = job.d, dp = job.dp;
  const int64_t Rh = int64_t(mi.tok_end - mi.tok_begin) * G, R = Rh * mi.kv_heads;
  for (int64_t r = 0; r < R; ++r) {
    const int64_t hm = r / Rh, tok = mi.tok_begin + (r % Rh) / G, h = (mi.kv_head + hm) * G + r % G;
    const float sink = job.sinks[h];
    float big = sink;
    for (int32_t p = 0; p < mi.pieces; ++p) big = std::max(big, job.partials[(mi.first_piece + p) * job.piece_stride + r]);
    float denom = std::exp(sink - big);
    for (int32_t p = 0; p < mi.pieces; ++p) {
      const float* part = job.partials + (mi.first_piece + p) * job.piece_stride;
      denom += part[job.rows_max + r] * std::exp(part[r] - big);
    }
    float* dst = job.out + (tok * job.nh + h) * d;
    std::fill(dst, dst + d, 0.0f);
    for (int32_t p = 0; p < mi.pieces; ++p) {
      const float* part = job.partials + (mi.first_piece + p) * job.piece_stride;
      const float w = std::exp(part[r] - big) / denom;
      const float* o = part + 2 * job.rows_max + r * dp;
      for (int64_t i = 0; i < d; ++i) dst[i] += w * o[i];
    }
  }
}

}  // namespace

void attention_varlen(ThreadPool& pool, float* out, const float* q, const PagedKv& kv,
                      const VarlenBatch& batch, const float* sinks, const AttentionShape& shape) {
  if (batch.n_tokens == 0) return;
  Job job;
  job.q = q;
  job.out = out;
  job.k = kv.k;
  job.v = kv.v;
  job.bf16 = kv.dtype == DType::kBF16;
  job.avx512 = active_isa() == Isa::kAvx512;
  job.positions = batch.positions;
  job.tables = batch.block_tables;
  job.table_offsets = batch.block_table_offsets;
  job.sinks = sinks;
  job.nh = shape.n_heads;
  job.nkv = shape.n_kv_heads;
  job.group = job.nh / job.nkv;
  job.d = shape.head_dim;
  job.dp = (job.d + 7) / 8 * 8;
  job.bs = kv.block_size;
  job.window = shape.window;
  job.scale = shape.sm_scale;
  // Query tiles of kRowsPerItem rows: tile_tokens tokens of one KV head's group, or for
  // short chunks (decodes) several KV heads of fewer tokens.
  const int64_t tile_tokens = std::max<int64_t>(1, kRowsPerItem / job.group);
  auto heads_per_item = [&](int64_t tokens) {
    return std::clamp<int64_t>(kRowsPerItem / (job.group * std::clamp<int64_t>(tokens, 1, tile_tokens)), 1, job.nkv);
  };
  job.rows_max = 0;

  // The plan: query tiles x KV head runs, then key splits when there are too few of them.
  thread_local std::vector<WorkItem> items;
  thread_local std::vector<MergeItem> merges;
  thread_local GrowingBuffer partials;
  items.clear();
  merges.clear();
  int64_t base_items = 0;
  for (int64_t s = 0; s < batch.n_seqs; ++s) {
    const int64_t n = batch.seq_offsets[s + 1] - batch.seq_offsets[s];
    if (n == 0) continue;
    const int64_t hpi = heads_per_item(n);
    base_items += (n + tile_tokens - 1) / tile_tokens * ((job.nkv + hpi - 1) / hpi);
    job.rows_max = std::max(job.rows_max, std::min(n, tile_tokens) * job.group * hpi);
  }
  const int64_t threads = pool.size();
  const int64_t max_splits = base_items < 4 * threads ? (4 * threads + base_items - 1) / base_items : 1;
  int32_t pieces = 0;
  for (int32_t s = 0; s < int32_t(batch.n_seqs); ++s) {
    const int32_t hpi = int32_t(heads_per_item(batch.seq_offsets[s + 1] - batch.seq_offsets[s]));
    for (int32_t tb = batch.seq_offsets[s]; tb < batch.seq_offsets[s + 1]; tb += int32_t(tile_tokens)) {
      const int32_t te = std::min<int32_t>(batch.seq_offsets[s + 1], tb + int32_t(tile_tokens));
      int64_t lo = INT64_MAX, hi = 0;
      for (int32_t t = tb; t < te; ++t) {
        lo = std::min(lo, first_key(batch.positions[t], job.window));
        hi = std::max<int64_t>(hi, batch.positions[t]);
      }
      // Pieces cut at multiples of the key tile, so each starts a tile of its own.
      const int64_t aligned = lo / kKeyTile * kKeyTile, span = hi + 1 - aligned;
      const int64_t want = std::clamp<int64_t>((hi + 1 - lo) / kMinKeysPerVarlenSplit, 1, max_splits);
      const int64_t chunk = round16((span + want - 1) / want);
      const int32_t splits = int32_t((span + chunk - 1) / chunk);
      for (int32_t m = 0; m < int32_t(job.nkv); m += hpi) {
        const int32_t heads = std::min<int32_t>(hpi, int32_t(job.nkv) - m);
        if (splits > 1) merges.push_back(MergeItem{m, heads, tb, te, pieces, splits});
        for (int32_t sp = 0; sp < splits; ++sp) {
          const int64_t k0 = std::max(lo, aligned + sp * chunk), k1 = std::min(hi + 1, aligned + (sp + 1) * chunk);
          items.push_back(WorkItem{s, m, heads, tb, te, int32_t(k0), int32_t(k1), splits > 1 ? pieces++ : -1,
                                   (te - tb) * heads * (k1 - k0)});
        }
      }
    }
  }
  std::sort(items.begin(), items.end(), [](const WorkItem& a, const WorkItem& b) { return a.cost > b.cost; });
  job.piece_stride = job.rows_max * (job.dp + 2);
  job.partials = pieces > 0 ? partials.get(size_t(pieces * job.piece_stride)) : nullptr;
  job.items = items.data();
  job.n_items = static_cast<int64_t>(items.size());

  pool.parallel_for(std::min<int64_t>(threads, job.n_items), 1, [j = &job](int64_t, int64_t) {
    for (int64_t i; (i = j->next.fetch_add(1, std::memory_order_relaxed)) < j->n_items;) run_item(*j, j->items[i]);
  });
  if (merges.empty()) return;
  struct MergeJob {
    const Job* job;
    const MergeItem* items;
  } mj{&job, merges.data()};
  pool.parallel_for(static_cast<int64_t>(merges.size()), 1, [c = &mj](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) merge_item(*c->job, c->items[i]);
  });
}

}  // namespace gossamer::kernels::cpu
