#pragma once
// TimedCommunicator: a decorator that forwards every call to an inner Communicator and
// adds the call's wall time and bytes to a CommStats, per group and operation kind. The
// scaling benchmark wraps a rank's groups in it to split step time into compute and
// communication (docs/PERFORMANCE.md, "Scaling"). Nothing wraps by default, so the normal
// path pays nothing: worker::ExecutorOptions::time_comm turns it on.
//
// What the figures mean:
// * seconds: wall time inside the call on this rank. For a collective that includes
//   waiting for the slowest peer to arrive (load imbalance shows up as communication);
//   benchmarks report the max over ranks.
// * bytes: what this rank hands to the transport: all_reduce count, reduce_scatter
//   sum(recv_counts), all_gather(v) its own block, all_to_all_v sum(send_counts) (its own
//   block included), broadcast the buffer (on every rank), send/recv the message.
//
// Groups made by split() are wrapped too and share the parent's CommStats, so wrapping the
// world (or each process group) is enough to time everything made from it.
// Not thread-safe, like Communicator itself: one thread issues the calls.
#include <array>
#include <map>
#include <memory>
#include <string>

#include "comm/communicator.h"

namespace gossamer::comm {

enum class CommOp : uint8_t {
  kAllReduce,
  kReduceScatter,
  kAllGather,
  kAllGatherV,
  kAllToAllV,
  kBroadcast,
  kSend,
  kRecv,
  kBarrier,
  kSplit,
};
inline constexpr size_t kNumCommOps = 10;
const char* comm_op_name(CommOp op);  // "all_reduce", "reduce_scatter", ...

struct OpStats {
  uint64_t calls = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Accumulated figures of one rank, keyed by group name ("tp", "ep", "world", ...).
struct CommStats {
  std::map<std::string, std::array<OpStats, kNumCommOps>> groups;

  void add(const std::string& group, CommOp op, uint64_t bytes, double seconds);
  double total_seconds() const;
  uint64_t total_bytes() const;
  uint64_t total_calls() const;
  // Sum over groups of one operation kind.
  OpStats op_total(CommOp op) const;
  // Sum over operations of one group (zeros when the group made no call).
  OpStats group_total(const std::string& group) const;
  void reset() { groups.clear(); }
};

class TimedCommunicator final : public Communicator {
 public:
  // Owns `inner`; adds to `stats` (shared with the groups split from this one).
  TimedCommunicator(std::unique_ptr<Communicator> inner, std::shared_ptr<CommStats> stats);
  // Does not own `inner` (e.g. a world the caller keeps); `inner` must outlive this.
  TimedCommunicator(Communicator& inner, std::shared_ptr<CommStats> stats);

  const CommStats& stats() const { return *stats_; }
  const std::shared_ptr<CommStats>& shared_stats() const { return stats_; }
  Communicator& inner() { return *inner_; }

  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  const std::string& name() const override { return inner_->name(); }
  const char* backend() const override { return inner_->backend(); }
  void set_timeout(std::chrono::milliseconds timeout) override { inner_->set_timeout(timeout); }
  std::chrono::milliseconds timeout() const override { return inner_->timeout(); }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device device) override;
  void reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> recv_counts,
                          Device device) override;
  void all_gather(const void* send, size_t count, void* recv, DType dtype, Device device) override;
  void all_gatherv(const void* send, size_t send_count, void* recv,
                   std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                   DType dtype, Device device) override;
  void all_to_all_v(const void* send, std::span<const size_t> send_counts,
                    std::span<const size_t> send_displs, void* recv,
                    std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                    DType dtype, Device device) override;
  void broadcast(void* data, size_t bytes, int root, Device device) override;
  void send(const void* data, size_t count, DType dtype, int peer, int tag, Device device) override;
  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device device) override;
  void barrier() override;
  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override;

 private:
  template <typename Fn>
  void timed(CommOp op, uint64_t bytes, Fn&& fn);

  std::unique_ptr<Communicator> owned_;
  Communicator* inner_;
  std::shared_ptr<CommStats> stats_;
};

// Replaces `group` (may be null) with a TimedCommunicator around it adding to `stats`.
void wrap_timed(std::unique_ptr<Communicator>& group, const std::shared_ptr<CommStats>& stats);

}  // namespace gossamer::comm
