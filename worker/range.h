#pragma once
// Range: a half-open [begin, end) interval of layers, heads, experts or vocab rows. Shared
// by WeightSelection (worker/weights.h) and Mapping (worker/mapping.h).
#include <cstdint>

namespace gossamer::worker {

// Half-open [begin, end) ranges in units of the named thing. end = -1 means "all".
struct Range {
  int64_t begin = 0, end = -1;
  int64_t size() const { return end - begin; }
  bool contains(int64_t i) const { return i >= begin && i < end; }
  friend bool operator==(const Range&, const Range&) = default;
};

}  // namespace gossamer::worker
