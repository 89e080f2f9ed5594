#pragma once
// Element types and devices. Every buffer and view carries both explicitly.
#include <cstdint>
#include <cstring>
#include <string>

namespace gossamer {

enum class DType : uint8_t {
  kF32,
  kBF16,
  kF16,
  kU8,
  kI32,
  kI64,
  kMXFP4,  // packed e2m1 nibbles (2 per byte); scales live in a separate U8 tensor
};

enum class Device : uint8_t { kCPU, kCUDA };

const char* dtype_name(DType t);
const char* device_name(Device d);
// Bytes for n elements of type t (MXFP4: n/2).
size_t dtype_bytes(DType t, size_t n);

// bf16 is stored as its raw 16 bits; the upper half of an IEEE f32.
struct bf16 {
  uint16_t bits;
};

inline float bf16_to_f32(bf16 v) {
  uint32_t u = static_cast<uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even, as torch does (NaN stays NaN).
inline bf16 f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return bf16{static_cast<uint16_t>((u >> 16) | 0x40)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return bf16{static_cast<uint16_t>(u >> 16)};
}

}  // namespace gossamer
