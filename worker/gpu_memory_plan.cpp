#include "worker/gpu_memory_plan.h"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "core/error.h"

namespace gossamer::worker {

namespace {
double gib(size_t bytes) { return static_cast<double>(bytes) / static_cast<double>(size_t{1} << 30); }
}  // namespace

size_t GpuMemoryPlan::kv_bytes() const {
  return static_cast<size_t>(pools.full_blocks) * full_block_bytes +
         static_cast<size_t>(pools.window_blocks) * window_block_bytes;
}

GpuMemoryPlan plan_gpu_memory(const GpuMemoryInputs& in) {
  if (!(in.fraction > 0.0 && in.fraction <= 1.0))
    GOSSAMER_THROW(kInvalidArgument, "gpu_memory_fraction must be in (0, 1], got {}", in.fraction);
  GOSSAMER_CHECK(in.free_bytes <= in.total_bytes && in.full_block_bytes > 0, "bad GPU memory figures");
  GpuMemoryPlan plan;
  plan.used_before_bytes = in.total_bytes - in.free_bytes;
  plan.full_block_bytes = in.full_block_bytes;
  plan.window_block_bytes = in.window_block_bytes;
  plan.pools = in.requested;
  const auto allowed = static_cast<size_t>(in.fraction * static_cast<double>(in.total_bytes));
  const size_t taken = plan.used_before_bytes + in.workspace_bytes + in.logits_bytes + in.headroom_bytes;
  plan.kv_budget_bytes = allowed > taken ? allowed - taken : 0;
  const size_t window = static_cast<size_t>(in.requested.window_blocks) * in.window_block_bytes;
  const size_t requested = static_cast<size_t>(in.requested.full_blocks) * in.full_block_bytes + window;
  if (requested > plan.kv_budget_bytes)
    GOSSAMER_THROW(kUnsupported,
                   "out of device memory: the KV pools need {:.2f} GiB ({} full-attention and {} sliding-window "
                   "blocks) but only {:.2f} GiB are left of {:.0f}% of {:.2f} GiB after {:.2f} GiB in use, {:.2f} GiB "
                   "workspace, {:.2f} GiB logits and {:.2f} GiB headroom (raise --gpu-memory-fraction, or lower "
                   "--max-context / the batch)",
                   gib(requested), in.requested.full_blocks, in.requested.window_blocks, gib(plan.kv_budget_bytes),
                   in.fraction * 100, gib(in.total_bytes), gib(plan.used_before_bytes), gib(in.workspace_bytes),
                   gib(in.logits_bytes), gib(in.headroom_bytes));
  if (!in.grow) return plan;
  const size_t fit = (plan.kv_budget_bytes - window) / in.full_block_bytes;
  const auto cap = static_cast<size_t>(std::max<int64_t>(in.max_full_blocks, in.requested.full_blocks));
  plan.pools.full_blocks = static_cast<int>(std::min({fit, cap, static_cast<size_t>(INT32_MAX)}));
  return plan;
}

std::string GpuMemoryPlan::describe(const GpuMemoryInputs& in) const {
  return fmt::format(
      "GPU memory: {:.2f} GiB total, {:.2f} GiB in use after the weights, {:.2f} GiB workspace + logits, "
      "KV pools {:.2f} GiB ({} full-attention blocks, {} sliding-window blocks; {:.0f}% of the device)",
      gib(in.total_bytes), gib(used_before_bytes), gib(in.workspace_bytes + in.logits_bytes), gib(kv_bytes()),
      pools.full_blocks, pools.window_blocks, in.fraction * 100);
}

}  // namespace gossamer::worker
