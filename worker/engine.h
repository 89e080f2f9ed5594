#pragma once
// The offline engine behind `eval-logits`, `generate` and `bench`: world rank 0 plans the
// steps with the same StepPlanner the service uses (continuous batching over the paged KV
// pools), and every rank (one, or N under mpirun) executes them through its RankExecutor.
// Ranks other than 0 call follow() and return when rank 0 shuts the job down.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "kernels/sampling.h"
#include "worker/kv_pools.h"
#include "worker/rank_executor.h"
#include "worker/step_planner.h"

namespace gossamer::worker {

// Most tokens of one step on a GPU (the engine's step budget there).
constexpr int64_t kGpuStepTokens = 8192;

struct EngineOptions {
  model::CheckpointLayout layout = model::CheckpointLayout::kAuto;
  ParallelConfig parallel;
  MoeDispatch dispatch = MoeDispatch::kAllGather;
  Device device = Device::kCPU;  // ExecutorOptions::device
  kernels::Precision precision = kernels::Precision::kAuto;  // ExecutorOptions::precision
  GpuComm gpu_comm = GpuComm::kNccl;  // ExecutorOptions::gpu_comm
  double gpu_memory_fraction = 0.9;   // ExecutorOptions::gpu_memory_fraction
  int threads = 0;          // 0 = all hardware threads
  int max_context = 4096;   // tokens per sequence the KV cache can hold
  int max_sequences = 8;    // sequences alive at once (per DP replica)
  int block_size = 16;      // tokens per KV block
  int prefill_chunk = 0;    // tokens per prefill step; 0 = the whole prompt at once
  bool time_comm = false;   // ExecutorOptions::time_comm (benchmarks)
  bool moe_skip_dispatch_when_ep_is_tp = false;  // ExecutorOptions' (A/B and tests)
};

struct GenerateOptions {
  int max_tokens = 16;
  kernels::SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // generation ends after emitting one of these
};

struct GenerateResult {
  std::vector<int32_t> tokens;      // generated ids (a stop id included)
  std::string finish_reason;        // "stop", "length" or "context"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

class Engine {
 public:
  // world == nullptr: a one-rank job. Collective over world (every rank constructs it).
  Engine(const std::filesystem::path& model_dir, const EngineOptions& options,
         comm::Communicator* world = nullptr);
  ~Engine();  // the coordinator shuts the job down

  const model::ModelConfig& config() const { return executor_->config(); }
  const Mapping& mapping() const { return executor_->mapping(); }
  bool is_coordinator() const { return executor_->is_coordinator(); }
  // This rank's executor (step timings with EngineOptions::time_comm).
  const RankExecutor& executor() const { return *executor_; }
  RankExecutor& executor() { return *executor_; }

  // Ranks other than 0: execute steps until rank 0 calls shutdown().
  void follow();
  void shutdown();

  // ---- coordinator (world rank 0) only ------------------------------------------------
  int64_t open_sequence();
  void close_sequence(int64_t seq);
  int64_t sequence_length(int64_t seq) const;
  // The KV pools of seq's replica (block accounting, as the tests see it).
  const KvPools& kv_pools(int64_t seq) const;

  // Appends tokens to a sequence through its KV cache (chunked per prefill_chunk) and
  // returns logits [count, vocab] (all_logits) or [1, vocab] for the last token.
  void feed(int64_t seq, const std::vector<int32_t>& tokens, bool all_logits,
            std::vector<float>& logits, DumpSink* dump = nullptr);
  // Several fresh sequences in one step each (DP replicas share the work): logits of every
  // position of every prompt.
  std::vector<std::vector<float>> eval_batch(const std::vector<std::vector<int32_t>>& prompts);

  // Prefill `prompt` in a fresh sequence, then decode.
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options);
  // Several prompts decoded together, one token each per step.
  std::vector<GenerateResult> generate_batch(const std::vector<std::vector<int32_t>>& prompts,
                                             const GenerateOptions& options);

 private:
  using Planner = StepPlanner<PlannedSequence>;
  struct SequenceCloser;
  // The planner owns sequences once they have tokens; before their first feed they wait in
  // unplanned_. handles_ maps the caller's sequence id to the object wherever it is.
  PlannedSequence& sequence(int64_t seq);
  void plan_if_new(int64_t seq);
  // Plans, runs and applies one step; throws when nothing can be planned although work is
  // waiting (the KV pools cannot hold it).
  std::vector<StepOutcome<PlannedSequence>> step(DumpSink* dump = nullptr);

  EngineOptions options_;
  std::unique_ptr<comm::Communicator> local_world_;
  comm::Communicator* world_ = nullptr;
  std::unique_ptr<RankExecutor> executor_;
  std::unique_ptr<Planner> planner_;
  std::map<int64_t, std::unique_ptr<PlannedSequence>> unplanned_;
  std::map<int64_t, PlannedSequence*> handles_;
  int64_t next_handle_ = 0;
  uint64_t step_ = 0;
  bool shut_down_ = false;
};

}  // namespace gossamer::worker
