#pragma once
// The index arrays of one step where the kernels read them. On the CPU they are the
// ForwardBatch's own vectors; on a GPU the kernels need device copies, made once per step
// by DeviceStepArrays: every array packed into one pinned staging buffer, one
// asynchronous host-to-device copy on the rank's stream (ordered before the step's
// kernels), so a step costs one copy however many sequences it has.
#include <cstddef>
#include <cstdint>

#include "worker/batch.h"

namespace gossamer::worker {

struct StepArrays {
  const int32_t* tokens = nullptr;               // [n_tokens]
  const int32_t* positions = nullptr;            // [n_tokens]
  const int32_t* seq_offsets = nullptr;          // [n_seqs + 1]
  const int32_t* block_table_offsets = nullptr;  // [n_seqs + 1]
  const int32_t* full_block_tables = nullptr;
  const int32_t* window_block_tables = nullptr;  // null unless batch.has_window_tables()
  const int32_t* logit_rows = nullptr;           // [logit_rows.size()]
};

// Pointers into the batch's vectors (valid while the batch is unchanged).
StepArrays host_step_arrays(const ForwardBatch& batch);

// Number of int32 values upload() moves for `batch` (all arrays above, back to back).
size_t packed_step_ints(const ForwardBatch& batch);

// Device copies of the step arrays (CUDA builds; elsewhere upload() throws kUnsupported).
// The buffers grow to the largest step seen, then are reused.
class DeviceStepArrays {
 public:
  DeviceStepArrays() = default;
  ~DeviceStepArrays();
  DeviceStepArrays(const DeviceStepArrays&) = delete;
  DeviceStepArrays& operator=(const DeviceStepArrays&) = delete;

  // Packs the batch's arrays into the staging buffer and enqueues their copy on `stream`
  // (a cudaStream_t). Waits for the stream first: the previous step's copy may still be
  // reading the staging buffer. The pointers are device memory, valid until the next call.
  StepArrays upload(const ForwardBatch& batch, void* stream);

 private:
  void reserve(size_t ints);
  int32_t* staging_ = nullptr;  // pinned host memory
  int32_t* device_ = nullptr;
  size_t capacity_ = 0;         // int32 values of both
};

}  // namespace gossamer::worker
