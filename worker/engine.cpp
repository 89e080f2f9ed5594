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
  e.device = o.device;
  e.gpu_comm = o.gpu_comm;
  e.gpu_memory_fraction = o.gpu_memory_fraction;
  e.precision = o.precision;
  e.threads = o.threads;
  e.block_size = o.block_size;
  e.time_comm = o.time_comm;
  e.moe_skip_dispatch_when_ep_is_tp = o.moe_skip_dispatch_when_ep_is_tp;
  e.num_blocks = (o.max_context + o.block_size - 1) / o.block_size * o.max_sequences;
  // eval_batch feeds whole prompts of several sequences in one step.
  e.max_sequences = o.max_sequences;
  e.max_step_tokens = int64_t{o.prefill_chunk > 0 ? o.prefill_chunk : o.max_context} * o.max_sequences;
  // A GPU workspace is real device memory (a CPU one is address space until touched), so
  // GPU steps carry at most kGpuStepTokens tokens; the planner chunks longer prefills.
  if (o.device == Device::kCUDA) e.max_step_tokens = std::min(e.max_step_tokens, kGpuStepTokens);
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
  StepPlannerOptions p;
  p.dp = options.parallel.dp;
  p.kv = executor_->kv_pool_sizes();
  p.max_batch_tokens = exec_options.max_step_tokens;
  p.max_chunk_tokens = options.prefill_chunk;
  p.max_running = options.max_sequences * options.parallel.dp;
  p.prefix_cache = false;  // offline runs share no prompts worth caching
  planner_ = std::make_unique<Planner>(p);
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
  follow_steps(*executor_);
}

void Engine::shutdown() {
  if (shut_down_ || !is_coordinator()) return;
  shut_down_ = true;
  StepPlan plan;
  plan.step = step_++;
  plan.command = StepCommand::kShutdown;
  executor_->run_step(&plan);
}

std::vector<StepOutcome<PlannedSequence>> Engine::step(DumpSink* dump) {
  GOSSAMER_CHECK(is_coordinator(), "only rank 0 plans steps");
  StepPlan plan = planner_->plan_step(step_);
  if (plan.sequences.empty()) {
    const auto& pools = planner_->pools(0);
    GOSSAMER_THROW(kInvalidArgument, "KV cache full: no sequence can take its next step ({} full-attention blocks "
                   "free{} in replica 0)", pools.num_available(),
                   pools.has_window() ? fmt::format(", {} window blocks", pools.window().num_available()) : "");
  }
  ++step_;
  return planner_->apply(executor_->run_step(&plan, dump));
}

PlannedSequence& Engine::sequence(int64_t seq) {
  auto it = handles_.find(seq);
  GOSSAMER_CHECK(it != handles_.end(), "unknown sequence {}", seq);
  return *it->second;
}

void Engine::plan_if_new(int64_t seq) {
  if (auto it = unplanned_.find(seq); it != unplanned_.end()) {
    planner_->enqueue(std::move(it->second));
    unplanned_.erase(it);
  }
}

int64_t Engine::open_sequence() {
  const int64_t id = next_handle_++;
  auto s = std::make_unique<PlannedSequence>();
  handles_[id] = s.get();
  unplanned_[id] = std::move(s);
  return id;
}

void Engine::close_sequence(int64_t seq) {
  auto it = handles_.find(seq);
  if (it == handles_.end()) return;
  if (!unplanned_.erase(seq)) planner_->remove(it->second);
  handles_.erase(it);
}

int64_t Engine::sequence_length(int64_t seq) const {
  auto it = handles_.find(seq);
  GOSSAMER_CHECK(it != handles_.end(), "unknown sequence {}", seq);
  return it->second->computed;
}

const KvPools& Engine::kv_pools(int64_t seq) const {
  auto it = handles_.find(seq);
  GOSSAMER_CHECK(it != handles_.end(), "unknown sequence {}", seq);
  return planner_->pools(it->second->replica);
}

namespace {

void check_ids(const std::vector<int32_t>& tokens, int64_t vocab) {
  for (int32_t t : tokens)
    if (t < 0 || t >= vocab) GOSSAMER_THROW(kInvalidArgument, "token id {} outside the vocabulary [0, {})", t, vocab);
}

}  // namespace

