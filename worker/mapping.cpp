#include "worker/mapping.h"

#include <algorithm>

#include "core/error.h"
#include "model/config.h"
#include "worker/weights.h"

namespace gossamer::worker {

std::string ParallelConfig::to_string() const {
  return fmt::format("tp={},dp={},ep={},pp={}", tp, dp, ep, pp);
}

ModelDims ModelDims::from_config(const model::ModelConfig& c) {
  return ModelDims{c.num_hidden_layers, c.num_attention_heads, c.num_key_value_heads,
                   c.num_local_experts, c.vocab_size};
}

Range balanced_split(int64_t total, int parts, int index) {
  GOSSAMER_CHECK(parts > 0 && index >= 0 && index < parts, "split {} of {}", index, parts);
  const int64_t base = total / parts, extra = total % parts;
  const int64_t begin = index * base + std::min<int64_t>(index, extra);
  return Range{begin, begin + base + (index < extra ? 1 : 0)};
}

void Mapping::validate(int world_size, const ParallelConfig& p, const ModelDims& d) {
  const std::string layout = p.to_string();
  auto positive = [&](const char* key, int v) {
    if (v < 1)
      GOSSAMER_THROW(kInvalidArgument, "parallel layout {}: {} must be >= 1, got {}", layout,
                     key, v);
  };
  positive("tp", p.tp);
  positive("dp", p.dp);
  positive("ep", p.ep);
  positive("pp", p.pp);
  if (p.world_size() != world_size)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel layout {}: tp × dp × pp = {} × {} × {} = {} ranks, but the world "
                   "has {} (run with mpirun -np {} or change parallel:)",
                   layout, p.tp, p.dp, p.pp, p.world_size(), world_size, p.world_size());
  if (d.num_key_value_heads < 1 || d.num_key_value_heads % p.tp != 0)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel layout {}: tp={} must divide the model's {} KV heads", layout,
                   p.tp, d.num_key_value_heads);
  if (d.num_attention_heads % d.num_key_value_heads != 0)
    GOSSAMER_THROW(kInvalidArgument,
                   "model has {} query heads, not a multiple of its {} KV heads",
                   d.num_attention_heads, d.num_key_value_heads);
  const int stage_ranks = p.dp * p.tp;
  if (stage_ranks % p.ep != 0)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel layout {}: ep={} must divide the dp × tp = {} ranks of a stage "
                   "(the EP group spans them)",
                   layout, p.ep, stage_ranks);
  if (d.num_local_experts < 1 || d.num_local_experts % p.ep != 0)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel layout {}: ep={} must divide the model's {} experts", layout,
                   p.ep, d.num_local_experts);
  if (p.pp > d.num_layers)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel layout {}: pp={} stages for a model of {} layers", layout, p.pp,
                   d.num_layers);
  if (p.tp > d.vocab_size)
    GOSSAMER_THROW(kInvalidArgument, "parallel layout {}: tp={} exceeds the vocabulary of {}",
                   layout, p.tp, d.vocab_size);
}

Mapping::Mapping(int world_size, int rank, ParallelConfig parallel, ModelDims dims)
    : world_size_(world_size), rank_(rank), parallel_(parallel), dims_(dims) {
  validate(world_size, parallel, dims);
  if (rank < 0 || rank >= world_size)
    GOSSAMER_THROW(kInvalidArgument, "rank {} outside a world of {}", rank, world_size);
  const auto& p = parallel_;
  tp_rank_ = rank % p.tp;
  pp_rank_ = (rank / p.tp) % p.pp;
  dp_rank_ = rank / (p.tp * p.pp);
  const int stage_index = dp_rank_ * p.tp + tp_rank_;
  ep_rank_ = stage_index % p.ep;
  ep_group_ = stage_index / p.ep;

  layers_ = balanced_split(dims.num_layers, p.pp, pp_rank_);
  kv_heads_ = balanced_split(dims.num_key_value_heads, p.tp, tp_rank_);
  const int group = dims.num_attention_heads / dims.num_key_value_heads;
  q_heads_ = Range{kv_heads_.begin * group, kv_heads_.end * group};
  experts_ = experts_of_ep_rank(ep_rank_);
  vocab_ = vocab_of_tp_rank(tp_rank_);
}

