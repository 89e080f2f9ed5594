#include "worker/rank_executor.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"
#include "kernels/cpu/grouped_mxfp4.h"
#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/cpu/isa.h"
#include "comm/nccl_communicator.h"
#include "comm/staged_device_communicator.h"
#include "worker/gpu_memory_plan.h"
#include "worker/lm_head.h"
#include "worker/weight_prep.h"

namespace gossamer::worker {

kernels::SamplingParams kernel_sampling(const SamplingParams& p) {
  kernels::SamplingParams k;
  k.temperature = p.temperature;
  k.top_k = p.top_k;
  k.top_p = p.top_p;
  k.seed = p.seed;
  return k;
}

SamplingParams plan_sampling(const kernels::SamplingParams& p) {
  SamplingParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.seed = p.seed;
  return s;
}

GpuComm parse_gpu_comm(const std::string& name) {
  if (name == "nccl") return GpuComm::kNccl;
  if (name == "staged") return GpuComm::kStaged;
  GOSSAMER_THROW(kInvalidArgument, "gpu_comm '{}' is not one of nccl, staged", name);
}

namespace {

// The activation part of one group on a GPU rank: a second split of the world with the
// group's spec (collective, in the same order on every rank), over NCCL or staged through
// pinned host memory, ordered on the rank's stream. Null where the group has one rank.
std::unique_ptr<comm::Communicator> device_group(comm::Communicator& world, const comm::GroupSpec& spec,
                                                 const std::string& name, GpuComm kind, void* stream) {
  auto host = world.split(spec.color, spec.key, name);
  if (!host || host->size() == 1) return nullptr;
  if (kind == GpuComm::kNccl) return comm::make_nccl_communicator(std::move(host), stream);
  return comm::make_staged_device_communicator(std::move(host), stream);
}

// Bytes of one KV block of each pool across this rank's layers of that kind (K and V).
std::pair<size_t, size_t> kv_block_bytes(const KvCacheConfig& kv) {
  const size_t per_layer = dtype_bytes(kv.dtype, 2) * static_cast<size_t>(kv.pools.block_size) *
                           static_cast<size_t>(kv.n_kv_heads) * static_cast<size_t>(kv.head_dim);
  size_t full = 0, window = 0;
  for (bool sliding : kv.sliding) (sliding ? window : full) += per_layer;
  return {full, window};
}

}  // namespace

RankExecutor::RankExecutor(const std::filesystem::path& model_dir, const ExecutorOptions& options,
                           comm::Communicator& world)
    : options_(options), world_(world) {
  pool_ = std::make_unique<ThreadPool>(options.threads);
  // Before anything is loaded: a device this rank cannot run on fails the start at once.
  const kernels::Exec exec =
      kernels::open_device(options.device, pool_.get(), options.gpu_comm == GpuComm::kStaged, options.precision);
  // Every rank decides its ISA here too, so a bad GOSSAMER_CPU_ISA stops the start before
  // any weight is loaded.
  const std::string cpu_isa = kernels::cpu::isa_description();
  if (world.rank() == 0) {
    GLOG_INFO("CPU kernels: {}, {} threads per rank; precision {}", cpu_isa, pool_->size(),
              kernels::precision_name(exec.precision));
    // Fast mode's expert GEMM: int8 on packed experts, with AVX-512 VNNI or the AVX2 kernels.
    if (exec.device == Device::kCPU && exec.precision == kernels::Precision::kFast)
      GLOG_INFO("precision fast: expert GEMM {}",
                kernels::cpu::grouped_mxfp4_int8_supported() ? "int8 activations x MXFP4 (AVX-512 VNNI, packed experts)"
                : kernels::cpu::use_avx_vnni()               ? "int8 activations x MXFP4 (AVX2 + AVX-VNNI, packed experts)"
                                                             : "int8 activations x MXFP4 (AVX2 vpmaddubsw, packed experts)");
  }
  auto checkpoint = model::Checkpoint::open(model_dir, options.layout);
  mapping_ = std::make_unique<Mapping>(world.size(), world.rank(), options.parallel,
                                       ModelDims::from_config(checkpoint->config()));
  results_world_ = &world;
  if (options.time_comm) {
    comm_stats_ = std::make_shared<comm::CommStats>();
    timed_world_ = std::make_unique<comm::TimedCommunicator>(world, comm_stats_);
    results_world_ = timed_world_.get();
  }
  // Groups split from the timed world come back timed, sharing comm_stats_.
  groups_ = comm::make_process_groups(*results_world_, mapping_->group_layout());
  if (exec.device != Device::kCPU && world.size() > 1) {
    const comm::GroupLayout layout = mapping_->group_layout();
    device_groups_.tp = device_group(*results_world_, layout.tp, "tp-device", options.gpu_comm, exec.stream);
    device_groups_.pp = device_group(*results_world_, layout.pp, "pp-device", options.gpu_comm, exec.stream);
    device_groups_.ep = device_group(*results_world_, layout.ep, "ep-device", options.gpu_comm, exec.stream);
  }
  weights_ = load_weights(checkpoint, mapping_->weight_selection());
  const PreparedSummary prepared = prepare_weights(weights_, exec, world.rank() == 0);
  // Every page is in now: a shard truncated or rewritten since it was mapped is a named
  // error here, before serving, instead of a SIGBUS or wrong numbers in a step.
  checkpoint->check_files_unchanged();
  if (world.rank() == 0)
    GLOG_INFO("weights prepared for {}: {:.2f} GB {}, {:.1f} s{}", device_name(exec.device),
              static_cast<double>(prepared.bytes) * 1e-9,
              exec.device == Device::kCPU ? "faulted in" : "copied to the device", prepared.seconds,
              exec.device == Device::kCPU
                  ? fmt::format(" ({:.2f} GB of the mapped files on 2 MB pages)",
                                static_cast<double>(prepared.huge_page_bytes) * 1e-9)
                  : std::string());
  if (world.rank() == 0 && !prepared.packed_experts.empty())
    GLOG_INFO("experts packed for the int8 kernels: {}", prepared.packed_experts);

  const auto& cfg = weights_.config;
  KvCacheConfig kv;
  kv.n_kv_heads = static_cast<int>(mapping_->kv_heads().size());
  kv.head_dim = cfg.head_dim;
  kv.pools = resolve_kv_pool_sizes(cfg, options.block_size, options.num_blocks, options.num_window_blocks,
                                   options.max_sequences, options.max_step_tokens);
  for (const auto& layer : weights_.layers) kv.sliding.push_back(cfg.is_sliding(layer.layer));
  kv.device = exec.device;
  kv.dtype = kv_cache_dtype(exec.device, exec.fast());
  if (exec.device != Device::kCPU) plan_device_memory(kv);
  cache_ = std::make_unique<KvCache>(kv);
  if (world.rank() == 0) {
    int sliding = 0;
    for (bool b : kv.sliding) sliding += b;
    GLOG_INFO("KV cache on rank 0: {:.1f} MiB ({} full-attention blocks x {} layers, {} sliding-window blocks x {} "
              "layers, {} tokens each)",
              static_cast<double>(cache_->bytes()) / (1 << 20), kv.pools.full_blocks,
              static_cast<int>(kv.sliding.size()) - sliding, kv.pools.window_blocks, sliding, kv.pools.block_size);
  }

  LayerContext ctx;
  ctx.exec = exec;
  ctx.mapping = mapping_.get();
  // CPU ranks exchange activations over MPI too: both parts are the same communicator. GPU
  // ranks send activations over the device groups, host values over the MPI ones.
  ctx.tp = device_groups_.tp ? device_groups_.tp.get() : groups_.tp.get();
  ctx.ep = device_groups_.ep ? device_groups_.ep.get() : groups_.ep.get();
  ctx.pp = device_groups_.pp ? device_groups_.pp.get() : groups_.pp.get();
  ctx.tp_host = groups_.tp.get();
  ctx.ep_host = groups_.ep.get();
  ctx.dispatch = options.dispatch;
  ctx.ep_spans_tp = options.moe_skip_dispatch_when_ep_is_tp && options.parallel.ep == options.parallel.tp &&
                    options.parallel.tp > 1;
  forward_ = std::make_unique<GptOssForward>(weights_, *cache_, ctx, options.max_step_tokens);
  mine_.reserve(static_cast<size_t>(options.max_sequences));
  local_.reserve(static_cast<size_t>(options.max_sequences));
  result_.sequences.reserve(static_cast<size_t>(options.max_sequences));
  batch_ = ForwardBatch(kv.pools.block_size);
  batch_.reserve(options.max_step_tokens, options.max_sequences, kv.pools.full_blocks + options.max_sequences);
  // The multi-rank paths' host buffers, sized from the step bounds up front.
  sampling_.reserve(groups_.tp ? groups_.tp->size() : 1, options.max_sequences, mapping_->vocab().size(),
                    cfg.vocab_size);
  plan_buffers_.spare.reserve(static_cast<size_t>(options.max_sequences));
  result_sizes_.resize(static_cast<size_t>(world.size()));
  result_counts_.resize(static_cast<size_t>(world.size()));
  gathered_.reserve(static_cast<size_t>(options.max_sequences));
  if (world.rank() == 0 && world.size() > 1) GLOG_INFO("{}", mapping_->table());
  GLOG_DEBUG("rank {}: {}", world.rank(), mapping_->describe());
}

RankExecutor::~RankExecutor() = default;

// GPU ranks: the weights are on the device; the workspace and the largest decode step's
// logits come next, and the full-attention pool takes what is left of the memory fraction.
// Every rank must hold pools of the same size (rank 0 plans for all), so the smallest
// rank's figure wins.
void RankExecutor::plan_device_memory(KvCacheConfig& kv) {
  // Every rank's weights are on its GPU before anyone measures (ranks may share a GPU).
  world_.barrier();
  GpuMemoryInputs in;
  const kernels::DeviceMemory mem = kernels::device_memory();
  in.total_bytes = mem.total_bytes;
  in.free_bytes = mem.free_bytes;
  in.fraction = options_.gpu_memory_fraction;
  in.workspace_bytes = GptOssForward::workspace_bytes(weights_, options_.max_step_tokens,
                                                      groups_.ep ? groups_.ep->size() : 1);
  in.logits_bytes = sizeof(float) * static_cast<size_t>(options_.max_sequences) *
                    static_cast<size_t>(weights_.unembedding.out);
  std::tie(in.full_block_bytes, in.window_block_bytes) = kv_block_bytes(kv);
  in.requested = kv.pools;
  in.grow = options_.gpu_comm != GpuComm::kStaged || world_.size() == 1;
  GpuMemoryPlan plan = plan_gpu_memory(in);
  int64_t mine = plan.pools.full_blocks;
  std::vector<int64_t> all(static_cast<size_t>(world_.size()));
  world_.all_gather(&mine, 1, all.data(), DType::kI64, Device::kCPU);
  plan.pools.full_blocks = static_cast<int>(*std::min_element(all.begin(), all.end()));
  kv.pools = plan.pools;
  if (world_.rank() == 0) GLOG_INFO("{}", plan.describe(in));
}

const StepResult& RankExecutor::run_step(StepPlan* plan, DumpSink* dump) {
  broadcast_step_plan(world_, plan, 0, &plan_buffers_);
  result_.sequences.clear();
  if (plan->command != StepCommand::kRun) return result_;
  if (!comm_stats_) {
    execute(*plan, dump);
    gather_results(*plan);
    return result_;
  }
  const double comm0 = comm_stats_->total_seconds();
  const uint64_t bytes0 = comm_stats_->total_bytes();
  const uint64_t calls0 = comm_stats_->total_calls();
  Timer timer;
  execute(*plan, dump);
  gather_results(*plan);
  StepTiming t;
  t.seconds = timer.seconds();
  t.comm_seconds = comm_stats_->total_seconds() - comm0;
  t.comm_bytes = comm_stats_->total_bytes() - bytes0;
  t.comm_calls = comm_stats_->total_calls() - calls0;
  for (const auto& s : plan->sequences) t.tokens += static_cast<int64_t>(s.token_ids.size());
  t.sequences = static_cast<int64_t>(plan->sequences.size());
  step_timings_.push_back(t);
  return result_;
}

// A plan is checked whole on every rank before anything runs, so a bad table fails the
// step everywhere alike instead of reading another sequence's blocks.
void RankExecutor::check_block_tables(const SequencePlan& s) const {
  const KvPoolSizes& pools = kv_pool_sizes();
  const int bs = pools.block_size;
  const int64_t end = s.start_pos + static_cast<int64_t>(s.token_ids.size());
  const int64_t needed = blocks_covering(end, bs);
  if (static_cast<int64_t>(s.block_table.size()) < needed)
    GOSSAMER_THROW(kInvalidArgument, "sequence {}: block table of {} blocks, {} needed", s.seq_id,
                   s.block_table.size(), needed);
  for (int32_t b : s.block_table)
    if (b < 0 || b >= pools.full_blocks)
      GOSSAMER_THROW(kInvalidArgument, "sequence {}: KV block {} out of range [0, {})", s.seq_id, b,
                     pools.full_blocks);
  if (pools.window == 0) {
    if (!s.window_block_table.empty())
      GOSSAMER_THROW(kInvalidArgument, "sequence {}: a window block table for a model without sliding layers",
                     s.seq_id);
    return;
  }
  if (static_cast<int64_t>(s.window_block_table.size()) < needed)
    GOSSAMER_THROW(kInvalidArgument, "sequence {}: window block table of {} blocks, {} needed", s.seq_id,
                   s.window_block_table.size(), needed);
  // Blocks before the first one a query of this chunk sees may be dropped; the rest must exist.
  const int64_t first = first_visible_block(s.start_pos, pools.window, bs);
  for (size_t i = 0; i < s.window_block_table.size(); ++i) {
    const int32_t b = s.window_block_table[i];
    const bool dropped_ok = b == kNoBlock && static_cast<int64_t>(i) < first;
    if (!dropped_ok && (b < 0 || b >= pools.window_blocks))
      GOSSAMER_THROW(kInvalidArgument, "sequence {}: window KV block {} at logical block {} out of range [0, {})",
                     s.seq_id, b, i, pools.window_blocks);
  }
}

void RankExecutor::execute(const StepPlan& plan, DumpSink* dump) {
  // This replica's sequences, in plan order.
  mine_.clear();
  local_.clear();
  for (const auto& s : plan.sequences) {
    if (s.token_ids.empty()) GOSSAMER_THROW(kInvalidArgument, "sequence {} has no tokens", s.seq_id);
    check_block_tables(s);
    if (mapping_->owns_sequence(s.seq_id)) mine_.push_back(&s);
  }

  // Micro-batches: a fixed count derived from the plan alone (never from local state), so
  // every rank — even one whose replica has no sequence — enters the same collectives.
  const int pp = options_.parallel.pp;
  const int micro = options_.micro_batches > 0 ? options_.micro_batches : pp;
  for (int mb = 0; mb < micro; ++mb) {
    const Range part = balanced_split(static_cast<int64_t>(mine_.size()), micro, mb);
    batch_.clear();
    for (int64_t i = part.begin; i < part.end; ++i) {
      const auto* s = mine_[static_cast<size_t>(i)];
      batch_.add(s->seq_id, s->token_ids.data(), static_cast<int32_t>(s->token_ids.size()),
                 static_cast<int32_t>(s->start_pos), s->block_table.data(),
                 s->window_block_table.empty() ? nullptr : s->window_block_table.data(), s->want_logits);
    }
    const float* logits = forward_->forward(batch_, dump);
    if (logits) sample_batch(batch_, logits, mine_.data() + part.begin);  // null: an earlier stage
  }
  // Only one rank per replica reports: TP rank 0 of the last stage.
  if (!(mapping_->is_last_stage() && mapping_->tp_rank() == 0)) local_.clear();
}

// logits [batch.logit_rows, vocab slice]: one row per sequence (its last token), or all of
// a sequence that wants logits. Each sequence samples from its last row; the draw is keyed
// by the new token's position.
void RankExecutor::sample_batch(const ForwardBatch& batch, const float* logits, const SequencePlan* const* seqs) {
  const auto& ctx = forward_->context();
  if (ctx.exec.device == Device::kCPU) return sample_host(ctx, batch, logits, seqs);
  // GPU. The common case — one row per sequence, whole vocabulary here — samples on the
  // device and only the ids come back. Otherwise (logits wanted, or a vocab slice per TP
  // rank) the rows come to the host once and the CPU path below runs on them, its
  // collectives on the host part of the groups.
  const auto rows = static_cast<int64_t>(batch.logit_rows.size());
  const int64_t width = mapping_->vocab().size();
  bool any_logits = false;
  for (const auto& c : batch.seqs) any_logits |= c.all_logits;
  if (!any_logits && !ctx.tp_split()) {
    const size_t n = batch.seqs.size();
    params_.clear();
    draw_steps_.clear();
    sampled_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      params_.push_back(kernel_sampling(seqs[i]->sampling));
      draw_steps_.push_back(static_cast<uint64_t>(seqs[i]->start_pos + static_cast<int64_t>(seqs[i]->token_ids.size())));
    }
    kernels::sample_tokens(ctx.exec, sampled_.data(), logits, static_cast<int64_t>(n), weights_.config.vocab_size,
                           width, params_.data(), draw_steps_.data());
    for (size_t i = 0; i < n; ++i) {
      SequenceResult& r = local_.emplace_back();
      r.seq_id = batch.seqs[i].seq_id;
      r.token = sampled_[i];
    }
    return;
  }
  host_logits_.resize(static_cast<size_t>(rows * width));
  kernels::copy_to_host(ctx.exec, host_logits_.data(), logits, sizeof(float) * host_logits_.size());
  LayerContext host = ctx;
  host.exec = kernels::Exec::cpu(pool_.get());
  host.tp = ctx.tp_host;
  host.ep = ctx.ep_host;
  sample_host(host, batch, host_logits_.data(), seqs);
}

