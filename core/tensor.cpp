#include "core/tensor.h"

#include <fmt/format.h>

#include "core/error.h"

namespace gossamer {

Shape::Shape(std::initializer_list<int64_t> d) {
  GOSSAMER_CHECK(d.size() <= kMaxDims, "rank {} > {}", d.size(), kMaxDims);
  for (int64_t v : d) dims[static_cast<size_t>(rank++)] = v;
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[static_cast<size_t>(i)];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[static_cast<size_t>(i)] != o.dims[static_cast<size_t>(i)]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += fmt::format("{}{}", i ? ", " : "", dims[static_cast<size_t>(i)]);
  return s + "]";
}

TensorView TensorView::row(int64_t r) const {
  GOSSAMER_CHECK(shape.rank >= 1 && r >= 0 && r < shape[0], "row {} of {}", r, shape.str());
  TensorView v = *this;
  v.shape.rank = shape.rank - 1;
  for (int i = 0; i + 1 < shape.rank; ++i) v.shape.dims[static_cast<size_t>(i)] = shape.dims[static_cast<size_t>(i + 1)];
  if (v.shape.rank == 0) { v.shape.rank = 1; v.shape.dims[0] = 1; }
  v.data = static_cast<char*>(data) + dtype_bytes(dtype, static_cast<size_t>(r * (numel() / shape[0])));
  return v;
}

}  // namespace gossamer
