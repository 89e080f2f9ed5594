#include "kernels/swiglu.h"

#include "kernels/cpu/swiglu.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/swiglu.h"
#endif

namespace gossamer::kernels {

void swiglu_clamped(const Exec& exec, float* out, const float* gate_up, int64_t n,
                    int64_t intermediate, float alpha, float limit) {
  if (exec.device == Device::kCPU)
    return cpu::swiglu_clamped(exec.threads(), out, gate_up, n, intermediate, alpha, limit);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA)
    return cuda::swiglu_clamped(exec.stream, out, gate_up, n, intermediate, alpha, limit);
#endif
  unsupported_device("swiglu_clamped", exec);
}

}  // namespace gossamer::kernels
