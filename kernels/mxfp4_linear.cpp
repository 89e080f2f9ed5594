#include "kernels/mxfp4_linear.h"

#include "core/error.h"
#include "core/mxfp4.h"
#include "kernels/cpu/mxfp4_linear.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/mxfp4.h"
#endif

namespace gossamer::kernels {

void mxfp4_linear(const Exec& exec, float* y, const float* x, int64_t n, const Mxfp4Weight& w,
                  const float* bias) {
  if (w.in % kMxfp4BlockSize != 0 || w.stride() < w.in / kMxfp4BlockSize)
    GOSSAMER_THROW(kInvalidArgument, "mxfp4_linear: in = {} must be a multiple of 32 (stride {})",
                   w.in, w.blocks_stride);
  if (exec.device == Device::kCPU) return cpu::mxfp4_linear(exec.threads(), y, x, n, w, bias);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::mxfp4_linear(exec.stream, y, x, n, w, bias);
#endif
  unsupported_device("mxfp4_linear", exec);
}

}  // namespace gossamer::kernels
