#include "kernels/exec.h"

#include "core/error.h"

namespace gossamer::kernels {

void unsupported_device(const char* op, const Exec& exec) {
  GOSSAMER_THROW(kUnsupported, "kernel '{}' has no {} implementation in this build", op,
                 device_name(exec.device));
}

}  // namespace gossamer::kernels

#ifndef GOSSAMER_HAVE_CUDA
namespace gossamer::kernels {
// Without the CUDA backend there is nothing to count; kernels/cuda/device.cu defines it
// otherwise.
int cuda_device_count() { return 0; }
}  // namespace gossamer::kernels
#endif
