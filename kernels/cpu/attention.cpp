// Attention with sinks, CPU, two-pass softmax. One work item is (query token, KV head):
// each cached K/V row is loaded once and used by all the query heads of its GQA group.
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

void attention_sink(ThreadPool& pool, float* out, const float* q, const int32_t* q_pos,
                    int64_t nt, const KvCacheView& kv, const float* sinks,
                    const AttentionShape& shape) {
  const int64_t d = shape.head_dim, nkv = shape.n_kv_heads, nh = shape.n_heads;
  const int64_t group = nh / nkv;
  pool.parallel_for(nt * nkv, 1, [&](int64_t b, int64_t e) {
    std::vector<float> scores;  // [group, len]
    for (int64_t item = b; item < e; ++item) {
      const int64_t t = item / nkv, m = item % nkv, p = q_pos[t];
      const int64_t lo = shape.window > 0 ? std::max<int64_t>(0, p - shape.window + 1) : 0;
      const int64_t len = p - lo + 1;
      scores.resize(size_t(group * len));
      const float* qg = q + (t * nh + m * group) * d;  // [group, d], heads m*group ..
      for (int64_t s = lo; s <= p; ++s) {
        if (s + kPrefetchAhead <= p) prefetch_row(kv_row(kv.k, kv, s + kPrefetchAhead, m, shape), d);
        group_scores(qg, kv_row(kv.k, kv, s, m, shape), group, d, shape.sm_scale,
                     scores.data() + (s - lo), len);
      }
      for (int64_t g = 0; g < group; ++g) {
        const int64_t j = m * group + g;
        float* sc = scores.data() + g * len;
        // The sink joins the max and the denominator unscaled; it has no value row.
        float mx = sinks[j];
        for (int64_t a = 0; a < len; ++a) mx = std::max(mx, sc[a]);
        float denom = std::exp(sinks[j] - mx);
        for (int64_t a = 0; a < len; ++a) {
          sc[a] = std::exp(sc[a] - mx);
          denom += sc[a];
        }
        const float inv = 1.0f / denom;
        for (int64_t a = 0; a < len; ++a) sc[a] *= inv;
      }
      float* og = out + (t * nh + m * group) * d;
      std::fill(og, og + group * d, 0.0f);
      for (int64_t s = lo; s <= p; ++s) {
        if (s + kPrefetchAhead <= p) prefetch_row(kv_row(kv.v, kv, s + kPrefetchAhead, m, shape), d);
        group_accumulate(og, kv_row(kv.v, kv, s, m, shape), group, d, scores.data() + (s - lo),
                         len);
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
