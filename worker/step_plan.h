#pragma once
// StepPlan: what every rank executes in one step. Rank 0 (the coordinator) decides the
// step and broadcasts the plan as a compact binary record; all ranks then run it, so the
// sequence of collectives in a step comes only from the plan, never from local decisions
// (docs/ARCHITECTURE.md, "Rules that keep the ranks in step"). Every rank sees the whole
// plan: a DP replica picks its own sequences with Mapping::owns_sequence(seq_id), and every
// rank can derive the per-replica token counts that size the EP collectives.
//
// Wire format v2, little-endian, no padding:
//   header (36 bytes): u32 magic "GSPL" | u16 version | u8 command | u8 zero
//                      | u64 step | u32 n_sequences | u64 body_bytes | u64 checksum
//   body, per sequence: i64 seq_id | i64 start_pos | u32 n_tokens | i32 tokens[n_tokens]
//                      | u32 n_blocks | i32 block_table[n_blocks]
//                      | u32 n_window_blocks | i32 window_block_table[n_window_blocks]
//                      | f32 temperature
//                      | i32 top_k | f32 top_p | u64 seed | u8 flags (bit0 want_logits,
//                      bit1 is_prefill; other bits zero)
// checksum = FNV-1a 64 of the whole record with the checksum field skipped.
// deserialize() checks every length against the bytes present before reading or
// allocating, so truncated or random bytes give Error(kCorruptData), never a crash.
#include <cstdint>
#include <span>
#include <vector>

namespace gossamer::comm {
class Communicator;
}

namespace gossamer::worker {

enum class StepCommand : uint8_t {
  kRun = 1,       // run the sequences of the plan
  kIdle = 2,      // no work this step (ranks still meet here, then wait for the next plan)
  kShutdown = 3,  // leave the step loop and exit cleanly
};
const char* step_command_name(StepCommand c);

struct SamplingParams {
  float temperature = 0.0f;  // 0 = greedy
  int32_t top_k = 0;         // 0 = no top-k cut
  float top_p = 1.0f;        // (0, 1]; 1 = no nucleus cut
  uint64_t seed = 0;         // per-sequence RNG seed (step position is mixed in by sampling)
  friend bool operator==(const SamplingParams&, const SamplingParams&) = default;
};

struct SequencePlan {
  int64_t seq_id = 0;                 // coordinator's id; DP replica = seq_id % dp
  int64_t start_pos = 0;              // position of token_ids[0] in the sequence
  std::vector<int32_t> token_ids;     // [n_tokens]: one for decode, a chunk for prefill
  std::vector<int32_t> block_table;   // [n_blocks]: KV block ids of the full-attention
                                      // layers covering positions [0, start_pos + n_tokens),
                                      // kv_block_size each
  std::vector<int32_t> window_block_table;  // the same for sliding-window layers, from their
                                      // own pool; -1 (kNoBlock) for blocks no query of this
                                      // chunk can see. Empty when the model has none.
  SamplingParams sampling;
  bool want_logits = false;           // return the logits of every token of the chunk (eval-logits)
  bool is_prefill = false;            // a prompt chunk (sample only when it is the last)
  friend bool operator==(const SequencePlan&, const SequencePlan&) = default;
};

// What a step gives back to world rank 0, per sequence of the plan.
struct SequenceResult {
  int64_t seq_id = 0;
  int32_t token = -1;          // sampled from the last row of the chunk
  std::vector<float> logits;   // [n_tokens, vocab] when the plan asked for logits
};

struct StepResult {
  std::vector<SequenceResult> sequences;  // world rank 0 only, in plan order
};

struct StepPlan {
  static constexpr uint32_t kMagic = 0x4C505347;  // "GSPL" in little-endian bytes
  static constexpr uint16_t kVersion = 2;
  static constexpr size_t kHeaderBytes = 36;
  // A bound on a broadcast plan, far above any real step (guards the length broadcast).
  static constexpr uint64_t kMaxBytes = uint64_t{1} << 30;

  uint64_t step = 0;
  StepCommand command = StepCommand::kRun;
  std::vector<SequencePlan> sequences;

  // Total tokens over all sequences.
  int64_t num_tokens() const;

  // Throws kInvalidArgument when a field is out of range (negative ids or positions,
  // temperature < 0 or not finite, top_p outside (0, 1], top_k < 0).
  std::vector<uint8_t> serialize() const;
  // The same record into *record (replaced), reusing its capacity.
  void serialize_into(std::vector<uint8_t>* record) const;
  // Throws kCorruptData (bad magic, unknown version or command, lengths that disagree with
  // the buffer, checksum mismatch, out-of-range fields, trailing bytes).
  static StepPlan deserialize(std::span<const uint8_t> bytes);
  // The same into *plan, reusing its sequences and their vectors' capacity; sequences
  // beyond the record's count move to *spare (when given) and are taken back from it
  // first. On an error *plan holds a partial plan.
  static void deserialize_into(std::span<const uint8_t> bytes, StepPlan* plan,
                               std::vector<SequencePlan>* spare = nullptr);

  friend bool operator==(const StepPlan&, const StepPlan&) = default;
};

// Collective over `comm`: root's *plan is copied into *plan on every rank (two broadcasts:
// the u64 length, then the bytes). Throws kComm on a transport failure or timeout and
// kCorruptData on bytes that do not decode.
// Non-root ranks wait at most comm.timeout() for the next plan, so an idle coordinator must
// broadcast a kIdle plan at least that often. That idle plan is also the heartbeat that
// finds a dead rank while there is no work. Use a dedicated
// control group (world.split(0, world.rank(), "control")) so that plans never interleave
// with data-plane collectives on the same communicator.
void broadcast_step_plan(comm::Communicator& comm, StepPlan* plan, int root = 0);

// What a rank keeps between broadcasts so that a steady stream of plans of the same shapes
// is sent and received without allocating: the record's bytes, and on receiving ranks
// the sequence records of earlier, longer plans (their vectors' capacity reused).
struct PlanBuffers {
  std::vector<uint8_t> bytes;
  std::vector<SequencePlan> spare;
};
// The same with the caller's buffers; receiving ranks must pass the same *plan each step
// for its sequences to be reused.
void broadcast_step_plan(comm::Communicator& comm, StepPlan* plan, int root, PlanBuffers* buffers);

}  // namespace gossamer::worker
