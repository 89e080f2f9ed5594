#pragma once
// The int8 path of the grouped MXFP4 expert GEMM (precision fast): AVX-512 VNNI kernels,
// and on AVX2 CPUs the packed-layout GEMV at the end of this file.
//
// Why int8: twice every e2m1 value is an integer in [-12, 12], so a weight tile decodes
// exactly to bytes plus the block's e8m0 scale (x 0.5). Activations are quantised once per
// call to int8 per block of 32 (scale = max|x| / 127), and vpdpbusd then does 64
// multiply-adds per instruction where the f32 path's FMA does 16.
//
// vpdpbusd multiplies unsigned by signed bytes: the weights are stored as 2w + 12 in
// [0, 24] and each activation block carries -12 * (sum of its int8 values), which starts
// the block's int32 accumulator, so the offset cancels exactly.
//
// Decoded tile layout (per group of 16 weight rows, per 32-block g, per step s of 4 k's):
// one 64-byte line whose dword lane i holds row i's 4 bytes for k = 32g + 4s .. +3, so
// every lane of the accumulator is one weight row and no horizontal sum is needed.
//
// Included by translation units compiled with AVX-512 flags (kernels/cpu/avx512/): plain
// declarations only, no inline code (see kernels/cpu/dense_rows.h for why).
#include <cstdint>

namespace gossamer::kernels::cpu {

// e2m1 code -> 2 * value + 12: the unsigned weight byte of vpdpbusd in every kernel here
// (a vpshufb table). Code 8 (-0) decodes like code 0.
alignas(16) inline constexpr int8_t kInt8WeightCodes[16] = {12, 13, 14, 15, 16, 18, 20, 24,
                                                            12, 11, 10, 9,  8,  6,  4,  0};
inline constexpr int32_t kInt8WeightOffset = 12;

inline constexpr int64_t kInt8GroupRows = 16;   // weight rows per 64-byte lane group
inline constexpr int64_t kInt8GroupBytes = 512;  // one group's bytes per 32-block

// Activations quantised per block of 32: row r's bytes at q + r * in, its scales and
// offset corrections at scale / corr + r * (in / 32).
struct Int8Rows {
  int8_t* q = nullptr;
  float* scale = nullptr;   // max|x| / 127 (0 for an all-zero block)
  int32_t* corr = nullptr;  // -12 * sum of the block's q
  int64_t in = 0;
};

// Rows [r0, r1) of x ([*, in] f32, in % 32 == 0) into rows [r0, r1) of dst.
void quantize_rows_int8_avx512(const float* x, int64_t r0, int64_t r1, const Int8Rows& dst);

// Weight rows [o0, o1) of an MXFP4 matrix into the tile layout above: dst gets
// ceil((o1-o0)/16) groups of nb * 512 bytes, wscale [groups][nb][16] f32 holds
// 0.5 * 2^(e-127) per row and block. Missing rows of the last group decode as zeros.
void decode_tile_int8_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb,
                             int64_t o0, int64_t o1, const float* scale_table, uint8_t* dst, float* wscale);

// dots[t * dots_ld + o] = Σ_k W[o, k] · x_src(t)[k] for the tile's rows o < groups * 16 and
// tokens t < m, where src(t) = rows[t] if rows is set, else row0 + t.
struct Int8TileJob {
  const uint8_t* w = nullptr;
  const float* wscale = nullptr;
  int64_t groups = 0, nb = 0;
  const Int8Rows* x = nullptr;
  const int32_t* rows = nullptr;
  int64_t row0 = 0, m = 0;
  float* dots = nullptr;
  int64_t dots_ld = 0;  // a multiple of 16
};
void int8_tile_rows_avx512(const Int8TileJob& job);

// The fused SwiGLU of fast mode on `pairs` interleaved (gate, linear) sums u:
//   y[i] = min(g, limit) * sigmoid(alpha * min(g, limit)) * (clamp(l, -limit, limit) + 1)
// with a polynomial exp (relative error about 2e-7) instead of one libm call per value.
void swiglu_pairs_avx512(const float* u, int64_t pairs, float alpha, float limit, float* y);

// ---- The few-row GEMV of decode steps (experts with at most kInt8GemvMaxTokens rows) ----
// No tile: each weight row streams once, two blocks (32 bytes) per 64-byte vector, decoded
// in 4 instructions with the high nibbles in the upper half. The input is quantised to
// match once per call: per pair of blocks (g, g+1), 64 bytes = g's even elements, g+1's
// even, g's odd, g+1's odd; dword lanes 0-3 and 8-11 belong to g, 4-7 and 12-15 to g+1, so
// the per-lane scales (xs) and corrections (corr: a block's whole correction in its first
// lane) line up with the vpdpbusd sums. An odd last block pairs with a zero block.
inline constexpr int kInt8GemvMaxTokens = 4;
// pairs = (in / 32 + 1) / 2 (no inline helper: see the note at the top).

