#include "worker/engine.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"

namespace gossamer::worker {

Engine::Engine(const std::filesystem::path& model_dir, const EngineOptions& options)
    : options_(options) {
  if (options.max_context <= 0 || options.max_sequences <= 0 || options.block_size <= 0)
    GOSSAMER_THROW(kInvalidArgument, "max_context, max_sequences and block_size must be > 0");
  pool_ = std::make_unique<ThreadPool>(options.threads);
  Timer timer;
  weights_ = load_weights(model::Checkpoint::open(model_dir, options.layout));
  const auto& cfg = weights_.config;
  KvCacheConfig kv;
  kv.num_layers = static_cast<int>(weights_.layers.size());
  kv.n_kv_heads = static_cast<int>(weights_.layers.empty() ? 0 : weights_.layers[0].k.weight.out / cfg.head_dim);
  kv.head_dim = cfg.head_dim;
  kv.block_size = options.block_size;
  const int blocks_per_seq = (options.max_context + options.block_size - 1) / options.block_size;
  kv.num_blocks = blocks_per_seq * options.max_sequences;
  cache_ = std::make_unique<KvCache>(kv);
  blocks_ = std::make_unique<BlockAllocator>(kv.num_blocks);
  LayerContext ctx;
  ctx.exec = kernels::Exec::cpu(pool_.get());
  runner_ = std::make_unique<ModelRunner>(weights_, *cache_, ctx);
  GLOG_INFO("engine ready in {:.2f} s: {} layers, {} threads, KV cache {:.1f} MiB ({} blocks of {})",
            timer.seconds(), kv.num_layers, pool_->size(), cache_->bytes() / 1048576.0,
            kv.num_blocks, kv.block_size);
}

Engine::~Engine() = default;

int64_t Engine::open_sequence() {
  if (static_cast<int>(sequences_.size()) >= options_.max_sequences)
    GOSSAMER_THROW(kInvalidArgument, "at most {} sequences at once", options_.max_sequences);
  int64_t id = next_seq_++;
  sequences_[id] = Sequence{};
  return id;
}

void Engine::close_sequence(int64_t seq) {
  auto it = sequences_.find(seq);
  if (it == sequences_.end()) return;
  blocks_->release(it->second.block_table);
  sequences_.erase(it);
}

int64_t Engine::sequence_length(int64_t seq) const {
  auto it = sequences_.find(seq);
  GOSSAMER_CHECK(it != sequences_.end(), "unknown sequence {}", seq);
  return it->second.length;
}

void Engine::forward_chunk(int64_t seq_id, Sequence& seq, const int32_t* ids, int32_t count,
                           bool all_logits, std::vector<float>& logits, DumpSink* dump) {
  const int64_t needed = cache_->blocks_for(seq.length + count);
  const int64_t have = static_cast<int64_t>(seq.block_table.size());
  if (needed > have && !blocks_->allocate(static_cast<int>(needed - have), seq.block_table))
    GOSSAMER_THROW(kInvalidArgument, "KV cache full: {} more blocks needed, {} free",
                   needed - have, blocks_->num_free());
  ForwardBatch batch;
  batch.add(seq_id, ids, count, static_cast<int32_t>(seq.length), seq.block_table.data(), all_logits);
  runner_->forward(batch, logits, dump);
  seq.length += count;
}

void Engine::feed(int64_t seq_id, const std::vector<int32_t>& tokens, bool all_logits,
                  std::vector<float>& logits, DumpSink* dump) {
  auto it = sequences_.find(seq_id);
  GOSSAMER_CHECK(it != sequences_.end(), "unknown sequence {}", seq_id);
  Sequence& seq = it->second;
  const auto total = static_cast<int64_t>(tokens.size());
  if (total == 0) GOSSAMER_THROW(kInvalidArgument, "no tokens to feed");
  if (seq.length + total > options_.max_context)
    GOSSAMER_THROW(kInvalidArgument, "sequence of {} tokens exceeds the context of {}",
                   seq.length + total, options_.max_context);
  const int64_t chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : total;
  const int64_t V = runner_->vocab_local();
  logits.clear();
  std::vector<float> part;
  for (int64_t start = 0; start < total; start += chunk) {
    const auto count = static_cast<int32_t>(std::min(chunk, total - start));
    const bool last_chunk = start + count == total;
    forward_chunk(seq_id, seq, tokens.data() + start, count, all_logits, part, dump);
    if (all_logits) logits.insert(logits.end(), part.begin(), part.end());
    else if (last_chunk) logits.assign(part.end() - V, part.end());
  }
}

GenerateResult Engine::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options,
                                const std::function<bool(int32_t)>& on_token) {
  GenerateResult result;
  result.prompt_tokens = static_cast<int64_t>(prompt.size());
  if (prompt.empty()) GOSSAMER_THROW(kInvalidArgument, "the prompt has no tokens");
  if (options.max_tokens < 0) GOSSAMER_THROW(kInvalidArgument, "max_tokens must be >= 0");
  const int64_t seq = open_sequence();
  struct Closer {
    Engine* e;
    int64_t s;
    ~Closer() { e->close_sequence(s); }
  } closer{this, seq};

  const int64_t V = runner_->vocab_local();
  std::vector<float> logits;
  Timer timer;
  feed(seq, prompt, false, logits, nullptr);
  result.prefill_seconds = timer.seconds();
  timer.reset();
  result.finish_reason = "length";
  for (int step = 0; step < options.max_tokens; ++step) {
    // The draw depends on (seed, absolute position) only.
    const auto pos = static_cast<uint64_t>(sequence_length(seq));
    const int32_t token = kernels::sample_token(logits.data(), V, options.sampling, pos);
    result.tokens.push_back(token);
    if (on_token && !on_token(token)) { result.finish_reason = "callback"; break; }
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), token) != options.stop_ids.end()) {
      result.finish_reason = "stop";
      break;
    }
    if (step + 1 == options.max_tokens) break;
    if (sequence_length(seq) + 1 > options_.max_context) { result.finish_reason = "context"; break; }
    feed(seq, {token}, false, logits, nullptr);
  }
  result.decode_seconds = timer.seconds();
  return result;
}

}  // namespace gossamer::worker
