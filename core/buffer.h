#pragma once
// Owning, aligned, device-tagged memory. CPU buffers are 64-byte aligned (one cache
// line, the widest SIMD load). CUDA buffers come from the CUDA backend's allocator,
// which registers itself here so core does not depend on the CUDA runtime.
#include <cstddef>
#include <vector>

#include "core/tensor.h"

namespace gossamer {

class Buffer {
 public:
  Buffer() = default;
  Buffer(size_t bytes, Device device = Device::kCPU);
  ~Buffer();
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t size() const { return bytes_; }
  Device device() const { return device_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  void release();
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_ = Device::kCPU;
};

// A tensor that owns its storage.
class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Shape shape, Device device = Device::kCPU);
  const TensorView& view() const { return view_; }
  template <typename T>
  T* as() const { return view_.as<T>(); }
  const Shape& shape() const { return view_.shape; }
  int64_t numel() const { return view_.numel(); }

 private:
  Buffer buffer_;
  TensorView view_;
};

// Hook set by the CUDA backend: allocate/free device memory.
struct DeviceAllocator {
  void* (*alloc)(size_t bytes) = nullptr;
  void (*free)(void* p) = nullptr;
};
void register_device_allocator(Device device, DeviceAllocator allocator);

}  // namespace gossamer
