#include "kernels/exec.h"

#include "core/error.h"

namespace gossamer::kernels {

void unsupported_device(const char* op, const Exec& exec) {
  GOSSAMER_THROW(kUnsupported, "kernel '{}' has no {} implementation in this build", op,
                 device_name(exec.device));
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::kCPU;
  if (name == "cuda") return Device::kCUDA;
  GOSSAMER_THROW(kInvalidArgument, "device '{}' is not one of cpu, cuda", name);
}

Exec open_device(Device device, ThreadPool* pool) {
  if (device == Device::kCPU) return Exec::cpu(pool);
#ifndef GOSSAMER_HAVE_CUDA
  GOSSAMER_THROW(kUnsupported,
                 "runtime.device is cuda, but this build has no CUDA backend (it is compiled when "
                 "CMake finds nvcc); use device: cpu or rebuild on a machine with the CUDA toolkit");
#else
  const int gpus = cuda_device_count();
  if (gpus == 0)
    GOSSAMER_THROW(kUnsupported,
                   "runtime.device is cuda, but no CUDA GPU is visible to this process (check the "
                   "driver, nvidia-smi and CUDA_VISIBLE_DEVICES)");
  // The CUDA kernels exist only for a few element-wise ops so far; the attention, MoE and
  // unembedding steps have no CUDA implementation yet, so refusing here beats failing in
  // the middle of the first step.
  GOSSAMER_THROW(kUnsupported,
                 "runtime.device is cuda and {} GPU(s) are visible, but this version's forward pass "
                 "runs only on the CPU (the CUDA attention and MoE kernels are not built yet); use "
                 "device: cpu",
                 gpus);
#endif
}

}  // namespace gossamer::kernels

#ifndef GOSSAMER_HAVE_CUDA
namespace gossamer::kernels {
// Without the CUDA backend there is nothing to count; kernels/cuda/device.cu defines it
// otherwise.
int cuda_device_count() { return 0; }
}  // namespace gossamer::kernels
#endif
