#include "kernels/ref/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace gossamer::kernels::ref {

int64_t kv_offset(const KvCacheView& kv, int64_t pos, int64_t kv_head,
                  const AttentionShape& shape) {
  int64_t phys = kv.block_table[pos / kv.block_size];
  // The oracle refuses what the fast kernels assume never happens: touching a block the
  // planner handed back (-1, outside the window) or never had.
  GOSSAMER_CHECK(phys >= 0, "attention touched position {} whose KV block was handed back", pos);
  int64_t row = phys * kv.block_size + pos % kv.block_size;
  return (row * shape.n_kv_heads + kv_head) * shape.head_dim;
}

void kv_cache_write(const KvCacheView& kv, const float* k, const float* v, const int32_t* pos,
                    int64_t nt, const AttentionShape& shape) {
  const int64_t d = shape.head_dim;
  for (int64_t t = 0; t < nt; ++t)
    for (int64_t m = 0; m < shape.n_kv_heads; ++m) {
      int64_t off = kv_offset(kv, pos[t], m, shape);
      for (int64_t i = 0; i < d; ++i) {
        kv.k[off + i] = k[(t * shape.n_kv_heads + m) * d + i];
        kv.v[off + i] = v[(t * shape.n_kv_heads + m) * d + i];
      }
    }
}

void attention_sink(float* out, const float* q, const int32_t* q_pos, int64_t nt,
                    const KvCacheView& kv, const float* sinks, const AttentionShape& shape) {
  const int64_t d = shape.head_dim, group = shape.n_heads / shape.n_kv_heads;
  for (int64_t t = 0; t < nt; ++t) {
    const int64_t p = q_pos[t];
    for (int64_t j = 0; j < shape.n_heads; ++j) {
      const int64_t m = j / group;
      const float* qv = q + (t * shape.n_heads + j) * d;
      // Logits of the allowed keys, then the sink as one more column.
      std::vector<double> z;
      std::vector<int64_t> keys;
      for (int64_t s = 0; s <= p; ++s) {
        if (shape.window > 0 && p - s >= shape.window) continue;
        const float* kr = kv.k + kv_offset(kv, s, m, shape);
        double dot = 0;
        for (int64_t i = 0; i < d; ++i) dot += double(qv[i]) * kr[i];
        z.push_back(dot * shape.sm_scale);
        keys.push_back(s);
      }
      double mx = sinks[j];
      for (double zi : z) mx = std::max(mx, zi);
      double denom = std::exp(double(sinks[j]) - mx);
      for (double& zi : z) {
        zi = std::exp(zi - mx);
        denom += zi;
      }
      std::vector<double> o(static_cast<size_t>(d), 0.0);
      for (size_t a = 0; a < keys.size(); ++a) {
        const float* vr = kv.v + kv_offset(kv, keys[a], m, shape);
        for (int64_t i = 0; i < d; ++i) o[size_t(i)] += z[a] / denom * vr[i];
      }
      for (int64_t i = 0; i < d; ++i) out[(t * shape.n_heads + j) * d + i] = float(o[size_t(i)]);
    }
  }
}

namespace {
KvCacheView sequence_view(const PagedKv& kv, const VarlenBatch& batch, int64_t seq) {
  GOSSAMER_CHECK(kv.dtype == DType::kF32, "sequence_view: f32 caches only (bf16 goes through F32Copy)");
  return KvCacheView{static_cast<float*>(kv.k), static_cast<float*>(kv.v), kv.block_size,
                     batch.block_tables + batch.block_table_offsets[seq]};
}
}  // namespace

namespace {
// A bf16 cache (Precision::kFast) as f32 copies of its storage: widening is exact, so the
// f32 oracle then reads the very values the kernel stores; written rows are rounded back
// to bf16 (nearest even) like kernels/cpu's write, untouched ones round-trip unchanged.
struct F32Copy {
  std::vector<float> k, v;
  PagedKv kv;
  F32Copy(const PagedKv& src, const AttentionShape& shape) : kv(src) {
    const size_t n = size_t(src.num_blocks * src.block_size) * size_t(shape.n_kv_heads) * size_t(shape.head_dim);
    k.resize(n);
    v.resize(n);
    for (size_t i = 0; i < n; ++i) {
      k[i] = bf16_to_f32(static_cast<const bf16*>(src.k)[i]);
      v[i] = bf16_to_f32(static_cast<const bf16*>(src.v)[i]);
    }
    kv = PagedKv{k.data(), v.data(), DType::kF32, src.num_blocks, src.block_size};
  }
  void store_to(const PagedKv& dst) const {
    for (size_t i = 0; i < k.size(); ++i) {
      static_cast<bf16*>(dst.k)[i] = f32_to_bf16(k[i]);
      static_cast<bf16*>(dst.v)[i] = f32_to_bf16(v[i]);
    }
  }
};
}  // namespace

void kv_cache_write_varlen(const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape) {
  if (kv.dtype == DType::kBF16) {
    F32Copy copy(kv, shape);
    kv_cache_write_varlen(copy.kv, k, v, batch, shape);
    copy.store_to(kv);
    return;
  }
  const int64_t row = int64_t(shape.n_kv_heads) * shape.head_dim;
  for (int64_t s = 0; s < batch.n_seqs; ++s) {
    const int64_t t0 = batch.seq_offsets[s], n = batch.seq_offsets[s + 1] - t0;
    kv_cache_write(sequence_view(kv, batch, s), k + t0 * row, v + t0 * row, batch.positions + t0, n, shape);
  }
}

void attention_varlen(float* out, const float* q, const PagedKv& kv, const VarlenBatch& batch,
                      const float* sinks, const AttentionShape& shape) {
  if (kv.dtype == DType::kBF16) {
    const F32Copy copy(kv, shape);
    return attention_varlen(out, q, copy.kv, batch, sinks, shape);
  }
  const int64_t row = int64_t(shape.n_heads) * shape.head_dim;
  for (int64_t s = 0; s < batch.n_seqs; ++s) {
    const int64_t t0 = batch.seq_offsets[s], n = batch.seq_offsets[s + 1] - t0;
    attention_sink(out + t0 * row, q + t0 * row, batch.positions + t0, n, sequence_view(kv, batch, s),
                   sinks, shape);
  }
}

}  // namespace gossamer::kernels::ref
