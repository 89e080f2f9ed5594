#include "core/buffer.h"

#include <sys/mman.h>

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
    // Large buffers (KV cache, workspace) start on a 2 MB boundary and ask for transparent
    // huge pages: a step walks them end to end, and one TLB entry per 2 MB instead of per
    // 4 KB keeps the walks off the critical path. Where THP is off the advice is ignored.
    constexpr size_t kHugePage = size_t{2} << 20;
    const size_t align = bytes >= 2 * kHugePage ? kHugePage : 64;
    size_t rounded = (bytes + align - 1) / align * align;
    data_ = std::aligned_alloc(align, rounded);
    if (!data_) throw std::bad_alloc();
    if (align == kHugePage) ::madvise(data_, rounded, MADV_HUGEPAGE);
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
