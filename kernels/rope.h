#pragma once
// YaRN-scaled rotary embedding with half-split pairing (docs/MODEL.md, "RoPE (YaRN)").
#include <cstdint>
#include <vector>

#include "kernels/exec.h"

namespace gossamer::kernels {

struct RopeParams {
  int head_dim = 64;
  double theta = 150000.0;
  double factor = 32.0;          // YaRN scaling factor (1 = plain RoPE)
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double original_context = 4096.0;
  bool truncate = false;         // HF floors/ceils the ramp bounds when true
};

// Per-pair inverse frequencies f_i (i < head_dim/2) and the concentration c, in double.
struct RopeTable {
  std::vector<double> inv_freq;
  double concentration = 1.0;
  int head_dim = 0;
  static RopeTable build(const RopeParams& p);
  // cos/sin at position pos for pair i, concentration included (the tested quantity).
  void cos_sin(int64_t pos, float* cos_out, float* sin_out) const;  // each [head_dim/2]
};

// x[n, heads, head_dim] rotated in place for positions pos[n].
void rope_apply(const Exec& exec, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table);

}  // namespace gossamer::kernels
