#include "worker/step_arrays.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::worker {

StepArrays host_step_arrays(const ForwardBatch& b) {
  StepArrays a;
  a.tokens = b.tokens.data();
  a.positions = b.positions.data();
  a.seq_offsets = b.seq_offsets.data();
  a.block_table_offsets = b.block_table_offsets.data();
  a.full_block_tables = b.full_block_tables.data();
  a.window_block_tables = b.has_window_tables() ? b.window_block_tables.data() : nullptr;
  a.logit_rows = b.logit_rows.data();
  return a;
}

namespace {

// The arrays in packing order; window tables only when every chunk has one.
template <typename F>
void for_each_array(const ForwardBatch& b, F&& f) {
  f(b.tokens, &StepArrays::tokens);
  f(b.positions, &StepArrays::positions);
  f(b.seq_offsets, &StepArrays::seq_offsets);
  f(b.block_table_offsets, &StepArrays::block_table_offsets);
  f(b.full_block_tables, &StepArrays::full_block_tables);
  if (b.has_window_tables()) f(b.window_block_tables, &StepArrays::window_block_tables);
  f(b.logit_rows, &StepArrays::logit_rows);
}

}  // namespace

size_t packed_step_ints(const ForwardBatch& b) {
  size_t n = 0;
  for_each_array(b, [&](const std::vector<int32_t>& v, auto) { n += v.size(); });
  return n;
}

#ifdef GOSSAMER_HAVE_CUDA

DeviceStepArrays::~DeviceStepArrays() {
  kernels::cuda::pinned_free(staging_);
  kernels::cuda::device_free(device_);
}

void DeviceStepArrays::reserve(size_t ints) {
  if (ints <= capacity_) return;
  const size_t grown = std::max(ints, 2 * capacity_);
  kernels::cuda::pinned_free(staging_);
  kernels::cuda::device_free(device_);
  staging_ = nullptr, device_ = nullptr, capacity_ = 0;
  staging_ = static_cast<int32_t*>(kernels::cuda::pinned_malloc(grown * sizeof(int32_t)));
  device_ = static_cast<int32_t*>(kernels::cuda::device_malloc(grown * sizeof(int32_t)));
  capacity_ = grown;
}

StepArrays DeviceStepArrays::upload(const ForwardBatch& batch, void* stream) {
  kernels::cuda::synchronize(stream);
  reserve(std::max<size_t>(packed_step_ints(batch), 1));
  StepArrays a;
  size_t at = 0;
  for_each_array(batch, [&](const std::vector<int32_t>& v, const int32_t* StepArrays::*field) {
    std::copy(v.begin(), v.end(), staging_ + at);
    a.*field = device_ + at;
    at += v.size();
  });
  if (at > 0) kernels::cuda::copy_h2d_async(device_, staging_, at * sizeof(int32_t), stream);
  return a;
}

#else

DeviceStepArrays::~DeviceStepArrays() = default;
void DeviceStepArrays::reserve(size_t) {}
StepArrays DeviceStepArrays::upload(const ForwardBatch&, void*) {
  GOSSAMER_THROW(kUnsupported, "device step arrays need the CUDA backend, which this build lacks");
}

#endif

}  // namespace gossamer::worker
