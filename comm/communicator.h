#pragma once
// Communicator: one process group and the collectives the model needs
// (docs/ARCHITECTURE.md, "Parallel layout"). Backends: `local` (a group of one: copies or
// no-ops, no MPI call), `mpi` (CPU buffers, comm/mpi_communicator.h) and, with CUDA,
// `nccl` behind this same interface. Parallel layers hold a Communicator& and never see
// which backend it is.
//
// Conventions for every call:
// * Counts are in elements of `dtype`, never bytes (except broadcast(), which moves bytes).
// * Every buffer argument carries its Device: the MPI backend takes kCPU only and throws
//   kUnsupported otherwise; NCCL will take kCUDA.
// * All ranks of the group make the same calls in the same order with matching counts;
//   a rank with zero tokens still calls with count 0 (a rank that skips a collective
//   leaves its peers waiting: docs/ARCHITECTURE.md, "Rules that keep the ranks in step").
// * Failures and timeouts throw gossamer::Error(kComm) naming the group and the operation.
//   After a kComm error the communicator is broken (a collective may still be pending in
//   the transport) and every later call throws; the app should end the job
//   (comm::MpiRuntime::abort), not retry.
// * Not thread-safe: one thread (the step thread) issues all calls on a group.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace gossamer::comm {

enum class ReduceOp : uint8_t { kSum, kMax, kMin };
const char* reduce_op_name(ReduceOp op);

// Default deadline for one operation. Long prefills on slow CPUs must fit; configs set it
// with runtime.comm_timeout_s, tests use short ones (docs/ARCHITECTURE.md, "Failure rules").
inline constexpr std::chrono::milliseconds kDefaultTimeout{60000};

// split() color for "this rank joins no group": it gets nullptr back.
inline constexpr int kNoGroup = -1;

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Group name used in errors and logs ("world", "tp", "ep", ...).
  virtual const std::string& name() const = 0;
  // "local", "mpi", "nccl".
  virtual const char* backend() const = 0;

  // Deadline for each following operation (the wait for one collective to complete).
  // 0 = no deadline: the MPI backend then makes the blocking calls (MPI's tuned algorithms,
  // measurably faster for multi-MiB prefill collectives) and a dead peer is caught only by
  // the launcher. Use it for benchmarks or under an external watchdog.
  virtual void set_timeout(std::chrono::milliseconds timeout) = 0;
  virtual std::chrono::milliseconds timeout() const = 0;

  // ---- reductions -------------------------------------------------------------------
  // data: [count] of dtype (kF32, kI32 or kI64), in place; every rank gets the reduction.
  virtual void all_reduce(void* data, size_t count, DType dtype, ReduceOp op,
                          Device device) = 0;
  // send: [sum(recv_counts)] f32, rank r's block starting at sum(recv_counts[0..r));
  // recv: [recv_counts[rank()]] f32 = the sum over ranks of this rank's block.
  // recv_counts: [size()], the same on every rank; zero counts are allowed.
  virtual void reduce_scatter_sum(const float* send, float* recv,
                                  std::span<const size_t> recv_counts, Device device) = 0;

  // ---- gathers and exchanges ----------------------------------------------------------
  // send: [count] of dtype; recv: [size() * count], rank r's block at r * count.
  virtual void all_gather(const void* send, size_t count, void* recv, DType dtype,
                          Device device) = 0;
  // send: [send_count]; recv: rank r's block of recv_counts[r] elements at recv_displs[r].
  // recv_counts, recv_displs: [size()], the same on every rank; recv_counts[rank()] must
  // equal send_count. Empty recv_displs means packed (displs = prefix sums of counts).
  virtual void all_gatherv(const void* send, size_t send_count, void* recv,
                           std::span<const size_t> recv_counts,
                           std::span<const size_t> recv_displs, DType dtype,
                           Device device) = 0;
  // Every rank sends send_counts[p] elements from send + send_displs[p] to peer p, and
  // receives recv_counts[p] elements from peer p into recv + recv_displs[p].
  // All four spans: [size()]. send_counts[p] on rank r == recv_counts[r] on rank p
  // (exchange the counts first with all_to_all of kI64 when they are not known).
  // Empty displs mean packed.
  virtual void all_to_all_v(const void* send, std::span<const size_t> send_counts,
                            std::span<const size_t> send_displs, void* recv,
                            std::span<const size_t> recv_counts,
                            std::span<const size_t> recv_displs, DType dtype,
                            Device device) = 0;
  // data: [bytes] bytes; on return every rank holds root's bytes.
  virtual void broadcast(void* data, size_t bytes, int root, Device device) = 0;

  // ---- point to point (PP stages) ------------------------------------------------------
  // data: [count] of dtype. send blocks until the transport has taken the buffer (it may be
  // reused after return); recv until the message has arrived. Tags separate streams
  // (e.g. micro-batch index); 0 <= tag < 32768.
  virtual void send(const void* data, size_t count, DType dtype, int peer, int tag,
                    Device device) = 0;
  virtual void recv(void* data, size_t count, DType dtype, int peer, int tag,
                    Device device) = 0;

  virtual void barrier() = 0;

  // Collective over this group: ranks with equal color form a new group, ordered by
  // (key, old rank). color == kNoGroup returns nullptr. A resulting group of size 1 is a
  // local communicator. `name` names the new group in errors. Inherits the timeout.
  virtual std::unique_ptr<Communicator> split(int color, int key, const std::string& name) = 0;

  // ---- conveniences (non-virtual, built on the calls above) ----------------------------
  // data: [count] f32, in place.
  void all_reduce_sum(float* data, size_t count, Device device);
  // send: [size() * count] of dtype, block p goes to peer p; recv: [size() * count].
  // Used to exchange the counts ahead of all_to_all_v.
  void all_to_all(const void* send, size_t count, void* recv, DType dtype, Device device);

 private:
  // all_to_all's per-peer counts, kept between calls: a step's count exchange then
  // allocates nothing (the vector grows on the first call only).
  std::vector<size_t> equal_counts_;
};

// A group of one. Every collective is a copy (send → recv) or a no-op; send/recv to
// oneself is an error (it would deadlock on a real transport). CUDA buffers: in-place ops
// need nothing; copies are device copies after a device-wide synchronisation in builds
// with the CUDA backend, and throw kUnsupported in builds without it.
std::unique_ptr<Communicator> make_local_communicator(const std::string& name = "local");

// Checks shared by all backends; throw kInvalidArgument naming the group and operation.
namespace detail {
void check_counts(const Communicator& c, const char* op, std::span<const size_t> counts,
                  std::span<const size_t> displs);
size_t total_count(std::span<const size_t> counts, std::span<const size_t> displs);
void check_buffer(const Communicator& c, const char* op, const void* data, size_t count);
void check_peer(const Communicator& c, const char* op, int peer, int tag);
}  // namespace detail

}  // namespace gossamer::comm
