#include "kernels/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "kernels/cpu/rope.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/rope.h"
#endif

namespace gossamer::kernels {

// YaRN (docs/MODEL.md, "RoPE (YaRN)"; OpenAI's gpt_oss/torch/model.py
// _compute_concentration_and_inv_freq):
// pairs below `lo` keep theta^(-2i/d), pairs above `hi` are slowed by `factor`, the ones
// between are blended linearly. All in double: these feed every logit of every layer.
RopeTable RopeTable::build(const RopeParams& p) {
  if (p.head_dim <= 0 || p.head_dim % 2 != 0)
    GOSSAMER_THROW(kInvalidArgument, "rope: head_dim {} must be positive and even", p.head_dim);
  if (!(p.theta > 1.0) || !(p.factor >= 1.0))
    GOSSAMER_THROW(kInvalidArgument, "rope: theta {} / factor {} out of range", p.theta, p.factor);
  RopeTable t;
  t.head_dim = p.head_dim;
  const int half = p.head_dim / 2;
  t.inv_freq.resize(size_t(half));
  const double d = p.head_dim;
  if (p.factor <= 1.0) {
    for (int i = 0; i < half; ++i) t.inv_freq[size_t(i)] = std::pow(p.theta, -2.0 * i / d);
    t.concentration = 1.0;
    return t;
  }
  t.concentration = 0.1 * std::log(p.factor) + 1.0;
  const double two_pi = 2.0 * std::numbers::pi;
  double lo = (d / 2) * std::log(p.original_context / (p.beta_fast * two_pi)) / std::log(p.theta);
  double hi = (d / 2) * std::log(p.original_context / (p.beta_slow * two_pi)) / std::log(p.theta);
  if (p.truncate) {
    lo = std::floor(lo);
    hi = std::ceil(hi);
  }
  for (int i = 0; i < half; ++i) {
    const double base = std::pow(p.theta, -2.0 * i / d);
    const double r = std::clamp((i - lo) / (hi - lo), 0.0, 1.0);
    t.inv_freq[size_t(i)] = base * (1.0 - r) + (base / p.factor) * r;
  }
  return t;
}

void RopeTable::cos_sin(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t i = 0; i < inv_freq.size(); ++i) {
    const double a = double(pos) * inv_freq[i];
    cos_out[i] = static_cast<float>(std::cos(a) * concentration);
    sin_out[i] = static_cast<float>(std::sin(a) * concentration);
  }
}

void rope_apply(const Exec& exec, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table) {
  if (table.head_dim <= 0 || size_t(table.head_dim / 2) != table.inv_freq.size())
    GOSSAMER_THROW(kInvalidArgument, "rope_apply: table not built (head_dim {})", table.head_dim);
  if (exec.device == Device::kCPU) return cpu::rope_apply(exec.threads(), x, pos, n, heads, table);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::rope_apply(exec.stream, x, pos, n, heads, table);
#endif
  unsupported_device("rope_apply", exec);
}

}  // namespace gossamer::kernels
