#include "kernels/rmsnorm.h"

#include "kernels/cpu/rmsnorm.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/rmsnorm.h"
#endif

namespace gossamer::kernels {

void rmsnorm(const Exec& exec, float* y, const float* x, const float* gain, int64_t n, int64_t dim,
             float eps) {
  if (exec.device == Device::kCPU) return cpu::rmsnorm(exec.threads(), y, x, gain, n, dim, eps);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::rmsnorm(exec.stream, y, x, gain, n, dim, eps);
#endif
  unsupported_device("rmsnorm", exec);
}

}  // namespace gossamer::kernels
