#pragma once
// The decoded tile of the exact expert GEMM (kernels/cpu/grouped_mxfp4.cpp): rows of an
// MXFP4 matrix written out as bf16, row-major, which the dense bf16 micro-kernels then
// multiply against every row routed to the expert. Exact: an e2m1 value times a power of
// two has at most 2 significant bits and bf16 has f32's exponent range, so the top half
// of the f32 product is the value.
//
// Included by translation units compiled with AVX-512 flags (kernels/cpu/avx512/): plain
// declarations only, no inline code (see kernels/cpu/dense_rows.h for why).
#include <cstdint>

namespace gossamer::kernels::cpu {

// Rows [o0, o1) of an MXFP4 matrix (row r's nb blocks of 16 bytes at blocks + r * stride
// * 16, its scales at scales + r * stride) into dst, row r - o0 at dst + (r - o0) * nb * 32;
// scale_table[s] is 2^(s - 127). Raw pointers, not a Mxfp4Weight: that header has inline
// code. Only call when isa_supported(Isa::kAvx512, ...) (kernels/cpu/isa.h).
void decode_tile_bf16_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t o0,
                             int64_t o1, uint16_t* dst, const float* scale_table);

}  // namespace gossamer::kernels::cpu