void RankExecutor::sample_host(const LayerContext& ctx, const ForwardBatch& batch, const float* logits,
                               const SequencePlan* const* seqs) {
  const int64_t vocab = weights_.config.vocab_size;
  const Range slice = mapping_->vocab();
  const auto width = static_cast<size_t>(slice.size());
  const size_t n = batch.seqs.size();
  last_logits_.resize(n * width);
  params_.clear();
  draw_steps_.clear();
  sampled_.resize(n);
  int64_t row = 0;
  bool any_logits = false;
  for (size_t i = 0; i < n; ++i) {
    const auto& c = batch.seqs[i];
    row += c.all_logits ? c.count : 1;
    any_logits |= c.all_logits;
    std::memcpy(last_logits_.data() + i * width, logits + (row - 1) * slice.size(), sizeof(float) * width);
    params_.push_back(kernel_sampling(seqs[i]->sampling));
    draw_steps_.push_back(static_cast<uint64_t>(seqs[i]->start_pos + static_cast<int64_t>(seqs[i]->token_ids.size())));
  }
  sample_rows(ctx, last_logits_.data(), static_cast<int64_t>(n), slice, vocab, params_, draw_steps_, sampled_.data(),
              sampling_);
  if (any_logits) gather_full_logits(ctx, logits, row, vocab, full_logits_, sampling_);
  int64_t first = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto& c = batch.seqs[i];
    SequenceResult& r = local_.emplace_back();
    r.seq_id = c.seq_id;
    r.token = sampled_[i];
    const int64_t rows = c.all_logits ? c.count : 1;
    if (c.all_logits) r.logits.assign(full_logits_.begin() + first * vocab, full_logits_.begin() + (first + rows) * vocab);
    first += rows;
  }
}

