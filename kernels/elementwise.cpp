#include "kernels/elementwise.h"

#include "kernels/cpu/elementwise.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/elementwise.h"
#endif

namespace gossamer::kernels {

void add_inplace(const Exec& exec, float* y, const float* x, int64_t n) {
  if (exec.device == Device::kCPU) return cpu::add_inplace(exec.threads(), y, x, n);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::add_inplace(exec.stream, y, x, n);
#endif
  unsupported_device("add_inplace", exec);
}

void axpy(const Exec& exec, float* y, float a, const float* x, int64_t n) {
  if (exec.device == Device::kCPU) return cpu::axpy(exec.threads(), y, a, x, n);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::axpy(exec.stream, y, a, x, n);
#endif
  unsupported_device("axpy", exec);
}

}  // namespace gossamer::kernels
