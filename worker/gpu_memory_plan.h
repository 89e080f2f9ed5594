#pragma once
// How a GPU rank splits its device memory (`--gpu-memory-fraction`, runtime config
// `gpu_memory_fraction`, default 0.9, as in peers): the weights are on the device first,
// then what the step needs (workspace, logits of the largest decode step, a headroom for
// cuBLAS / NCCL / the sampler), and the KV pools take the rest of the fraction. The
// full-attention pool grows to fill it (never below the blocks the caller asked for: a
// pool that cannot hold them is a start-up error naming the numbers); the sliding-window
// pool keeps its size. The growth stops at GpuMemoryInputs::max_full_blocks. Pure arithmetic, so it is tested on the CPU.
#include <cstddef>
#include <cstdint>
#include <string>

#include "worker/kv_pools.h"

namespace gossamer::worker {

struct GpuMemoryInputs {
  size_t total_bytes = 0;      // of the device
  size_t free_bytes = 0;       // after the weights are on it
  double fraction = 0.9;       // of total_bytes this process may end up using
  size_t workspace_bytes = 0;  // the forward pass's scratch
  size_t logits_bytes = 0;     // logits of the largest sampled step
  size_t headroom_bytes = size_t{512} << 20;
  // Bytes of one block of each pool across this rank's layers of that kind.
  size_t full_block_bytes = 0;
  size_t window_block_bytes = 0;
  KvPoolSizes requested;       // the blocks the caller asked for (the minimum)
  // The pool grows to at most this many blocks (or the requested count, if larger): the
  // planner's host-side bookkeeping is per block, and a small model's blocks are so small
  // that the memory alone would allow billions.
  int64_t max_full_blocks = int64_t{1} << 18;
  // False: keep the requested pools (checked to fit). For ranks sharing one GPU (the staged
  // communicator's test layouts), where each rank growing into the shared free memory would
  // take it several times over.
  bool grow = true;
};

struct GpuMemoryPlan {
  size_t used_before_bytes = 0;  // total - free at the start (weights, context, others)
  size_t kv_budget_bytes = 0;
  KvPoolSizes pools;             // requested, with full_blocks grown to the budget
  size_t kv_bytes() const;
  size_t full_block_bytes = 0, window_block_bytes = 0;
  std::string describe(const GpuMemoryInputs& in) const;  // the start-up banner line
};

// Throws kInvalidArgument for a fraction outside (0, 1], kUnsupported ("out of device
// memory", with the figures) when the requested pools do not fit.
GpuMemoryPlan plan_gpu_memory(const GpuMemoryInputs& in);

}  // namespace gossamer::worker
