#pragma once
// MpiRuntime: owns MPI_Init_thread / MPI_Finalize for the process (RAII), answers the world
// rank and size, and hands out the world Communicator. Only apps create one (in main), and
// only apps call abort(): library code throws Error(kComm) and lets the app decide.
//
//   int main(int argc, char** argv) {
//     comm::MpiRuntime mpi(&argc, &argv);
//     auto world = mpi.world(std::chrono::seconds(cfg.runtime.comm_timeout_s));
//     try { ... } catch (const Error& e) { comm::MpiRuntime::abort(e.what(), 3); }
//   }
//
// Built without MPI (GOSSAMER_MPI=OFF) it is a one-rank stand-in: rank 0 of 1, a local
// world, and abort() exits the process.
#include <chrono>
#include <memory>
#include <string>

#include "comm/communicator.h"

namespace gossamer::comm {

class MpiRuntime {
 public:
  // Initializes MPI with MPI_THREAD_FUNNELED (only the step thread calls MPI) unless it
  // is already initialized, in which case the runtime neither inits nor finalizes. Throws
  // kComm when MPI cannot provide FUNNELED. Sets MPI_ERRORS_RETURN on MPI_COMM_WORLD.
  MpiRuntime(int* argc, char*** argv);
  ~MpiRuntime();  // MPI_Finalize when this object initialized MPI
  MpiRuntime(const MpiRuntime&) = delete;
  MpiRuntime& operator=(const MpiRuntime&) = delete;

  int world_rank() const { return rank_; }
  int world_size() const { return size_; }
  // Host name of this rank (for the start-up table and error messages).
  const std::string& host() const { return host_; }

  // The world group (a dup of MPI_COMM_WORLD; local when the world has one rank).
  std::unique_ptr<Communicator> world(std::chrono::milliseconds timeout = kDefaultTimeout,
                                      const std::string& name = "world") const;

  // Ends the whole job: prints "gossamer: rank R: fatal: <message>" to stderr, then
  // MPI_Abort(MPI_COMM_WORLD, code) so that peers blocked in a collective die too. The only
  // MPI_Abort in Gossamer; for apps, after a kComm error (a peer died or timed out).
  [[noreturn]] static void abort(const std::string& message, int code = 1);

 private:
  bool owns_ = false;
  int rank_ = 0, size_ = 1;
  std::string host_;
};

}  // namespace gossamer::comm
