// Attention with sinks, CPU, two-pass softmax. One work item is (query token, KV head):
// each cached K/V row is loaded once and used by all the query heads of its GQA group.
#include "kernels/cpu/attention.h"

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
  float part[8] = {};
  int64_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; ++j) part[j] += a[i + j] * b[i + j];
  float s = 0;
  for (int j = 0; j < 8; ++j) s += part[j];
  for (; i < d; ++i) s += a[i] * b[i];
  return s;
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
        const float* kr = kv_row(kv.k, kv, s, m, shape);
        for (int64_t g = 0; g < group; ++g)
          scores[size_t(g * len + s - lo)] = dot(qg + g * d, kr, d) * shape.sm_scale;
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
        const float* vr = kv_row(kv.v, kv, s, m, shape);
        for (int64_t g = 0; g < group; ++g) {
          const float w = scores[size_t(g * len + s - lo)];
          float* o = og + g * d;
          for (int64_t i = 0; i < d; ++i) o[i] += w * vr[i];
        }
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