int Mapping::dp_replica_of(int64_t seq_id) const {
  if (seq_id < 0) GOSSAMER_THROW(kInvalidArgument, "sequence id {} is negative", seq_id);
  return static_cast<int>(seq_id % parallel_.dp);
}

int Mapping::world_rank_of(int dp_rank, int pp_rank, int tp_rank) const {
  const auto& p = parallel_;
  if (dp_rank < 0 || dp_rank >= p.dp || pp_rank < 0 || pp_rank >= p.pp || tp_rank < 0 ||
      tp_rank >= p.tp)
    return -1;
  return (dp_rank * p.pp + pp_rank) * p.tp + tp_rank;
}

int Mapping::prev_stage_rank() const { return world_rank_of(dp_rank_, pp_rank_ - 1, tp_rank_); }
int Mapping::next_stage_rank() const { return world_rank_of(dp_rank_, pp_rank_ + 1, tp_rank_); }

Range Mapping::vocab_of_tp_rank(int tp_rank) const {
  return balanced_split(dims_.vocab_size, parallel_.tp, tp_rank);
}

Range Mapping::experts_of_ep_rank(int ep_rank) const {
  return balanced_split(dims_.num_local_experts, parallel_.ep, ep_rank);
}

Range Mapping::token_share_of_tp_rank(int64_t n, int tp_rank) const {
  return balanced_split(n, parallel_.tp, tp_rank);
}

Mapping Mapping::for_rank(int rank) const { return Mapping(world_size_, rank, parallel_, dims_); }

comm::GroupLayout Mapping::group_layout() const {
  const auto& p = parallel_;
  comm::GroupLayout g;
  g.tp = {dp_rank_ * p.pp + pp_rank_, tp_rank_};
  g.dp = {pp_rank_ * p.tp + tp_rank_, dp_rank_};
  g.pp = {dp_rank_ * p.tp + tp_rank_, pp_rank_};
  g.ep = {pp_rank_ * (p.dp * p.tp / p.ep) + ep_group_, ep_rank_};
  return g;
}

WeightSelection Mapping::weight_selection() const {
  WeightSelection s;
  s.layers = layers_;
  s.kv_heads = kv_heads_;
  s.experts = experts_;
  s.vocab = vocab_;
  s.embedding = holds_embedding();
  s.final_norm = holds_lm_head();
  return s;
}

comm::ProcessGroups make_process_groups(comm::Communicator& world, const Mapping& mapping) {
  if (world.size() != mapping.world_size() || world.rank() != mapping.rank())
    GOSSAMER_THROW(kInvalidArgument,
                   "mapping of rank {} in a world of {} used on group '{}' (rank {} of {})",
                   mapping.rank(), mapping.world_size(), world.name(), world.rank(), world.size());
  return comm::make_process_groups(world, mapping.group_layout());
}

namespace {
std::string range_text(const Range& r) { return fmt::format("[{},{})", r.begin, r.end); }
}  // namespace

std::string Mapping::describe() const {
  return fmt::format("{:>4} | {:>2} {:>2} {:>2} | {:>3}.{:<2} | {:>9} | {:>9} | {:>9} | {:>9} | {}",
                     rank_, dp_rank_, pp_rank_, tp_rank_, ep_group_, ep_rank_,
                     range_text(layers_), range_text(q_heads_), range_text(kv_heads_),
                     range_text(experts_),
                     holds_lm_head() ? range_text(vocab_) : std::string("-"));
}

std::string Mapping::table() const {
  std::string out = fmt::format(
      "parallel layout {} on {} ranks (rank = (dp * {} + pp) * {} + tp; sequence s -> dp "
      "s % {})\n",
      parallel_.to_string(), world_size_, parallel_.pp, parallel_.tp, parallel_.dp);
  out += fmt::format("{:>4} | {:>2} {:>2} {:>2} | {:>6} | {:>9} | {:>9} | {:>9} | {:>9} | {}\n",
                     "rank", "dp", "pp", "tp", "ep g.r", "layers", "q heads", "kv heads",
                     "experts", "vocab");
  for (int r = 0; r < world_size_; ++r) out += for_rank(r).describe() + "\n";
  return out;
}

}  // namespace gossamer::worker
