#pragma once
// MXFP4 decode (checkpoint inspection, tests, reference paths) and encode (the synthetic
// checkpoint writer). Layout in docs/MODEL.md, "MXFP4"; primitives in core/mxfp4.h.
#include <cstdint>

namespace gossamer::model {

// One row of `in` values (in % 32 == 0):
//   blocks [in/32, 16] u8, scales [in/32] u8  ->  out [in] f32
void mxfp4_decode_row(const uint8_t* blocks, const uint8_t* scales, int64_t in, float* out);

// One expert matrix W[rows, in], contiguous as stored in the checkpoint:
//   blocks [rows, in/32, 16], scales [rows, in/32]  ->  out [rows, in] f32
void mxfp4_decode_matrix(const uint8_t* blocks, const uint8_t* scales, int64_t rows, int64_t in, float* out);

// Nearest e2m1 code of v (|v| <= 6 after scaling; larger values saturate to ±6).
// Ties go to the code with the even mantissa, as IEEE round-to-nearest-even would.
uint8_t fp4_encode(float v);

// Quantizes one row x[in] (in % 32 == 0) into blocks [in/32, 16] and scales [in/32].
// Per block of 32 the scale is the smallest power of two 2^e with max|x| / 2^e <= 6, so the
// largest value is representable; the others round to the nearest e2m1 value.
void mxfp4_quantize_row(const float* x, int64_t in, uint8_t* blocks, uint8_t* scales);

}  // namespace gossamer::model
