#pragma once
// The workspace of one rank: every buffer the forward pass needs during a step, sized
// once from the most tokens a step may carry (ExecutorOptions::max_step_tokens, the step
// planner's token budget). Layers run one after another, so all of a rank's layers share
// it. Nothing is allocated inside a step; a step larger than the bound is an error. The
// arrays are left uninitialized, so pages the steps never reach (the EP-only buffers on one
// rank, the tail past the usual step size) cost address space, not memory.
//
// Every array lives on the device the rank's kernels run on (the Exec's): host memory for
// the CPU, device memory (cudaMalloc, also untouched) for CUDA. Host code must not read
// the arrays of a CUDA workspace.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/buffer.h"
#include "model/config.h"

namespace gossamer::worker {

template <typename T>
class ScratchArray {
 public:
  explicit ScratchArray(int64_t n, Device device = Device::kCPU) : size_(n) {
    const auto count = static_cast<size_t>(n > 0 ? n : 1);
    if (device == Device::kCPU) {
      host_.reset(new T[count]);  // new T[n]: default-initialized, i.e. untouched
      data_ = host_.get();
    } else {
      device_ = Buffer(count * sizeof(T), device);
      data_ = device_.as<T>();
    }
  }
  T* data() const { return data_; }
  int64_t size() const { return size_; }
  size_t bytes() const { return static_cast<size_t>(size_ > 0 ? size_ : 1) * sizeof(T); }

 private:
  std::unique_ptr<T[]> host_;
  Buffer device_;
  T* data_ = nullptr;
  int64_t size_;
};

// Host-side counts of the v-collectives a step makes, one entry per rank of the TP or EP
// group: sized once for the larger group, so the multi-rank paths allocate nothing inside a
// step either. Always host memory, whatever the workspace's device: the communicators take
// counts from the host. Callers view the first group-size entries (counts_of).
struct GroupCounts {
  explicit GroupCounts(int max_group_size);
  std::vector<size_t> rows, ids, out, back;  // element counts per group rank
  std::vector<int64_t> sent, received;       // token / row counts per group rank
};

// The first `n` entries of one of GroupCounts' vectors (n = the group's size).
template <typename T>
std::span<T> counts_of(std::vector<T>& v, int n) {
  return std::span<T>(v.data(), static_cast<size_t>(n));
}

// The MoE half of a block: routing, the grouped expert rows, EP exchange buffers.
struct MoeScratch {
  // max_tokens: tokens of one step on this rank; ep_size: ranks of the EP group (1 = none);
  // tp_size: ranks of the TP group (sizes the token-share counts).
  MoeScratch(const model::ModelConfig& config, int64_t max_tokens, int ep_size, Device device = Device::kCPU,
             int tp_size = 1);

  int64_t max_tokens;   // per rank and step
  int64_t max_pairs;    // max_tokens * k: (token, slot) pairs of this rank
  int64_t group_pairs;  // max_pairs * ep_size: rows an expert rank may receive in one step

  // Routing of this rank's tokens.
  ScratchArray<float> h, logits, weights, sum;  // [T, H], [T, E], [P], [T, H]
  ScratchArray<int32_t> experts;                // [P]
  ScratchArray<float> slot_out;                 // [P, H] per-pair outputs (EP paths)
  // The local experts' rows (from this rank or, with EP, from the whole group).
  ScratchArray<int64_t> offsets;                // [E + 1]
  ScratchArray<int32_t> row_token, pair_row;    // [Pg]
  ScratchArray<float> act, expert_out;          // [Pg, I], [Pg, H]
  // EP dispatch: rows and ids received from the group, per-pair results sent back.
  ScratchArray<float> peer_rows, pair_out;      // [Pg, H]
  ScratchArray<int32_t> peer_ids;               // [Pg]
  // All-to-all send side: this rank's pairs ordered by destination expert.
  ScratchArray<int64_t> send_offsets;           // [E + 1]
  ScratchArray<int32_t> send_token, send_pair_row, send_ids;  // [P]
  ScratchArray<float> send_rows;                // [P, H]
  // This rank's token share, sent to the TP all-gather of the shares (distinct buffers).
  ScratchArray<float> share_send;               // [T, H]
  // Per-rank counts of the EP dispatch and the TP share gather (host).
  GroupCounts counts;
  // GPU ranks only (empty on the CPU): the all-to-all's send offsets brought to the host
  // [E + 1] and the expert id of each sent row before its upload [P].
  std::vector<int64_t> host_offsets;
  std::vector<int32_t> host_ids;
};

// The attention half: h, o [T, hidden], q, attn [T, q_width], k, v [T, kv_width] (this
// rank's heads).
struct AttentionScratch {
  AttentionScratch(int64_t max_tokens, int64_t hidden, int64_t q_width, int64_t kv_width,
                   Device device = Device::kCPU);
  ScratchArray<float> h, o, q, attn, k, v;
};

struct Workspace {
  // q_width / kv_width: this rank's query / key-value heads times head_dim; ep_size: ranks
  // of the EP group (1 = none).
  Workspace(const model::ModelConfig& config, int64_t max_tokens, int64_t q_width, int64_t kv_width,
            int ep_size, Device device = Device::kCPU, int tp_size = 1);
  // Throws kInvalidArgument when a step of n tokens does not fit (a planner bug).
  void check_fits(int64_t n) const;

  // Bytes of the fixed arrays (the logits buffer excluded). A CPU workspace of the same
  // shape tells a GPU rank what its workspace will take before it exists: its arrays are
  // untouched, so building one costs address space only.
  size_t bytes() const;

  // [count] floats for the logits on the workspace's device: grows to the largest step's
  // need once, then is reused.
  float* logits_for(size_t count);

  Device device;
  int64_t max_tokens;
  ScratchArray<float> x;               // [T, H] the residual stream
  ScratchArray<float> rows, normed;    // [T, H] rows whose logits are wanted, then normed
  AttentionScratch attention;
  MoeScratch moe;
  // [rows wanted, vocab slice]: grows to the largest step's need once, then is reused (a
  // bound from max_tokens would reserve T x vocab floats for the rare all-logits step).
  std::vector<float> logits;   // CPU
  Buffer device_logits;        // CUDA
};

}  // namespace gossamer::worker
