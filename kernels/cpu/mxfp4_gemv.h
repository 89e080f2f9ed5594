#pragma once
// The few-token MXFP4 GEMV of decode steps: every weight row streams once from memory and
// meets at most kMxfp4GemvMaxTokens input rows while its codes are in registers.
//
// A block's 16 bytes hold its 32 codes in pairs: the low nibble of byte j is element 2j,
// the high nibble element 2j+1. The kernels decode the low nibbles of all 16 bytes as one
// vector and the high nibbles as another, so the input is reordered to match once per
// call ("split" order, mxfp4_split_input) instead of interleaving codes for every weight
// block: the codes then go straight from a table lookup into the FMAs.
//
// Included by translation units compiled with AVX-512 flags (kernels/cpu/avx512/): plain
// declarations only, no inline code (see kernels/cpu/dense_rows.h for why).
#include <cstdint>

namespace gossamer::kernels::cpu {

// Tokens one call takes: up to kMxfp4GemvMaxTokens on AVX-512, kMxfp4GemvMaxTokensAvx2 on
// AVX2 (16 registers: two accumulators per row and token).
inline constexpr int kMxfp4GemvMaxTokens = 6;
inline constexpr int kMxfp4GemvMaxTokensAvx2 = 4;

// e2m1 code -> value, 64-byte aligned for one zmm load: the AVX-512 MXFP4 kernels'
// copy of core/mxfp4.h's kFp4Values, whose header has inline code that those units may not
// include (kernels/cpu/grouped_mxfp4.cpp checks the two tables are equal).
alignas(64) inline constexpr float kE2m1Values[16] = {+0.0f, +0.5f, +1.0f, +1.5f, +2.0f, +3.0f, +4.0f, +6.0f,
                                                      -0.0f, -0.5f, -1.0f, -1.5f, -2.0f, -3.0f, -4.0f, -6.0f};

// dst = x reordered per 32-element block: the 16 even-indexed values, then the 16 odd.
// in % 32 == 0.
void mxfp4_split_input(const float* x, int64_t in, float* dst);

// res[t * res_ld + (r - r_begin)] = Σ_c W[r, c] · x_t[c]   for r in [r_begin, r_end),
// t < tokens. Accumulation in f32; no bias.
struct Mxfp4GemvJob {
  const uint8_t* blocks = nullptr;  // row r at blocks + r * stride * 16
  const uint8_t* scales = nullptr;  // row r at scales + r * stride
  int64_t stride = 0;               // blocks per row in memory
  int64_t nb = 0;                   // blocks per row used (in / 32)
  const float* const* xs = nullptr; // [tokens] inputs in split order, in = nb * 32
  int tokens = 1;                   // 1..kMxfp4GemvMaxTokens(Avx2)
  const float* scale_table = nullptr;  // 2^(s-127) for s in 0..255
  float* res = nullptr;
  int64_t res_ld = 0;
};

void mxfp4_gemv_rows_avx2(const Mxfp4GemvJob& job, int64_t r_begin, int64_t r_end);
// Only call when isa_supported(Isa::kAvx512, ...) (kernels/cpu/isa.h).
void mxfp4_gemv_rows_avx512(const Mxfp4GemvJob& job, int64_t r_begin, int64_t r_end);

}  // namespace gossamer::kernels::cpu
