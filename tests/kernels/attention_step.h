#pragma once
// One step of the batched paged attention ops as test input: several sequences over a
// shared, shuffled paged cache, each with `cached` positions in it and `fed` new tokens,
// sliding-window tables with -1 before the window. Cache rows no query may read hold NaN,
// so a kernel that reads one shows NaN in its output. Shared by test_attention_varlen.cpp
// and the backend-ops table (backend_ops_attention.cpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

#include "kernels/attention.h"
#include "test_util.h"

namespace gossamer::kernels::test {

inline constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Shape {
  int n_heads, n_kv_heads, head_dim, window, block_size;
};

inline void PrintTo(const Shape& c, std::ostream* os) {
  *os << "heads=" << c.n_heads << " kv=" << c.n_kv_heads << " d=" << c.head_dim << " window=" << c.window
      << " block=" << c.block_size;
}

inline AttentionShape attention_shape(const Shape& c) {
  return AttentionShape{c.n_heads, c.n_kv_heads, c.head_dim, c.window, 1.0f / std::sqrt(float(c.head_dim))};
}

// One sequence of the step: `cached` positions already in the cache, `fed` new tokens.
struct SeqSpec {
  int cached, fed;
};

inline int64_t first_key(int64_t pos, int window) { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }

// A step over a shared paged cache. Each sequence's table covers cached + fed positions;
// blocks before the first one its first new query can see are -1 and own no storage
// (as in a sliding-window table). Physical blocks are shuffled. The cache holds random
// values at the positions a query may read, NaN everywhere else.
struct Step {
  Shape shape;
  std::vector<int32_t> positions, seq_offsets{0}, tables, table_offsets{0};
  std::vector<float> k_cache, v_cache, q, k_new, v_new, sinks;
  int64_t num_blocks = 0;

  Step(const Shape& c, const std::vector<SeqSpec>& seqs, uint32_t seed, float sink_lo = -1.f, float sink_hi = 3.f)
      : shape(c) {
    const int bs = c.block_size;
    int64_t visible_blocks = 0;
    for (const auto& s : seqs) {
      const int64_t blocks = (s.cached + s.fed + bs - 1) / bs;
      visible_blocks += blocks - first_key(s.cached, c.window) / bs;
    }
    num_blocks = visible_blocks + 4;  // spare blocks no table names: NaN
    std::vector<int32_t> free_blocks(static_cast<size_t>(num_blocks));
    for (int32_t i = 0; i < int32_t(num_blocks); ++i) free_blocks[size_t(i)] = i;
    std::mt19937 rng(seed);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);

    const int64_t row = int64_t(c.n_kv_heads) * c.head_dim;
    k_cache.assign(size_t(num_blocks * bs * row), kNaN);
    v_cache = k_cache;
    auto fill_k = test::random_vec(k_cache.size(), seed + 1, -2.f, 2.f);
    auto fill_v = test::random_vec(v_cache.size(), seed + 2);
    size_t next = 0;
    for (const auto& s : seqs) {
      const int64_t blocks = (s.cached + s.fed + bs - 1) / bs, first_block = first_key(s.cached, c.window) / bs;
      const size_t base = tables.size();
      for (int64_t b = 0; b < blocks; ++b) tables.push_back(b < first_block ? -1 : free_blocks[next++]);
      table_offsets.push_back(int32_t(tables.size()));
      // Readable history: [first key of the first new token, cached).
      for (int64_t p = first_key(s.cached, c.window); p < s.cached; ++p) {
        const int64_t at = (int64_t(tables[base + size_t(p / bs)]) * bs + p % bs) * row;
        std::copy_n(fill_k.begin() + at, row, k_cache.begin() + at);
        std::copy_n(fill_v.begin() + at, row, v_cache.begin() + at);
      }
      for (int p = s.cached; p < s.cached + s.fed; ++p) positions.push_back(p);
      seq_offsets.push_back(int32_t(positions.size()));
    }
    const int64_t n = int64_t(positions.size());
    q = test::random_vec(size_t(n * c.n_heads * c.head_dim), seed + 3, -2.f, 2.f);
    k_new = test::random_vec(size_t(n * row), seed + 4, -2.f, 2.f);
    v_new = test::random_vec(size_t(n * row), seed + 5);
    sinks = test::random_vec(size_t(c.n_heads), seed + 6, sink_lo, sink_hi);
  }

  VarlenBatch batch() const {
    return VarlenBatch{int64_t(positions.size()), int64_t(seq_offsets.size()) - 1, positions.data(),
                       seq_offsets.data(), tables.data(), table_offsets.data()};
  }
  PagedKv kv(std::vector<float>& k, std::vector<float>& v) const {
    return PagedKv{k.data(), v.data(), DType::kF32, num_blocks, shape.block_size};
  }
};

}  // namespace gossamer::kernels::test
