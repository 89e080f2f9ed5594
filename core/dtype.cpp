#include "core/dtype.h"

namespace gossamer {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "F32";
    case DType::kBF16: return "BF16";
    case DType::kF16: return "F16";
    case DType::kU8: return "U8";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kMXFP4: return "MXFP4";
  }
  return "?";
}

const char* device_name(Device d) { return d == Device::kCPU ? "cpu" : "cuda"; }

size_t dtype_bytes(DType t, size_t n) {
  switch (t) {
    case DType::kF32: case DType::kI32: return 4 * n;
    case DType::kBF16: case DType::kF16: return 2 * n;
    case DType::kU8: return n;
    case DType::kI64: return 8 * n;
    case DType::kMXFP4: return (n + 1) / 2;
  }
  return 0;
}

}  // namespace gossamer
