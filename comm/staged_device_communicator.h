#pragma once
// The MPI (or any host) communicator carrying device buffers: every kCUDA buffer is
// staged through pinned host memory — device-to-host copy of what is sent, the host
// operation, host-to-device copy of what is received — and kCPU buffers pass straight
// through. NCCL refuses two ranks on one GPU; this backend does not care, so multi-rank
// layouts (tp=2, ep=2, pp=2) can be tested on a one-GPU machine. It is slower than NCCL
// by two PCIe copies and a host synchronisation per call: a test and fallback path.
//
// `stream` (a cudaStream_t, nullptr = the default stream) is the stream the device
// buffers are produced and consumed on; each call waits for it before reading a device
// buffer and returns after the received data is on the device. Errors of the host
// communicator pass through unchanged (kComm naming the group and the operation); CUDA
// copy failures throw kComm too and break the group.
//
// Compiled with the CUDA backend (GOSSAMER_COMM_HAVE_CUDA); without it the factory throws
// kUnsupported.
#include <memory>

#include "comm/communicator.h"

namespace gossamer::comm {

std::unique_ptr<Communicator> make_staged_device_communicator(std::unique_ptr<Communicator> host,
                                                              void* stream = nullptr);

}  // namespace gossamer::comm
