#pragma once
// Non-owning tensor views. A view names its dtype, device and shape; row-major,
// contiguous unless strides say otherwise. Kernels take raw pointers with the shapes
// written beside them; views are what travels between model, worker and kernels.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/dtype.h"

namespace gossamer {

constexpr int kMaxDims = 4;

struct Shape {
  std::array<int64_t, kMaxDims> dims{};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  int64_t operator[](int i) const { return dims[static_cast<size_t>(i)]; }
  int64_t numel() const;
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[2, 3]"
};

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kF32;
  Device device = Device::kCPU;
  Shape shape;

  int64_t numel() const { return shape.numel(); }
  size_t nbytes() const { return dtype_bytes(dtype, static_cast<size_t>(numel())); }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
  // Row r of the outermost dimension (contiguous layout).
  TensorView row(int64_t r) const;
};

}  // namespace gossamer
