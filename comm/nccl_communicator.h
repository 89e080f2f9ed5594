#pragma once
// The `nccl` backend: device (kCUDA) buffers over NCCL, host (kCPU) buffers over the
// control communicator it was built from (normally `mpi`), so one Communicator serves the
// GPU data plane and the host control plane (StepPlans, row counts) alike.
//
// Bootstrap: rank 0 of the control group makes the NCCL unique id and broadcasts it over
// the control group; split() splits both (ncclCommSplit + control split).
//
// No hangs: communicators are non-blocking (ncclConfig_t::blocking = 0). Every call
// enqueues on the communicator's stream and then polls ncclCommGetAsyncError and the
// stream against the deadline; past it, ncclCommAbort and Error(kComm) naming the group
// and the operation (the communicator is broken from then on, as for `mpi`). Timeout 0
// polls without a deadline.
//
// Semantics per call are those of comm/communicator.h, with two NCCL-specific notes:
// * Calls return when the operation has completed on the stream (the buffers are ready),
//   so the communicator can replace `mpi` without changes at the call sites. This
//   synchronises the host once per collective; CUDA-graph capture of decode steps will
//   need an enqueue-only variant.
// * send/recv tags are checked but not matched: NCCL pairs the messages between two
//   ranks in issue order. Pipeline stages issue in the same order on both ends.
// The stream: pass the worker's compute stream so the collectives are ordered after the
// kernels that produced their inputs.
//
// Compiled when CMake finds NCCL (GOSSAMER_NCCL_ENABLED → GOSSAMER_HAVE_NCCL); without it
// make_nccl_communicator throws kUnsupported.
#include <memory>

#include "comm/communicator.h"

namespace gossamer::comm {

bool nccl_backend_available();

// Builds the NCCL communicator over the ranks of `control` (collective over it), on the
// calling thread's current CUDA device (select it first: kernels/cuda/memory.h,
// select_gpu_for_local_rank). Takes ownership of `control`; the result has its name,
// rank, size and timeout. `stream` is a cudaStream_t (nullptr: the communicator creates
// and owns a non-blocking stream).
std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> control, void* stream = nullptr);

}  // namespace gossamer::comm
