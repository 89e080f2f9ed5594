// Attention with sinks, CPU, two-pass softmax per key range. Each cached K/V row is
// loaded once and used by all the query heads of its GQA group.
#include "kernels/cpu/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace gossamer::kernels::cpu {
namespace {

inline const float* kv_row(const float* base, const KvCacheView& kv, int64_t s, int64_t m,
                           const AttentionShape& shape) {
  int64_t row = int64_t(kv.block_table[s / kv.block_size]) * kv.block_size + s % kv.block_size;
  return base + (row * shape.n_kv_heads + m) * shape.head_dim;
}

inline float dot(const float* a, const float* b, int64_t d) {
  float s = 0;
  for (int64_t i = 0; i < d; ++i) s += a[i] * b[i];
  return s;
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// G heads of one group against one K row, accumulators in registers (G is a constant).
template <int G>
inline void scores_fixed(const float* q /*[G, d]*/, const float* k /*[d]*/, int64_t d, float scale,
                         float* sc, int64_t len) {
  __m256 acc[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) acc[g] = _mm256_setzero_ps();
  for (int64_t i = 0; i < d; i += 8) {
    const __m256 kv = _mm256_loadu_ps(k + i);
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) acc[g] = _mm256_fmadd_ps(_mm256_loadu_ps(q + g * d + i), kv, acc[g]);
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) sc[g * len] = hsum(acc[g]) * scale;
}

// sc[g * len] = scale * (q[g] · k) for the group's heads. One K row feeds every head:
// each head has its own accumulator, so the FMA chains are independent.
inline void group_scores(const float* q /*[group, d]*/, const float* k /*[d]*/, int64_t group,
                         int64_t d, float scale, float* sc, int64_t len) {
  if (d % 8 != 0) {
    for (int64_t g = 0; g < group; ++g) sc[g * len] = dot(q + g * d, k, d) * scale;
    return;
  }
  int64_t g = 0;
  for (; g + 8 <= group; g += 8) scores_fixed<8>(q + g * d, k, d, scale, sc + g * len, len);
  for (; g + 4 <= group; g += 4) scores_fixed<4>(q + g * d, k, d, scale, sc + g * len, len);
  for (; g < group; ++g) scores_fixed<1>(q + g * d, k, d, scale, sc + g * len, len);
}

// o[g] += w[g * len] * v for the group's heads.
inline void group_accumulate(float* o /*[group, d]*/, const float* v /*[d]*/, int64_t group,
                             int64_t d, const float* w, int64_t len) {
  if (d % 8 != 0) {
    for (int64_t g = 0; g < group; ++g)
      for (int64_t i = 0; i < d; ++i) o[g * d + i] += w[g * len] * v[i];
    return;
  }
  for (int64_t i = 0; i < d; i += 8) {
    const __m256 vv = _mm256_loadu_ps(v + i);
    for (int64_t g = 0; g < group; ++g) {
      float* op = o + g * d + i;
      _mm256_storeu_ps(op, _mm256_fmadd_ps(_mm256_set1_ps(w[g * len]), vv, _mm256_loadu_ps(op)));
    }
  }
}

// Rows of one KV head are n_kv_heads * head_dim floats apart (a new page every row or
// two), which the hardware prefetcher does not follow; ask for rows a few keys ahead.
constexpr int64_t kPrefetchAhead = 8;
inline void prefetch_row(const float* row, int64_t d) {
  for (int64_t i = 0; i < d; i += 16) _mm_prefetch(reinterpret_cast<const char*>(row + i), _MM_HINT_T0);
}

}  // namespace

void kv_cache_write(ThreadPool& pool, const KvCacheView& kv, const float* k, const float* v,
                    const int32_t* pos, int64_t nt, const AttentionShape& shape) {
  const int64_t d = shape.head_dim, nkv = shape.n_kv_heads;
  pool.parallel_for(nt, 16, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t)
      for (int64_t m = 0; m < nkv; ++m) {
        // kv_row is const-typed for reads; the offset is the same for writes.
        int64_t off = kv_row(kv.k, kv, pos[t], m, shape) - kv.k;
        std::memcpy(kv.k + off, k + (t * nkv + m) * d, size_t(d) * sizeof(float));
        std::memcpy(kv.v + off, v + (t * nkv + m) * d, size_t(d) * sizeof(float));
      }
  });
}

