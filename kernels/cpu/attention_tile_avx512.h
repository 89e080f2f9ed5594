#pragma once
// AVX-512 versions of the steps of the tiled attention kernel
// (kernels/cpu/attention_varlen.cpp) that touch every key: the key tile widened and
// transposed, the score tile S = Q Kᵀ and the value update O += P V. A key tile is 16 keys, one zmm of scores per query row, where the AVX2 tiles
// (kernels/cpu/attention_tile.h) need two ymm; a 64-wide head is four zmm of O per row
// instead of eight ymm in four passes. Each output element sums the same products in the
// same order as the AVX2 tiles, so the results are bit-identical.
//
// Included by translation units compiled with AVX-512 flags (kernels/cpu/avx512/): plain
// declarations only, no inline code (see kernels/cpu/dense_rows.h for why). Only call when
// isa_supported(Isa::kAvx512, ...) (kernels/cpu/isa.h).
#include <cstdint>

namespace gossamer::kernels::cpu {

// s[r * 16 + j] = scale * Σ_i q[r][i] kt[i * 16 + j] for r < rows, j < 16 (kt: the key
// tile transposed, 64-byte aligned rows of 16).
void attention_scores_avx512(const float* const* q, int64_t rows, const float* kt, int64_t d, float scale, float* s);

// o[r * ostride + c] += Σ_{j < nk} p[r * 16 + j] v[j][c] for r < rows, c < d.
void attention_accumulate_avx512(float* o, int64_t ostride, int64_t rows, const float* p, const float* const* v,
                                 int nk, int64_t d);

// kt[i * 16 + j] = key j's element i, for i < d and the 16 key rows rows[j] (f32, or bf16
// when `bf16`, widened exactly): the key tile, transposed for attention_scores_avx512.
void attention_key_tile_avx512(const void* const* rows, bool bf16, int64_t d, float* kt);

// dst[j * dst_stride + i] = rows[j][i] widened from bf16 (exact), for j < n, i < d.
void attention_widen_rows_avx512(const uint16_t* const* rows, int n, int64_t d, float* dst, int64_t dst_stride);

}  // namespace gossamer::kernels::cpu
