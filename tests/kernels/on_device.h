#pragma once
// Backend-ops runners (backend_ops.h) hand kernels pointers on exec.device. OnDevice<T>
// is a host vector as the kernel sees it: on the CPU the vector itself, on CUDA a device
// copy; host() reads it back (after synchronising exec's stream).
#include <stdexcept>
#include <vector>

#include "kernels/exec.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "core/buffer.h"
#include "kernels/cuda/device.h"
#endif

namespace gossamer::kernels::test {

template <typename T>
class OnDevice {
 public:
  OnDevice(const Exec& exec, std::vector<T> host) : exec_(exec), host_(std::move(host)) {
    if (exec_.device == Device::kCPU) return;
#ifdef GOSSAMER_HAVE_CUDA
    buf_ = Buffer(host_.size() * sizeof(T), Device::kCUDA);
    if (!host_.empty()) cuda::copy_to_device(buf_.data(), host_.data(), host_.size() * sizeof(T));
#else
    throw std::logic_error("OnDevice: this build has no CUDA backend");
#endif
  }
  // n value-initialised elements.
  OnDevice(const Exec& exec, size_t n) : OnDevice(exec, std::vector<T>(n)) {}

  T* ptr() {
#ifdef GOSSAMER_HAVE_CUDA
    if (exec_.device == Device::kCUDA) return buf_.as<T>();
#endif
    return host_.data();
  }
  size_t size() const { return host_.size(); }

  std::vector<T> host() {
#ifdef GOSSAMER_HAVE_CUDA
    if (exec_.device == Device::kCUDA) {
      cuda::synchronize(exec_.stream);
      if (!host_.empty()) cuda::copy_to_host(host_.data(), buf_.data(), host_.size() * sizeof(T));
    }
#endif
    return host_;
  }

 private:
  Exec exec_;
  std::vector<T> host_;
#ifdef GOSSAMER_HAVE_CUDA
  Buffer buf_;
#endif
};

}  // namespace gossamer::kernels::test
