#pragma once
// Inputs shared by the MoE op tests (test_moe_ops.cpp) and the backend-ops table
// (backend_ops.h): routings of chosen shapes, random MXFP4 experts, permutation buffers.
#include <cstdint>
#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "kernels/moe_permute.h"
#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels::test {

enum class RoutingKind {
  kRandom,       // k distinct random experts per token
  kFewExperts,   // only experts 0, 3 and 5 are ever picked (the others stay empty)
  kAllOnFirst,   // every slot picks expert 0 (needs k == 1 for distinct experts per token)
};

// experts [n, k] of global ids < n_experts; distinct within a token, as the router gives.
inline std::vector<int32_t> random_routing(int64_t n, int k, int n_experts, RoutingKind kind, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> pool;
  if (kind == RoutingKind::kFewExperts) pool = {0, 3, 5};
  else if (kind == RoutingKind::kAllOnFirst) pool = {0};
  else {
    pool.resize(size_t(n_experts));
    std::iota(pool.begin(), pool.end(), 0);
  }
  std::vector<int32_t> out(size_t(n * k));
  for (int64_t t = 0; t < n; ++t) {
    std::shuffle(pool.begin(), pool.end(), rng);
    for (int s = 0; s < k; ++s) out[size_t(t * k + s)] = pool[size_t(s) % pool.size()];
  }
  return out;
}

// Owns what moe_permute writes, sized for the worst case.
struct PermuteBuffers {
  std::vector<int64_t> offsets;
  std::vector<int32_t> row_token, row_slot, pair_row;
  std::vector<float> gathered;
  PermuteBuffers(int64_t n, int k, int64_t local_experts, int64_t H)
      : offsets(size_t(local_experts + 1)), row_token(size_t(n * k)), row_slot(size_t(n * k)),
        pair_row(size_t(n * k)), gathered(size_t(n * k * H)) {}
  MoePermutation out() {
    return {offsets.data(), row_token.data(), row_slot.data(), pair_row.data(),
            gathered.empty() ? nullptr : gathered.data()};
  }
};

// `count` random expert matrices [out, in]; scales 2^(scale_lo-127) .. 2^(scale_lo-113).
struct RandomExperts {
  std::vector<uint8_t> blocks, scales;
  std::vector<Mxfp4Weight> views;
  RandomExperts(int64_t count, int64_t out, int64_t in, uint32_t seed, int scale_lo = 118) {
    std::mt19937 rng(seed);
    const int64_t nb = in / 32;
    blocks.resize(size_t(std::max<int64_t>(count, 1) * out * nb * 16));
    scales.resize(size_t(std::max<int64_t>(count, 1) * out * nb));
    for (auto& b : blocks) b = uint8_t(rng());
    for (auto& s : scales) s = uint8_t(scale_lo + int(rng() % 15));
    for (int64_t e = 0; e < count; ++e)
      views.push_back({blocks.data() + e * out * nb * 16, scales.data() + e * out * nb, out, in, 0});
  }
};

}  // namespace gossamer::kernels::test
