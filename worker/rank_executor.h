#pragma once
// The per-rank executor: every rank of a job holds one. Each step, world rank 0 passes a
// StepPlan, every rank receives it (broadcast), runs its share — the sequences of its DP
// replica, through its layers and heads and experts — and world rank 0 gets the results
// (sampled tokens, and logits where asked). With one rank it is the same code path with
// a local world: no collective is made.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "comm/process_groups.h"
#include "kernels/sampling.h"
#include "comm/timed_communicator.h"
#include "model/checkpoint.h"
#include "worker/batch.h"
#include "worker/dump.h"
#include "worker/kv_cache.h"
#include "worker/kv_pools.h"
#include "worker/layer_context.h"
#include "worker/lm_head.h"
#include "worker/mapping.h"
#include "worker/gpt_oss_forward.h"
#include "worker/step_plan.h"
#include "worker/weights.h"

namespace gossamer::worker {

// The StepPlan's wire record of sampling parameters and the kernels' own, both ways.
kernels::SamplingParams kernel_sampling(const SamplingParams& p);
SamplingParams plan_sampling(const kernels::SamplingParams& p);

// GPU ranks: the transport of the activation part of each process group.
enum class GpuComm {
  kNccl,    // NCCL, one GPU per rank
  kStaged,  // the MPI groups through pinned host memory; ranks may share a GPU (tests)
};
// "nccl" / "staged"; kInvalidArgument otherwise.
GpuComm parse_gpu_comm(const std::string& name);

struct ExecutorOptions {
  model::CheckpointLayout layout = model::CheckpointLayout::kAuto;
  ParallelConfig parallel;
  MoeDispatch dispatch = MoeDispatch::kAllGather;
  Device device = Device::kCPU;  // runtime.device; kernels::open_device refuses what cannot run
  kernels::Precision precision = kernels::Precision::kAuto;  // runtime.precision (resolved by open_device)
  GpuComm gpu_comm = GpuComm::kNccl;  // runtime.gpu_comm (GPU ranks, more than one)
  // runtime.gpu_memory_fraction: on a GPU the full-attention KV pool grows to fill this
  // share of the device (worker/gpu_memory_plan.h); num_blocks is then the minimum.
  double gpu_memory_fraction = 0.9;
  int threads = 0;        // CPU threads of this rank (0 = all hardware threads)
  int block_size = 16;    // tokens per KV block
  int num_blocks = 256;   // full-attention KV blocks per DP replica (every rank alike)
  // Sliding-window KV blocks per DP replica; 0 = sized for max_sequences sequences fed
  // max_step_tokens tokens a step (resolve_kv_pool_sizes).
  int num_window_blocks = 0;
  int64_t max_sequences = 64;
  int64_t max_step_tokens = 2048;
  int micro_batches = 0;  // pipeline micro-batches per step (0 = pp)
  // Wrap the process groups (and the results gather) in comm::TimedCommunicator and keep
  // one StepTiming per step: the scaling benchmark's compute/communication split. Off by
  // default, so the serving path makes no clock calls.
  bool time_comm = false;
  // When ep == tp > 1, skip the MoE token dispatch (LayerContext::ep_spans_tp): one
  // all-reduce of the per-slot outputs instead of five collectives per layer. Off by
  // default: on this 2-core box it cut comm time at np 2 but raised it at np 4, where the
  // [n, k, H] all-reduce moves more bytes than the reduce-scatter it replaces
  // (docs/PERFORMANCE.md, "Scaling"). Equivalence-tested both ways (tests/mpi).
  bool moe_skip_dispatch_when_ep_is_tp = false;
};

// One executed step on this rank, when ExecutorOptions::time_comm is set. The window starts
// after the StepPlan broadcast (on ranks other than 0 that broadcast is mostly idle waiting
// for the next step) and ends after the results gather.
struct StepTiming {
  double seconds = 0;       // wall time of the window
  double comm_seconds = 0;  // of which inside Communicator calls (waiting for peers included)
  uint64_t comm_bytes = 0;  // bytes handed to the transport in the window
  uint64_t comm_calls = 0;  // Communicator calls in the window (latency-bound steps: calls matter)
  int64_t tokens = 0;       // tokens of the whole plan (all replicas)
  int64_t sequences = 0;    // sequences of the whole plan
};

class RankExecutor {
 public:
  // Collective over `world`: loads this rank's shard, builds the process groups.
  RankExecutor(const std::filesystem::path& model_dir, const ExecutorOptions& options,
               comm::Communicator& world);
  ~RankExecutor();

