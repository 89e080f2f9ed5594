#include "worker/engine.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"

namespace gossamer::worker {
namespace {

ExecutorOptions executor_options(const EngineOptions& o) {
  if (o.max_context <= 0 || o.max_sequences <= 0 || o.block_size <= 0)
    GOSSAMER_THROW(kInvalidArgument, "max_context, max_sequences and block_size must be > 0");
  ExecutorOptions e;
  e.layout = o.layout;
  e.parallel = o.parallel;
  e.dispatch = o.dispatch;
  e.threads = o.threads;
  e.block_size = o.block_size;
  e.time_comm = o.time_comm;
  e.moe_skip_dispatch_when_ep_is_tp = o.moe_skip_dispatch_when_ep_is_tp;
  e.num_blocks = (o.max_context + o.block_size - 1) / o.block_size * o.max_sequences;
  // eval_batch feeds whole prompts of several sequences in one step.
  e.max_sequences = o.max_sequences;
  e.max_step_tokens = int64_t{o.prefill_chunk > 0 ? o.prefill_chunk : o.max_context} * o.max_sequences;
  return e;
}

}  // namespace

Engine::Engine(const std::filesystem::path& model_dir, const EngineOptions& options,
               comm::Communicator* world)
    : options_(options), world_(world) {
  if (!world_) {
    local_world_ = comm::make_local_communicator("world");
    world_ = local_world_.get();
  }
  Timer timer;
  const auto exec_options = executor_options(options);
  executor_ = std::make_unique<RankExecutor>(model_dir, exec_options, *world_);
  for (int r = 0; r < options.parallel.dp; ++r) pools_.emplace_back(executor_->kv_pool_sizes(), false);
  if (is_coordinator())
    GLOG_INFO("engine ready in {:.2f} s ({} ranks, {})", timer.seconds(), world_->size(),
              options.parallel.to_string());
}

Engine::~Engine() {
  try {
    if (is_coordinator()) shutdown();
  } catch (const std::exception& e) {
    GLOG_ERROR("engine shutdown: {}", e.what());
  }
}

void Engine::follow() {
  GOSSAMER_CHECK(!is_coordinator(), "rank 0 drives the steps; it does not follow");
  for (;;) {
    StepPlan plan;
    executor_->run_step(&plan);
    if (plan.command == StepCommand::kShutdown) return;
  }
}

void Engine::shutdown() {
  if (shut_down_ || !is_coordinator()) return;
  shut_down_ = true;
  StepPlan plan;
  plan.step = step_++;
  plan.command = StepCommand::kShutdown;
  executor_->run_step(&plan);
}

StepResult Engine::run(StepPlan& plan, DumpSink* dump) {
  GOSSAMER_CHECK(is_coordinator(), "only rank 0 plans steps");
  plan.step = step_++;
  plan.command = StepCommand::kRun;
  return executor_->run_step(&plan, dump);
}

KvPools& Engine::pools_of(int64_t seq) {
  return pools_[static_cast<size_t>(executor_->mapping().dp_replica_of(seq))];
}

const KvPools& Engine::kv_pools(int64_t seq) const {
  return pools_[static_cast<size_t>(executor_->mapping().dp_replica_of(seq))];
}

int64_t Engine::open_sequence() {
  const int64_t id = next_seq_++;
  sequences_[id] = Sequence{};
  return id;
}

void Engine::close_sequence(int64_t seq) {
  auto it = sequences_.find(seq);
  if (it == sequences_.end()) return;
  pools_of(seq).release(it->second.kv);
  sequences_.erase(it);
}

int64_t Engine::sequence_length(int64_t seq) const {
  auto it = sequences_.find(seq);
  GOSSAMER_CHECK(it != sequences_.end(), "unknown sequence {}", seq);
  return it->second.length;
}

void Engine::plan_chunk(StepPlan& plan, int64_t seq_id, const int32_t* ids, int32_t count,
                        bool all_logits, const kernels::SamplingParams& sampling) {
  auto& seq = sequences_.at(seq_id);
  const int vocab = config().vocab_size;
  for (int32_t i = 0; i < count; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      GOSSAMER_THROW(kInvalidArgument, "token id {} outside the vocabulary [0, {})", ids[i], vocab);
  if (seq.length + count > options_.max_context)
    GOSSAMER_THROW(kInvalidArgument, "sequence of {} tokens exceeds the context of {}",
                   seq.length + count, options_.max_context);
  auto& pools = pools_of(seq_id);
  if (!pools.reserve(seq.kv, seq.length, seq.length + count))
    GOSSAMER_THROW(kInvalidArgument, "KV cache full: no room for {} more tokens of sequence {} ({} full-attention "
                   "blocks free{})", count, seq_id, pools.num_available(),
                   pools.has_window() ? fmt::format(", {} window blocks", pools.window().num_available()) : "");
  SequencePlan sp;
  sp.seq_id = seq_id;
  sp.start_pos = seq.length;
  sp.token_ids.assign(ids, ids + count);
  sp.block_table = seq.kv.full;
  sp.window_block_table = seq.kv.window;
  sp.sampling = plan_sampling(sampling);
  sp.want_logits = all_logits;
  sp.is_prefill = count > 1;
  plan.sequences.push_back(std::move(sp));
  seq.length += count;
}

void Engine::feed(int64_t seq_id, const std::vector<int32_t>& tokens, bool all_logits,
                  std::vector<float>& logits, DumpSink* dump) {
  GOSSAMER_CHECK(sequences_.count(seq_id), "unknown sequence {}", seq_id);
  const auto total = static_cast<int64_t>(tokens.size());
  if (total == 0) GOSSAMER_THROW(kInvalidArgument, "no tokens to feed");
  if (sequence_length(seq_id) + total > options_.max_context)
    GOSSAMER_THROW(kInvalidArgument, "sequence of {} tokens exceeds the context of {}",
                   sequence_length(seq_id) + total, options_.max_context);
  const int64_t chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : total;
  const int64_t V = config().vocab_size;
  logits.clear();
  for (int64_t start = 0; start < total; start += chunk) {
    const auto count = static_cast<int32_t>(std::min(chunk, total - start));
    StepPlan plan;
    // Logits of the last row are always returned for the caller of a non-all feed.
    const bool last_chunk = start + count == total;
    plan_chunk(plan, seq_id, tokens.data() + start, count, all_logits || last_chunk, {});
    auto result = run(plan, dump);
    auto& r = result.sequences.at(0);
    if (all_logits) logits.insert(logits.end(), r.logits.begin(), r.logits.end());
    else if (last_chunk) logits.assign(r.logits.end() - V, r.logits.end());
  }
}

std::vector<std::vector<float>> Engine::eval_batch(const std::vector<std::vector<int32_t>>& prompts) {
  StepPlan plan;
  std::vector<int64_t> ids;
  for (const auto& p : prompts) {
    if (p.empty()) GOSSAMER_THROW(kInvalidArgument, "an empty prompt");
    ids.push_back(open_sequence());
    plan_chunk(plan, ids.back(), p.data(), static_cast<int32_t>(p.size()), true, {});
  }
  auto result = run(plan);
  for (int64_t id : ids) close_sequence(id);
  std::vector<std::vector<float>> out;
  for (auto& r : result.sequences) out.push_back(std::move(r.logits));
  return out;
}

GenerateResult Engine::generate(const std::vector<int32_t>& prompt, const GenerateOptions& options) {
  return generate_batch({prompt}, options).at(0);
}

std::vector<GenerateResult> Engine::generate_batch(const std::vector<std::vector<int32_t>>& prompts,
                                                   const GenerateOptions& options) {
  if (options.max_tokens < 0) GOSSAMER_THROW(kInvalidArgument, "max_tokens must be >= 0");
  const size_t n = prompts.size();
  std::vector<GenerateResult> results(n);
  std::vector<int64_t> ids;
  std::vector<int32_t> next(n, -1);
  struct Closer {
    Engine* e;
    std::vector<int64_t>* ids;
    ~Closer() { for (int64_t id : *ids) e->close_sequence(id); }
  } closer{this, &ids};

  // Prefill: every prompt in chunks; the last chunk's sample is the first new token.
  Timer timer;
  const int64_t chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : INT32_MAX;
  for (size_t i = 0; i < n; ++i) {
    if (prompts[i].empty()) GOSSAMER_THROW(kInvalidArgument, "the prompt has no tokens");
    results[i].prompt_tokens = static_cast<int64_t>(prompts[i].size());
    ids.push_back(open_sequence());
  }
  std::vector<size_t> fed(n, 0);
  for (bool more = true; more;) {
    more = false;
    StepPlan plan;
    std::vector<size_t> in_plan;
    for (size_t i = 0; i < n; ++i) {
      const size_t left = prompts[i].size() - fed[i];
      if (left == 0) continue;
      const auto count = static_cast<int32_t>(std::min<int64_t>(chunk, static_cast<int64_t>(left)));
      plan_chunk(plan, ids[i], prompts[i].data() + fed[i], count, false, options.sampling);
      fed[i] += static_cast<size_t>(count);
      in_plan.push_back(i);
      more |= fed[i] < prompts[i].size();
    }
    auto step = run(plan);
    for (size_t j = 0; j < in_plan.size(); ++j)
      if (fed[in_plan[j]] == prompts[in_plan[j]].size()) next[in_plan[j]] = step.sequences[j].token;
  }
  const double prefill_s = timer.seconds();
  timer.reset();

  std::vector<bool> done(n, options.max_tokens == 0);
  for (size_t i = 0; i < n; ++i) results[i].finish_reason = "length";
  for (;;) {
    StepPlan plan;
    std::vector<size_t> in_plan;
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      auto& r = results[i];
      r.tokens.push_back(next[i]);
      if (std::find(options.stop_ids.begin(), options.stop_ids.end(), next[i]) != options.stop_ids.end()) {
        r.finish_reason = "stop";
        done[i] = true;
      } else if (static_cast<int>(r.tokens.size()) >= options.max_tokens) {
        done[i] = true;
      } else if (sequence_length(ids[i]) + 1 > options_.max_context) {
        r.finish_reason = "context";
        done[i] = true;
      }
      if (done[i]) continue;
      plan_chunk(plan, ids[i], &next[i], 1, false, options.sampling);
      in_plan.push_back(i);
    }
    if (in_plan.empty()) break;
    auto step = run(plan);
    for (size_t j = 0; j < in_plan.size(); ++j) next[in_plan[j]] = step.sequences[j].token;
  }
  const double decode_s = timer.seconds();
  for (auto& r : results) {
    r.prefill_seconds = prefill_s;
    r.decode_seconds = decode_s;
  }
  return results;
}

}  // namespace gossamer::worker