// One input row (in f32) into q [pairs][64], xs [pairs][16], corr [pairs][16].
void quantize_gemv_int8_avx512(const float* x, int64_t in, int8_t* q, float* xs, int32_t* corr);

struct Int8GemvJob {
  const uint8_t* blocks = nullptr;  // row r at blocks + r * stride * 16
  const uint8_t* scales = nullptr;  // row r at scales + r * stride
  int64_t stride = 0, nb = 0;
  const int8_t* const* q = nullptr;  // [tokens] quantised inputs (layout above)
  const float* const* xs = nullptr;
  const int32_t* const* corr = nullptr;
  int tokens = 1;                     // 1..kInt8GemvMaxTokens
  const float* scale_table = nullptr;  // 2^(s-127) for s in 0..255
  float* res = nullptr;
  int64_t res_ld = 0;
};
// res[t * res_ld + (r - r_begin)] = Σ_k W[r, k] · x_t[k] for r in [r_begin, r_end).
void int8_gemv_rows_avx512(const Int8GemvJob& job, int64_t r_begin, int64_t r_end);

// ---- Expert weights repacked at load (kernels/weight_prep.cpp, precision fast) ----
// The packed layout of one [out, in] MXFP4 matrix, groups = ceil(out / 16) (the last group
// padded with zero codes and zero scales):
//   blocks: [groups][nb][256] bytes. Per group of 16 rows and block g, 8 chunks of 32 bytes,
//     chunk c for k = 32g + 4c .. +3: byte 4j + i holds row j's e2m1 code for k = 32g + 4c
//     + i in its low nibble and row j + 8's in its high nibble. One broadcast, shift, AND
//     and vpshufb turn a chunk into the decoded tile's 64-byte line (lane i = row i).
//   then scales: [groups][nb][16] e8m0 bytes, one per row.
// The same bytes as the stored layout (padding aside); nothing is transposed per step.
inline constexpr int64_t kPackedGroupBlockBytes = 256;
// Bytes of the packed matrix: groups * nb * (256 + 16) (no inline helper: see the top).

// Groups [g0, g1) of the packed matrix at dst, from the stored layout (row r's blocks at
// blocks + r * stride * 16, scales at scales + r * stride).
void pack_groups_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t out,
                        int64_t g0, int64_t g1, const float* scale_table, uint8_t* dst);

// Rows [o0, o1) (o0 a multiple of 16) of a packed matrix of `groups` groups into the tile
// layout of decode_tile_int8_avx512 (same dst and wscale).
void decode_tile_packed_avx512(const uint8_t* packed, int64_t groups, int64_t nb, int64_t o0, int64_t o1,
                               uint8_t* dst, float* wscale);

// The GEMV of experts with few rows on packed weights: the rows come quantised as for the
// tile path (Int8Rows), token t's source row is rows[t] if rows is set, else row0 + t.
inline constexpr int kPackedGemvMaxTokens = 6;
struct PackedGemvJob {
  const uint8_t* packed = nullptr;
  int64_t groups = 0, nb = 0;
  const Int8Rows* x = nullptr;
  const int32_t* rows = nullptr;
  int64_t row0 = 0;
  int tokens = 1;  // 1..kPackedGemvMaxTokens
  float* res = nullptr;
  int64_t res_ld = 0;
};
// res[t * res_ld + (o - o0)] = Σ_k W[o, k] · x_t[k] for o in [o0, o1), o0 a multiple of 16.
void packed_gemv_rows_avx512(const PackedGemvJob& job, int64_t o0, int64_t o1);

// ---- The packed layout on AVX2 CPUs (kernels/cpu/mxfp4_packed_avx2.cpp) ----
// The GEMV above with vpmaddubsw + vpmaddwd, for the same 1..kPackedGemvMaxTokens tokens;
// prefill calls it that many rows at a time (kernels/cpu/grouped_mxfp4.cpp).
// With AVX-VNNI's vpdpbusd where the CPU has it, else vpmaddubsw + vpmaddwd; the two
// variants are also callable on their own (the same sums, so the same floats).
void packed_gemv_rows_avx2(const PackedGemvJob& job, int64_t o0, int64_t o1);
void packed_gemv_rows_avx2_maddubs(const PackedGemvJob& job, int64_t o0, int64_t o1);
void packed_gemv_rows_avxvnni(const PackedGemvJob& job, int64_t o0, int64_t o1);  // AVX-VNNI CPUs only
// quantize_rows_int8_avx512 on AVX2: the same bytes, scales and corrections.
void quantize_rows_int8_avx2(const float* x, int64_t r0, int64_t r1, const Int8Rows& dst);
// pack_groups_avx512 without AVX-512: the same bytes.
void pack_groups_portable(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t out,
                          int64_t g0, int64_t g1, uint8_t* dst);

}  // namespace gossamer::kernels::cpu
