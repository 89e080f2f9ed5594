#pragma once
// A single-process engine over one checkpoint: owns the weights, a paged KV cache and the
// sequences' block tables, and runs prefill/decode. `eval-logits`, `generate` and
// `bench` use it directly; the service drives ModelRunner through StepPlans instead.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernels/sampling.h"
#include "model/checkpoint.h"
#include "worker/kv_cache.h"
#include "worker/model_runner.h"
#include "worker/weights.h"

namespace gossamer::worker {

struct EngineOptions {
  model::CheckpointLayout layout = model::CheckpointLayout::kAuto;
  int threads = 0;          // 0 = all hardware threads
  int max_context = 4096;   // tokens per sequence the KV cache can hold
  int max_sequences = 1;    // sequences alive at once
  int block_size = 16;      // tokens per KV block
  int prefill_chunk = 0;    // tokens per prefill forward; 0 = the whole prompt at once
};

struct GenerateOptions {
  int max_tokens = 16;
  kernels::SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // generation ends after emitting one of these
};

struct GenerateResult {
  std::vector<int32_t> tokens;      // generated ids (a stop id included)
  std::string finish_reason;        // "stop", "length", "context" or "callback"
  int64_t prompt_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

class Engine {
 public:
  Engine(const std::filesystem::path& model_dir, const EngineOptions& options);
  ~Engine();

  const model::ModelConfig& config() const { return weights_.config; }
  const ModelWeights& weights() const { return weights_; }
  const KvCache& kv_cache() const { return *cache_; }

  int64_t open_sequence();
  void close_sequence(int64_t seq);
  int64_t sequence_length(int64_t seq) const;

  // Appends tokens to a sequence through its KV cache (chunked per prefill_chunk) and
  // returns logits [count, vocab] (all_logits) or [1, vocab] for the last token.
  void feed(int64_t seq, const std::vector<int32_t>& tokens, bool all_logits,
            std::vector<float>& logits, DumpSink* dump = nullptr);

  // Prefill `prompt` in a fresh sequence, then decode. on_token returns false to stop.
  GenerateResult generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                          const std::function<bool(int32_t)>& on_token = nullptr);

 private:
  struct Sequence {
    std::vector<int32_t> block_table;
    int64_t length = 0;
  };
  void forward_chunk(int64_t seq_id, Sequence& seq, const int32_t* ids, int32_t count,
                     bool all_logits, std::vector<float>& logits, DumpSink* dump);

  EngineOptions options_;
  std::unique_ptr<ThreadPool> pool_;
  ModelWeights weights_;
  std::unique_ptr<KvCache> cache_;
  std::unique_ptr<BlockAllocator> blocks_;
  std::unique_ptr<ModelRunner> runner_;
  std::map<int64_t, Sequence> sequences_;
  int64_t next_seq_ = 0;
};

}  // namespace gossamer::worker
