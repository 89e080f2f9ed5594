#include "core/error.h"

namespace gossamer {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kCorruptData: return "corrupt_data";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kComm: return "comm";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

}  // namespace gossamer