  // Collective over world. On world rank 0 `plan` is the input; on the others it is
  // overwritten with the broadcast plan (the caller looks at plan->command to stop).
  // `dump` (may be null) collects this rank's named intermediates. The result (world rank
  // 0's; empty elsewhere) is valid until the next call: its buffers are reused, so a
  // steady stream of steps allocates nothing on one rank.
  const StepResult& run_step(StepPlan* plan, DumpSink* dump = nullptr);

  const Mapping& mapping() const { return *mapping_; }
  const model::ModelConfig& config() const { return weights_.config; }
  const ExecutorOptions& options() const { return options_; }
  // The KV pools every rank holds, resolved from the options and the model: the planner
  // (rank 0) allocates blocks from pools of exactly these sizes.
  const KvPoolSizes& kv_pool_sizes() const { return cache_->config().pools; }
  size_t kv_cache_bytes() const { return cache_->bytes(); }
  Device device() const { return forward_->context().exec.device; }
  bool is_coordinator() const { return world_.rank() == 0; }

  // With ExecutorOptions::time_comm: cumulative figures per group and operation, and one
  // entry per executed step. Null / empty otherwise.
  const comm::CommStats* comm_stats() const { return comm_stats_.get(); }
  const std::vector<StepTiming>& step_timings() const { return step_timings_; }
  void clear_step_timings() { step_timings_.clear(); }

 private:
  void check_block_tables(const SequencePlan& s) const;
  // GPU ranks: sizes kv.pools from the device memory left (worker/gpu_memory_plan.h).
  void plan_device_memory(KvCacheConfig& kv);
  // Runs this replica's sequences of the plan; fills local_ on result-holding ranks.
  void execute(const StepPlan& plan, DumpSink* dump);
  // Samples one micro-batch's sequences and appends their results to local_.
  // `logits` are on the forward pass's device.
  void sample_batch(const ForwardBatch& batch, const float* logits, const SequencePlan* const* seqs);
  // The same for host logits, with ctx's groups (host ones for a GPU rank's rows).
  void sample_host(const LayerContext& ctx, const ForwardBatch& batch, const float* logits,
                   const SequencePlan* const* seqs);
  // local_ of every rank -> result_ on world rank 0, in plan order.
  void gather_results(const StepPlan& plan);

  ExecutorOptions options_;
  comm::Communicator& world_;
  // time_comm: the timed view of world_ (results gather and splits go through it).
  std::shared_ptr<comm::CommStats> comm_stats_;
  std::unique_ptr<comm::TimedCommunicator> timed_world_;
  comm::Communicator* results_world_ = nullptr;  // timed_world_ or &world_
  std::vector<StepTiming> step_timings_;
  std::unique_ptr<Mapping> mapping_;
  comm::ProcessGroups groups_;
  // GPU ranks: the activation part of tp / ep / pp over NCCL or the staged communicator
  // (null where the group has one rank: the host group copies device buffers itself).
  comm::ProcessGroups device_groups_;
  std::unique_ptr<ThreadPool> pool_;
  ModelWeights weights_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<GptOssForward> forward_;
  // Per-step buffers, reused across steps (they stop growing after the largest step).
  ForwardBatch batch_;  // one micro-batch at a time
  std::vector<const SequencePlan*> mine_;  // this replica's sequences, in plan order
  std::vector<kernels::SamplingParams> params_;
  std::vector<uint64_t> draw_steps_;
  std::vector<float> last_logits_, full_logits_;
  std::vector<float> host_logits_;  // GPU ranks: logits brought to the host to sample there
  std::vector<int32_t> sampled_;
  std::vector<SequenceResult> local_;
  StepResult result_;
  SamplingScratch sampling_;  // TP splits: candidate and gather buffers of lm_head.h
  PlanBuffers plan_buffers_;  // the step plan's broadcast
  // gather_results: this rank's records, every rank's byte count, all records, and (rank
  // 0) the decoded results before they are put in plan order.
  std::vector<uint8_t> result_bytes_, all_result_bytes_;
  std::vector<int64_t> result_sizes_;
  std::vector<size_t> result_counts_;
  std::vector<SequenceResult> gathered_;
};

// Ranks other than 0, for every verb (serve, generate, eval-logits, bench): run the plans
// rank 0 broadcasts until kShutdown. Throws Error(kComm) when rank 0 is gone or a step fails.
void follow_steps(RankExecutor& executor);

}  // namespace gossamer::worker
