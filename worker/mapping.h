#pragma once
// Mapping: the parallel topology as a pure, validated value (docs/ARCHITECTURE.md, "Mapping";
// TensorRT-LLM's mapping.py). From the world size, this rank and the `parallel:` block it
// computes which layers, heads, experts, vocab rows and sequences this rank owns, and the
// (color, key) of each process group. No MPI here: comm::make_process_groups turns
// group_layout() into communicators.
//
// Rank order is DP × PP × TP with TP innermost (as vLLM does):
//   rank = (dp_rank * pp + pp_rank) * tp + tp_rank
// The EP group spans the DP × TP ranks of one stage, in ep consecutive ranks:
//   stage_index = dp_rank * tp + tp_rank   (0 .. dp*tp-1)
//   ep_rank = stage_index % ep,  ep_group = stage_index / ep
// so each stage holds dp*tp/ep EP groups, each with a full set of experts split ep ways.
// With ep < dp*tp the experts are replicated across EP groups (each group serves the
// tokens of its own ranks); with ep == 1 every rank holds all experts of its layers.
//
// What each rank owns:
// * layers: a balanced contiguous split over pp stages (the first num_layers % pp stages
//   get one more layer);
// * attention: KV heads split evenly over tp (tp must divide num_key_value_heads); query
//   heads follow their KV heads (query head j uses KV head j / (nq/nkv)). DP replicas
//   hold the same heads and different sequences ("DP-attention");
// * experts: num_local_experts / ep contiguous experts, by ep_rank;
// * vocab (lm_head rows): a balanced contiguous split over the TP group, on the last stage.
//   Chosen over the EP group because the TP ranks of a replica hold the same tokens after
//   the o_proj all-reduce: each computes logits of its slice for the same hidden states
//   and only (value, index) candidates travel. Over EP, DP replicas would first have to
//   gather each other's hidden states. The input embedding is held whole by stage 0
//   (mmapped: only the rows of seen tokens are read);
// * sequences: sequence id s belongs to DP replica s % dp (all TP and PP ranks of that
//   replica run it).
#include <cstdint>
#include <string>
#include <vector>

#include "comm/process_groups.h"
#include "worker/range.h"

namespace gossamer::model {
struct ModelConfig;
}

namespace gossamer::worker {

struct WeightSelection;

// The YAML `parallel:` sizes (runtime_config.h) / `--parallel tp=2,ep=4`.
struct ParallelConfig {
  int tp = 1;  // tensor parallel: attention heads and vocab split
  int dp = 1;  // data parallel attention replicas (own sequences and KV)
  int ep = 1;  // expert parallel: experts split over ep ranks of a stage's DP × TP ranks
  int pp = 1;  // pipeline stages: layers split
  int world_size() const { return tp * dp * pp; }
  std::string to_string() const;  // "tp=2,dp=2,ep=4,pp=2"
  friend bool operator==(const ParallelConfig&, const ParallelConfig&) = default;
};

// The model sizes the layout depends on.
struct ModelDims {
  int num_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int num_local_experts = 0;
  int vocab_size = 0;
  static ModelDims from_config(const model::ModelConfig& config);
};

// [begin, end) of part `index` when `total` items are split into `parts` contiguous
// pieces whose sizes differ by at most one (the first total % parts get one more).
Range balanced_split(int64_t total, int parts, int index);

class Mapping {
 public:
  // Throws kInvalidArgument with the reason when the layout does not fit the world or the
  // model (see validate()).
  Mapping(int world_size, int rank, ParallelConfig parallel, ModelDims dims);

  // The checks of the constructor, without a rank:
  //   every size >= 1; tp * dp * pp == world_size; tp divides num_key_value_heads;
  //   num_attention_heads is a multiple of num_key_value_heads; ep divides dp * tp and
  //   num_local_experts; pp <= num_layers; tp <= vocab_size.
  static void validate(int world_size, const ParallelConfig& parallel, const ModelDims& dims);