namespace {

// Keys [s0, s1] for every query head of one token: q[n_heads, d]. Leaves in
// o[n_heads, d] the sum of V rows weighted by exp(z - mx[j]), and in mx[j] / sum[j] the
// max logit and the sum of those weights. The sink is not included, so partial results
// over disjoint key ranges can be merged. An empty range gives mx = -inf, sum = 0, o = 0.
// All KV heads are walked together: the heads of one position are one contiguous
// n_kv_heads * d row of the cache, so the reads stream instead of striding.
void attend_keys(const float* q, const KvCacheView& kv, int64_t s0, int64_t s1,
                 const AttentionShape& shape, std::vector<float>& scores, float* mx, float* sum,
                 float* o) {
  const int64_t d = shape.head_dim, nkv = shape.n_kv_heads, nh = shape.n_heads;
  const int64_t group = nh / nkv;
  const int64_t len = std::max<int64_t>(0, s1 - s0 + 1);
  scores.resize(size_t(nh * std::max<int64_t>(1, len)));  // [n_heads, len]
  std::fill(o, o + nh * d, 0.0f);
  for (int64_t s = s0; s <= s1; ++s) {
    if (s + kPrefetchAhead <= s1) prefetch_row(kv_row(kv.k, kv, s + kPrefetchAhead, 0, shape), nkv * d);
    const float* krow = kv_row(kv.k, kv, s, 0, shape);
    for (int64_t m = 0; m < nkv; ++m)
      group_scores(q + m * group * d, krow + m * d, group, d, shape.sm_scale,
                   scores.data() + m * group * len + (s - s0), len);
  }
  for (int64_t j = 0; j < nh; ++j) {
    float* sc = scores.data() + j * len;
    float mj = -INFINITY, sj = 0.0f;
    for (int64_t a = 0; a < len; ++a) mj = std::max(mj, sc[a]);
    for (int64_t a = 0; a < len; ++a) {
      sc[a] = std::exp(sc[a] - mj);
      sj += sc[a];
    }
    mx[j] = mj;
    sum[j] = sj;
  }
  for (int64_t s = s0; s <= s1; ++s) {
    if (s + kPrefetchAhead <= s1) prefetch_row(kv_row(kv.v, kv, s + kPrefetchAhead, 0, shape), nkv * d);
    const float* vrow = kv_row(kv.v, kv, s, 0, shape);
    for (int64_t m = 0; m < nkv; ++m)
      group_accumulate(o + m * group * d, vrow + m * d, group, d,
                       scores.data() + m * group * len + (s - s0), len);
  }
}

// Merges `parts` partial results of one query head with its sink into out[d]:
//   out = sum_p o_p e^(mx_p - M) / (e^(S - M) + sum_p sum_p e^(mx_p - M)),  M = max(S, mx_p).
// The sink joins the max and the denominator unscaled; it has no value row.
void finalize(float* out, float sink, const float* mx, const float* sum, const float* const* o,
              int64_t parts, int64_t d) {
  float big = sink;
  for (int64_t p = 0; p < parts; ++p) big = std::max(big, mx[p]);
  float denom = std::exp(sink - big);
  for (int64_t p = 0; p < parts; ++p) denom += sum[p] * std::exp(mx[p] - big);
  std::fill(out, out + d, 0.0f);
  for (int64_t p = 0; p < parts; ++p) {
    const float w = std::exp(mx[p] - big) / denom;
    for (int64_t i = 0; i < d; ++i) out[i] += w * o[p][i];
  }
}

constexpr int64_t kMinKeysPerSplit = 256;

}  // namespace

void attention_sink(ThreadPool& pool, float* out, const float* q, const int32_t* q_pos,
                    int64_t nt, const KvCacheView& kv, const float* sinks,
                    const AttentionShape& shape) {
  const int64_t d = shape.head_dim, nh = shape.n_heads;
  auto key_range = [&](int64_t t) {
    const int64_t p = q_pos[t];
    return std::pair<int64_t, int64_t>{shape.window > 0 ? std::max<int64_t>(0, p - shape.window + 1) : 0, p};
  };
  // One work item per query token. Decode (few tokens) leaves fewer items than threads;
  // then the keys are split as well and the partial softmaxes merged afterwards
  // (flash-decoding style). Otherwise each token runs whole and is finalized at once.
  int64_t max_len = 0;
  for (int64_t t = 0; t < nt; ++t) max_len = std::max(max_len, key_range(t).second - key_range(t).first + 1);
  const int64_t threads = pool.size();
  const int64_t splits = nt >= 2 * threads
                             ? 1
                             : std::clamp<int64_t>(max_len / kMinKeysPerSplit, 1, (4 * threads + nt - 1) / nt);
  const int64_t stride = nh * (d + 2);  // one partial: {mx[nh], sum[nh], o[nh, d]}

  if (splits == 1) {
    pool.parallel_for(nt, 1, [&](int64_t b, int64_t e) {
      std::vector<float> scores, part(static_cast<size_t>(stride));
      float *mx = part.data(), *sum = mx + nh, *o = sum + nh;
      for (int64_t t = b; t < e; ++t) {
        const auto [s0, s1] = key_range(t);
        attend_keys(q + t * nh * d, kv, s0, s1, shape, scores, mx, sum, o);
        for (int64_t j = 0; j < nh; ++j) {
          const float* oj = o + j * d;
          finalize(out + (t * nh + j) * d, sinks[j], mx + j, sum + j, &oj, 1, d);
        }
      }
    });
    return;
  }

  std::vector<float> scratch(static_cast<size_t>(nt * splits * stride));  // [nt, splits, stride]
  pool.parallel_for(nt * splits, 1, [&](int64_t b, int64_t e) {
    std::vector<float> scores;
    for (int64_t piece = b; piece < e; ++piece) {
      const int64_t t = piece / splits, sp = piece % splits;
      const auto [lo, hi] = key_range(t);
      const int64_t chunk = (hi - lo + 1 + splits - 1) / splits;
      float* part = scratch.data() + piece * stride;
      attend_keys(q + t * nh * d, kv, lo + sp * chunk, std::min(hi, lo + (sp + 1) * chunk - 1),
                  shape, scores, part, part + nh, part + 2 * nh);
    }
  });
  pool.parallel_for(nt * nh, 1, [&](int64_t b, int64_t e) {
    std::vector<float> mx(static_cast<size_t>(splits)), sum(static_cast<size_t>(splits));
    std::vector<const float*> o(static_cast<size_t>(splits));
    for (int64_t k = b; k < e; ++k) {
      const int64_t t = k / nh, j = k % nh;
      for (int64_t sp = 0; sp < splits; ++sp) {
        const float* part = scratch.data() + (t * splits + sp) * stride;
        mx[size_t(sp)] = part[j];
        sum[size_t(sp)] = part[nh + j];
        o[size_t(sp)] = part + 2 * nh + j * d;
      }
      finalize(out + k * d, sinks[j], mx.data(), sum.data(), o.data(), splits, d);
    }
  });
}

}  // namespace gossamer::kernels::cpu
