#include "core/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace gossamer {
namespace {
DeviceAllocator g_cuda_allocator;
}

void register_device_allocator(Device device, DeviceAllocator allocator) {
  GOSSAMER_CHECK(device == Device::kCUDA, "only CUDA takes an allocator");
  g_cuda_allocator = allocator;
}

Buffer::Buffer(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (bytes == 0) return;
  if (device == Device::kCPU) {
    size_t rounded = (bytes + 63) / 64 * 64;
    data_ = std::aligned_alloc(64, rounded);
    if (!data_) throw std::bad_alloc();
    std::memset(data_, 0, rounded);
  } else {
    if (!g_cuda_allocator.alloc)
      GOSSAMER_THROW(kUnsupported, "CUDA buffer requested but the CUDA backend is not available");
    data_ = g_cuda_allocator.alloc(bytes);
  }
}

Buffer::~Buffer() { release(); }

void Buffer::release() {
  if (!data_) return;
  if (device_ == Device::kCPU) std::free(data_);
  else if (g_cuda_allocator.free) g_cuda_allocator.free(data_);
  data_ = nullptr;
}

Buffer::Buffer(Buffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_), device_(o.device_) {
  o.data_ = nullptr;
  o.bytes_ = 0;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = o.data_;
    bytes_ = o.bytes_;
    device_ = o.device_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

Tensor::Tensor(DType dtype, Shape shape, Device device)
    : buffer_(dtype_bytes(dtype, static_cast<size_t>(shape.numel())), device) {
  view_.data = buffer_.data();
  view_.dtype = dtype;
  view_.device = device;
  view_.shape = shape;
}

}  // namespace gossamer