  int world_size() const { return world_size_; }
  int rank() const { return rank_; }
  const ParallelConfig& parallel() const { return parallel_; }
  const ModelDims& dims() const { return dims_; }

  // Coordinates of this rank.
  int tp_rank() const { return tp_rank_; }
  int dp_rank() const { return dp_rank_; }
  int pp_rank() const { return pp_rank_; }
  int ep_rank() const { return ep_rank_; }
  int ep_group() const { return ep_group_; }  // which EP group of this stage

  // Owned slices, global indices.
  Range layers() const { return layers_; }
  Range kv_heads() const { return kv_heads_; }
  Range q_heads() const { return q_heads_; }
  Range experts() const { return experts_; }
  Range vocab() const { return vocab_; }  // lm_head rows; meaningful on the last stage

  bool is_first_stage() const { return pp_rank_ == 0; }
  bool is_last_stage() const { return pp_rank_ == parallel_.pp - 1; }
  bool holds_embedding() const { return is_first_stage(); }
  bool holds_lm_head() const { return is_last_stage(); }
  // Biases of row-parallel layers (o_proj, expert down-proj after a reduce) are added by
  // tp_rank 0 only, so the all-reduce sums them once (not tp times).
  bool adds_row_parallel_bias() const { return tp_rank_ == 0; }

  // Other ranks' slices, for the collectives that reassemble them (group rank = the
  // coordinate: TP rank r in the tp group, EP rank r in the ep group).
  Range vocab_of_tp_rank(int tp_rank) const;
  Range experts_of_ep_rank(int ep_rank) const;
  // The tokens of an n-token step that this TP rank (or TP rank r) handles in
  // token-parallel work (the MoE): a balanced split over the TP group.
  Range token_share(int64_t n) const { return token_share_of_tp_rank(n, tp_rank_); }
  Range token_share_of_tp_rank(int64_t n, int tp_rank) const;
  // The previous / next stage's rank inside the pp group (ordered by stage); -1 at the ends.
  int prev_stage_in_pp_group() const { return is_first_stage() ? -1 : pp_rank_ - 1; }
  int next_stage_in_pp_group() const { return is_last_stage() ? -1 : pp_rank_ + 1; }

  // Sequence → DP replica.
  int dp_replica_of(int64_t seq_id) const;
  bool owns_sequence(int64_t seq_id) const { return dp_replica_of(seq_id) == dp_rank_; }

  // World rank at the given coordinates; -1 when a coordinate is out of range.
  int world_rank_of(int dp_rank, int pp_rank, int tp_rank) const;
  // World ranks of the previous / next stage with this rank's dp and tp; -1 at the ends.
  // In the "pp" group these peers are group ranks pp_rank() - 1 and pp_rank() + 1.
  int prev_stage_rank() const;
  int next_stage_rank() const;

  // The same layout seen from another rank.
  Mapping for_rank(int rank) const;

  // (color, key) of this rank in the tp, dp, pp and ep groups.
  comm::GroupLayout group_layout() const;

  // What worker::load_weights should read for this rank.
  WeightSelection weight_selection() const;

  // One line per rank: coordinates and owned slices, for the start-up log.
  std::string table() const;
  // This rank's row of the table.
  std::string describe() const;

 private:
  int world_size_, rank_;
  ParallelConfig parallel_;
  ModelDims dims_;
  int tp_rank_ = 0, dp_rank_ = 0, pp_rank_ = 0, ep_rank_ = 0, ep_group_ = 0;
  Range layers_, kv_heads_, q_heads_, experts_, vocab_;
};

// The tp, dp, pp and ep groups of `mapping` (a collective over `world`, which must be the
// group the mapping's ranks index): comm::make_process_groups(world, group_layout()).
comm::ProcessGroups make_process_groups(comm::Communicator& world, const Mapping& mapping);

}  // namespace gossamer::worker
