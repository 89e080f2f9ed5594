#include "comm/communicator.h"

#include <vector>

#include "core/error.h"

namespace gossamer::comm {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kMax: return "max";
    case ReduceOp::kMin: return "min";
  }
  return "?";
}

void Communicator::all_reduce_sum(float* data, size_t count, Device device) {
  all_reduce(data, count, DType::kF32, ReduceOp::kSum, device);
}

void Communicator::all_to_all(const void* send, size_t count, void* recv, DType dtype,
                              Device device) {
  // Equal blocks: counts all `count`, packed displacements.
  equal_counts_.assign(static_cast<size_t>(size()), count);
  all_to_all_v(send, equal_counts_, {}, recv, equal_counts_, {}, dtype, device);
}

namespace detail {

void check_counts(const Communicator& c, const char* op, std::span<const size_t> counts,
                  std::span<const size_t> displs) {
  const auto n = static_cast<size_t>(c.size());
  if (counts.size() != n)
    GOSSAMER_THROW(kInvalidArgument, "comm group '{}': {}: {} counts for a group of {}",
                   c.name(), op, counts.size(), n);
  if (!displs.empty() && displs.size() != n)
    GOSSAMER_THROW(kInvalidArgument,
                   "comm group '{}': {}: {} displacements for a group of {}", c.name(), op,
                   displs.size(), n);
}

size_t total_count(std::span<const size_t> counts, std::span<const size_t> displs) {
  size_t extent = 0, offset = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const size_t begin = displs.empty() ? offset : displs[i];
    if (counts[i] > 0 && begin + counts[i] > extent) extent = begin + counts[i];
    offset += counts[i];
  }
  return extent;
}

void check_buffer(const Communicator& c, const char* op, const void* data, size_t count) {
  if (count > 0 && data == nullptr)
    GOSSAMER_THROW(kInvalidArgument, "comm group '{}': {}: null buffer for {} elements",
                   c.name(), op, count);
}

void check_peer(const Communicator& c, const char* op, int peer, int tag) {
  if (peer < 0 || peer >= c.size())
    GOSSAMER_THROW(kInvalidArgument, "comm group '{}': {}: peer {} outside a group of {}",
                   c.name(), op, peer, c.size());
  if (peer == c.rank())
    GOSSAMER_THROW(kInvalidArgument, "comm group '{}': {}: rank {} addresses itself",
                   c.name(), op, peer);
  if (tag < 0 || tag >= 32768)
    GOSSAMER_THROW(kInvalidArgument, "comm group '{}': {}: tag {} outside [0, 32768)",
                   c.name(), op, tag);
}

}  // namespace detail
}  // namespace gossamer::comm
