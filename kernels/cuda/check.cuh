#pragma once
// Turns a CUDA error into gossamer::Error (never exit/abort in library code).
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace gossamer::kernels::cuda {

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw ::gossamer::Error(::gossamer::ErrorCode::kInternal,
                            std::string("CUDA ") + what + ": " + cudaGetErrorString(err));
}

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

// Blocks for a grid-stride loop over n elements.
inline int blocks_for(long long n, int threads) {
  long long b = (n + threads - 1) / threads;
  return int(b < 1 ? 1 : (b > 65535 ? 65535 : b));
}

}  // namespace gossamer::kernels::cuda