namespace {

// Results travel as [seq_id i64, token i32, n_logits i64, logits f32...] records.
void append_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}

}  // namespace

void RankExecutor::gather_results(const StepPlan& plan) {
  auto& out = result_.sequences;
  if (results_world_->size() == 1) {
    // One rank: its results, in plan order (they are already, unless DP reordered them).
    for (const auto& s : plan.sequences) {
      auto it = std::find_if(local_.begin(), local_.end(), [&](const auto& r) { return r.seq_id == s.seq_id; });
      GOSSAMER_CHECK(it != local_.end(), "no result for sequence {}", s.seq_id);
      out.push_back(std::move(*it));
    }
    return;
  }
  // Every buffer below is a member: after the first steps nothing here allocates
  // (records with logits aside, which carry new vectors to the caller).
  auto& bytes = result_bytes_;
  bytes.clear();
  for (const auto& r : local_) {
    const auto n = static_cast<int64_t>(r.logits.size());
    append_bytes(bytes, &r.seq_id, 8);
    append_bytes(bytes, &r.token, 4);
    append_bytes(bytes, &n, 8);
    append_bytes(bytes, r.logits.data(), sizeof(float) * static_cast<size_t>(n));
  }
  int64_t mine = static_cast<int64_t>(bytes.size());
  results_world_->all_gather(&mine, 1, result_sizes_.data(), DType::kI64, Device::kCPU);
  size_t total = 0;
  for (size_t i = 0; i < result_sizes_.size(); ++i) total += result_counts_[i] = static_cast<size_t>(result_sizes_[i]);
  auto& all = all_result_bytes_;
  all.resize(total);
  results_world_->all_gatherv(bytes.data(), bytes.size(), all.data(), result_counts_, {}, DType::kU8, Device::kCPU);
  if (results_world_->rank() != 0) return;
  auto& got = gathered_;
  got.clear();
  size_t at = 0;
  while (at < all.size()) {
    SequenceResult& r = got.emplace_back();
    int64_t n = 0;
    std::memcpy(&r.seq_id, all.data() + at, 8);
    std::memcpy(&r.token, all.data() + at + 8, 4);
    std::memcpy(&n, all.data() + at + 12, 8);
    at += 20;
    r.logits.resize(static_cast<size_t>(n));
    std::memcpy(r.logits.data(), all.data() + at, sizeof(float) * static_cast<size_t>(n));
    at += sizeof(float) * static_cast<size_t>(n);
  }
  for (const auto& s : plan.sequences) {
    auto it = std::find_if(got.begin(), got.end(), [&](const auto& r) { return r.seq_id == s.seq_id; });
    GOSSAMER_CHECK(it != got.end(), "no result for sequence {}", s.seq_id);
    out.push_back(std::move(*it));
    got.erase(it);
  }
}

void follow_steps(RankExecutor& executor) {
  StepPlan plan;  // one for all steps: the broadcast reuses its sequences
  for (;;) {
    executor.run_step(&plan);
    if (plan.command == StepCommand::kShutdown) return;
  }
}

}  // namespace gossamer::worker