void Engine::feed(int64_t seq_id, const std::vector<int32_t>& tokens, bool all_logits,
                  std::vector<float>& logits, DumpSink* dump) {
  PlannedSequence& s = sequence(seq_id);
  if (tokens.empty()) GOSSAMER_THROW(kInvalidArgument, "no tokens to feed");
  check_ids(tokens, config().vocab_size);
  const auto total = static_cast<int64_t>(s.tokens.size() + tokens.size());
  if (total > options_.max_context)
    GOSSAMER_THROW(kInvalidArgument, "sequence of {} tokens exceeds the context of {}", total, options_.max_context);
  s.tokens.insert(s.tokens.end(), tokens.begin(), tokens.end());
  if (s.prompt_tokens == 0) s.prompt_tokens = total;
  plan_if_new(seq_id);
  const int64_t V = config().vocab_size;
  const int64_t chunk = options_.prefill_chunk > 0 ? options_.prefill_chunk : total;
  logits.clear();
  while (s.left() > 0) {
    // Logits of every row, or of the chunk that ends the feed (its last row is kept).
    s.want_logits = all_logits || s.left() <= chunk;
    for (const auto& o : step(dump)) {
      if (o.seq != &s) continue;
      const auto& rows = o.result->logits;
      if (all_logits) logits.insert(logits.end(), rows.begin(), rows.end());
      else if (o.complete) logits.assign(rows.end() - V, rows.end());
    }
  }
  s.want_logits = false;
}

// Closes the listed sequences when a batch call ends, however it ends.
struct Engine::SequenceCloser {
  Engine* engine;
  const std::vector<int64_t>* ids;
  ~SequenceCloser() {
    for (int64_t id : *ids) engine->close_sequence(id);
  }
};

std::vector<std::vector<float>> Engine::eval_batch(const std::vector<std::vector<int32_t>>& prompts) {
  std::vector<int64_t> ids;
  const SequenceCloser closer{this, &ids};
  std::map<const PlannedSequence*, size_t> index;
  for (const auto& p : prompts) {
    if (p.empty()) GOSSAMER_THROW(kInvalidArgument, "an empty prompt");
    check_ids(p, config().vocab_size);
    ids.push_back(open_sequence());
    PlannedSequence& s = sequence(ids.back());
    s.tokens = p;
    s.prompt_tokens = static_cast<int64_t>(p.size());
    s.want_logits = true;
    index[&s] = index.size();
    plan_if_new(ids.back());
  }
  std::vector<std::vector<float>> out(prompts.size());
  for (size_t done = 0; done < prompts.size();) {
    for (const auto& o : step()) {
      auto& rows = o.result->logits;
      out[index.at(o.seq)].insert(out[index.at(o.seq)].end(), rows.begin(), rows.end());
      done += o.complete;
    }
  }
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
  const SequenceCloser closer{this, &ids};
  std::map<const PlannedSequence*, size_t> index;
  for (size_t i = 0; i < n; ++i) {
    if (prompts[i].empty()) GOSSAMER_THROW(kInvalidArgument, "the prompt has no tokens");
    check_ids(prompts[i], config().vocab_size);
    if (static_cast<int64_t>(prompts[i].size()) > options_.max_context)
      GOSSAMER_THROW(kInvalidArgument, "a prompt of {} tokens exceeds the context of {}", prompts[i].size(),
                     options_.max_context);
    results[i].prompt_tokens = static_cast<int64_t>(prompts[i].size());
    results[i].finish_reason = "length";
    ids.push_back(open_sequence());
    PlannedSequence& s = sequence(ids.back());
    s.tokens = prompts[i];
    s.prompt_tokens = results[i].prompt_tokens;
    s.sampling = plan_sampling(options.sampling);
    index[&s] = i;
    plan_if_new(ids.back());
  }

  // Prefill ends when every sequence has its first token (the last prompt chunk's sample);
  // from then on each step decodes one token per running sequence.
  Timer timer;
  double prefill_s = -1;
  size_t first_tokens = 0, running = n;
  while (running > 0) {
    for (const auto& o : step()) {
      if (!o.complete) continue;
      const size_t i = index.at(o.seq);
      auto& r = results[i];
      if (o.seq->generated() == 0) ++first_tokens;
      bool done = options.max_tokens == 0;
      if (!done) {
        r.tokens.push_back(o.token);
        if (std::find(options.stop_ids.begin(), options.stop_ids.end(), o.token) != options.stop_ids.end()) {
          r.finish_reason = "stop";
          done = true;
        } else if (static_cast<int>(r.tokens.size()) >= options.max_tokens) {
          done = true;
        } else if (static_cast<int64_t>(o.seq->tokens.size()) + 1 > options_.max_context) {
          r.finish_reason = "context";
          done = true;
        }
      }
      if (done) {
        close_sequence(ids[i]);
        --running;
      } else {
        o.seq->tokens.push_back(o.token);
      }
    }
    if (prefill_s < 0 && first_tokens == n) {
      prefill_s = timer.seconds();
      timer.reset();
    }
  }
  const double decode_s = timer.seconds();
  for (auto& r : results) {
    r.prefill_seconds = prefill_s;
    r.decode_seconds = decode_s;
  }
  return results;
}

}  // namespace gossamer::worker
