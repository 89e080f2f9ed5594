#include "comm/nccl_communicator.h"

#include "core/error.h"

#if GOSSAMER_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <thread>
#include <vector>
#endif

namespace gossamer::comm {

#if !GOSSAMER_HAVE_NCCL

bool nccl_backend_available() { return false; }

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator>, void*) {
  GOSSAMER_THROW(kUnsupported, "this build has no NCCL backend (it is compiled when CMake finds CUDA and NCCL)");
}

#else

bool nccl_backend_available() { return true; }

namespace {

using Clock = std::chrono::steady_clock;
// As in comm/mpi_communicator.cpp: poll back to back first, then sleep between polls so a
// long idle wait does not burn a core.
constexpr std::chrono::milliseconds kNcclSpinPhase{200};

// A stream shared by a communicator and the groups split from it; destroyed with the last
// one when the communicator created it.
using SharedStream = std::shared_ptr<CUstream_st>;

ncclConfig_t non_blocking_config() {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  return config;
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Communicator> control, ncclComm_t comm, SharedStream stream)
      : control_(std::move(control)), comm_(comm), stream_(std::move(stream)), timeout_(control_->timeout()) {}

  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);  // a broken communicator was aborted (comm_ null)
  }

  int rank() const override { return control_->rank(); }
  int size() const override { return control_->size(); }
  const std::string& name() const override { return control_->name(); }
  const char* backend() const override { return "nccl"; }
  void set_timeout(std::chrono::milliseconds t) override {
    timeout_ = t;
    control_->set_timeout(t);
  }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device d) override {
    if (d == Device::kCPU) return control_->all_reduce(data, count, dtype, op, d);
    const char* name = "all_reduce";
    begin(name, d);
    detail::check_buffer(*this, name, data, count);
    if (dtype != DType::kF32 && dtype != DType::kI32 && dtype != DType::kI64)
      GOSSAMER_THROW(kUnsupported, "{}: {} reduces F32, I32 or I64, not {}", where(), name, dtype_name(dtype));
    const ncclDataType_t t = nccl_type(dtype, name);
    run(name, count, dtype, -1, [&] { return ncclAllReduce(data, data, count, t, nccl_op(op), comm_, stream()); });
  }

  void reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> counts, Device d) override {
    if (d == Device::kCPU) return control_->reduce_scatter_sum(send, recv, counts, d);
    const char* name = "reduce_scatter_sum";
    begin(name, d);
    detail::check_counts(*this, name, counts, {});
    const size_t total = detail::total_count(counts, {});
    detail::check_buffer(*this, name, send, total);
    detail::check_buffer(*this, name, recv, counts[size_t(rank())]);
    const bool equal = std::all_of(counts.begin(), counts.end(), [&](size_t c) { return c == counts[0]; });
    if (equal) {
      run(name, total, DType::kF32, -1,
          [&] { return ncclReduceScatter(send, recv, counts[0], ncclFloat32, ncclSum, comm_, stream()); });
      return;
    }
    // Unequal blocks: one reduce per block, rooted at its owner, in one group.
    run(name, total, DType::kF32, -1, [&] {
      return grouped([&] {
        size_t offset = 0;
        for (int r = 0; r < size(); ++r) {
          const size_t n = counts[size_t(r)];
          if (n > 0) {
            const ncclResult_t res = ncclReduce(send + offset, recv, n, ncclFloat32, ncclSum, r, comm_, stream());
            if (res != ncclSuccess) return res;
          }
          offset += n;
        }
        return ncclSuccess;
      });
    });
  }

  void all_gather(const void* send, size_t count, void* recv, DType dtype, Device d) override {
    if (d == Device::kCPU) return control_->all_gather(send, count, recv, dtype, d);
    const char* name = "all_gather";
    begin(name, d);
    detail::check_buffer(*this, name, send, count);
    detail::check_buffer(*this, name, recv, count * size_t(size()));
    const ncclDataType_t t = nccl_type(dtype, name);
    run(name, count * size_t(size()), dtype, -1, [&] { return ncclAllGather(send, recv, count, t, comm_, stream()); });
  }

  void all_gatherv(const void* send, size_t send_count, void* recv, std::span<const size_t> counts,
                   std::span<const size_t> displs, DType dtype, Device d) override {
    if (d == Device::kCPU) return control_->all_gatherv(send, send_count, recv, counts, displs, dtype, d);
    const char* name = "all_gatherv";
    begin(name, d);
    detail::check_counts(*this, name, counts, displs);
    if (counts[size_t(rank())] != send_count)
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: sends {} but recv_counts[{}] is {}", where(), name, send_count, rank(),
                     counts[size_t(rank())]);
    const size_t total = detail::total_count(counts, displs);
    detail::check_buffer(*this, name, send, send_count);
    detail::check_buffer(*this, name, recv, total);
    const ncclDataType_t t = nccl_type(dtype, name);
    // Every block its owner's broadcast, in one group (NCCL has no v-variant).
    run(name, total, dtype, -1, [&] {
      return grouped([&] {
        size_t packed = 0;
        for (int r = 0; r < size(); ++r) {
          const size_t n = counts[size_t(r)], at = displs.empty() ? packed : displs[size_t(r)];
          packed += n;
          if (n == 0) continue;
          void* dst = offset(recv, dtype, at);
          const void* src = r == rank() ? send : dst;  // only the root's send buffer is read
          const ncclResult_t res = ncclBroadcast(src, dst, n, t, r, comm_, stream());
          if (res != ncclSuccess) return res;
        }
        return ncclSuccess;
      });
    });
  }

  void all_to_all_v(const void* send, std::span<const size_t> send_counts, std::span<const size_t> send_displs,
                    void* recv, std::span<const size_t> recv_counts, std::span<const size_t> recv_displs, DType dtype,
                    Device d) override {
    if (d == Device::kCPU)
      return control_->all_to_all_v(send, send_counts, send_displs, recv, recv_counts, recv_displs, dtype, d);
    const char* name = "all_to_all_v";
    begin(name, d);
    detail::check_counts(*this, name, send_counts, send_displs);
    detail::check_counts(*this, name, recv_counts, recv_displs);
    const size_t send_total = detail::total_count(send_counts, send_displs);
    const size_t recv_total = detail::total_count(recv_counts, recv_displs);
    detail::check_buffer(*this, name, send, send_total);
    detail::check_buffer(*this, name, recv, recv_total);
    const ncclDataType_t t = nccl_type(dtype, name);
    const int me = rank();
    if (send_counts[size_t(me)] != recv_counts[size_t(me)])
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: sends {} to itself but expects {}", where(), name,
                     send_counts[size_t(me)], recv_counts[size_t(me)]);
    run(name, recv_total, dtype, -1, [&] {
      return grouped([&] {
        size_t send_packed = 0, recv_packed = 0;
        for (int p = 0; p < size(); ++p) {
          const size_t sc = send_counts[size_t(p)], rc = recv_counts[size_t(p)];
          const size_t sd = send_displs.empty() ? send_packed : send_displs[size_t(p)];
          const size_t rd = recv_displs.empty() ? recv_packed : recv_displs[size_t(p)];
          send_packed += sc;
          recv_packed += rc;
          if (p == me) {  // the own block is a device copy, not a message
            if (sc > 0 && cudaMemcpyAsync(offset(recv, dtype, rd), offset(send, dtype, sd), dtype_bytes(dtype, sc),
                                          cudaMemcpyDeviceToDevice, stream()) != cudaSuccess)
              return ncclUnhandledCudaError;
            continue;
          }
          if (sc > 0) {
            const ncclResult_t res = ncclSend(offset(send, dtype, sd), sc, t, p, comm_, stream());
            if (res != ncclSuccess) return res;
          }
          if (rc > 0) {
            const ncclResult_t res = ncclRecv(offset(recv, dtype, rd), rc, t, p, comm_, stream());
            if (res != ncclSuccess) return res;
          }
        }
        return ncclSuccess;
      });
    });
  }

  void broadcast(void* data, size_t bytes, int root, Device d) override {
    if (d == Device::kCPU) return control_->broadcast(data, bytes, root, d);
    const char* name = "broadcast";
    begin(name, d);
    if (root < 0 || root >= size())
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: root {} outside the group", where(), name, root);
    detail::check_buffer(*this, name, data, bytes);
    run(name, bytes, DType::kU8, -1, [&] { return ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream()); });
  }

  void send(const void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    if (d == Device::kCPU) return control_->send(data, count, dtype, peer, tag, d);
    const char* name = "send";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    const ncclDataType_t t = nccl_type(dtype, name);
    run(name, count, dtype, peer, [&] { return ncclSend(data, count, t, peer, comm_, stream()); });
  }

  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    if (d == Device::kCPU) return control_->recv(data, count, dtype, peer, tag, d);
    const char* name = "recv";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    const ncclDataType_t t = nccl_type(dtype, name);
    run(name, count, dtype, peer, [&] { return ncclRecv(data, count, t, peer, comm_, stream()); });
  }

  void barrier() override { control_->barrier(); }

  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override {
    const char* op = "split";
    begin(op, Device::kCUDA);
    // The control split first: it is timed (a dead peer is an error there, not a hang in
    // ncclCommSplit) and gives the new group's host side.
    auto sub_control = control_->split(color, key, name);
    ncclConfig_t config = non_blocking_config();
    ncclComm_t out = nullptr;
    const ncclResult_t res = ncclCommSplit(comm_, color == kNoGroup ? NCCL_SPLIT_NOCOLOR : color, key, &out, &config);
    if (res != ncclSuccess && res != ncclInProgress) fail(op, res);
    wait_ready(out ? out : comm_, op);
    if (color == kNoGroup) return nullptr;
    auto group = std::make_unique<NcclCommunicator>(std::move(sub_control), out, stream_);
    group->set_timeout(timeout_);
    return group;
  }

 private:
  cudaStream_t stream() const { return stream_.get(); }

  std::string where() const { return fmt::format("comm group '{}' (rank {} of {}, nccl)", name(), rank(), size()); }

  void begin(const char* op, Device d) const {
    if (broken_) GOSSAMER_THROW(kComm, "{}: {}: the group is broken by an earlier error", where(), op);
    if (d != Device::kCUDA)
      GOSSAMER_THROW(kUnsupported, "{}: {}: the NCCL backend takes cuda or cpu buffers, not {}", where(), op,
                     device_name(d));
  }

  // Marks the group broken, aborts the NCCL communicator (ends its pending work) and throws.
  [[noreturn]] void fail(const char* op, const std::string& why) {
    broken_ = true;
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
    GOSSAMER_THROW(kComm, "{}: {} failed: {}", where(), op, why);
  }
  [[noreturn]] void fail(const char* op, ncclResult_t res) {
    std::string why = ncclGetErrorString(res);
    if (comm_)
      if (const char* last = ncclGetLastError(comm_); last && *last) why += std::string(" (") + last + ")";
    fail(op, why);
  }

  // ncclGroupStart; calls; ncclGroupEnd — the first error wins, the group is always closed.
  template <typename Calls>
  static ncclResult_t grouped(Calls calls) {
    ncclResult_t res = ncclGroupStart();
    if (res != ncclSuccess) return res;
    const ncclResult_t inner = calls();
    res = ncclGroupEnd();
    return inner != ncclSuccess ? inner : res;
  }

  // Enqueue one operation, then wait for it on the stream against the deadline.
  template <typename Enqueue>
  void run(const char* op, size_t count, DType dtype, int peer, Enqueue enqueue) {
    const ncclResult_t res = enqueue();
    if (res != ncclSuccess && res != ncclInProgress) fail(op, res);
    wait_done(op, count, dtype, peer);
  }

  // Polls until NCCL has finished issuing (async error no longer "in progress") and the
  // stream has drained; an error or the deadline aborts.
  void wait_done(const char* op, size_t count, DType dtype, int peer) {
    const auto start = Clock::now();
    for (;;) {
      ncclResult_t async = ncclSuccess;
      const ncclResult_t q = ncclCommGetAsyncError(comm_, &async);
      if (q != ncclSuccess) fail(op, q);
      if (async != ncclSuccess && async != ncclInProgress) fail(op, async);
      if (async == ncclSuccess) {
        const cudaError_t s = cudaStreamQuery(stream());
        if (s == cudaSuccess) return;
        if (s != cudaErrorNotReady) {
          cudaGetLastError();
          fail(op, std::string("CUDA: ") + cudaGetErrorString(s));
        }
      }
      pause_or_time_out(start, [&] {
        fail(op, fmt::format("{} {}{} timed out after {} ms: a peer died, hangs or skipped the operation", count,
                             dtype_name(dtype), peer >= 0 ? fmt::format(" with peer {}", peer) : std::string(),
                             timeout_.count()));
      });
    }
  }

  // Polls a communicator being created or split until it is ready.
  void wait_ready(ncclComm_t comm, const char* op) {
    const auto start = Clock::now();
    for (;;) {
      ncclResult_t async = ncclSuccess;
      const ncclResult_t q = ncclCommGetAsyncError(comm, &async);
      if (q != ncclSuccess) fail(op, q);
      if (async == ncclSuccess) return;
      if (async != ncclInProgress) fail(op, async);
      pause_or_time_out(start, [&] {
        if (comm != comm_) ncclCommAbort(comm);
        fail(op, fmt::format("timed out after {} ms", timeout_.count()));
      });
    }
  }

  template <typename OnTimeout>
  void pause_or_time_out(Clock::time_point start, OnTimeout on_timeout) {
    const auto now = Clock::now();
    if (timeout_.count() > 0 && now - start >= timeout_) on_timeout();
    if (now - start < kNcclSpinPhase)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(100));
  }

  ncclDataType_t nccl_type(DType t, const char* op) const {
    switch (t) {
      case DType::kF32: return ncclFloat32;
      case DType::kI32: return ncclInt32;
      case DType::kI64: return ncclInt64;
      case DType::kU8: return ncclUint8;
      case DType::kBF16: return ncclBfloat16;
      case DType::kF16: return ncclFloat16;
      case DType::kMXFP4: break;
    }
    GOSSAMER_THROW(kUnsupported, "{}: {}: cannot move {} elements (send their bytes as U8)", where(), op,
                   dtype_name(t));
  }
  static ncclRedOp_t nccl_op(ReduceOp op) {
    switch (op) {
      case ReduceOp::kSum: return ncclSum;
      case ReduceOp::kMax: return ncclMax;
      case ReduceOp::kMin: return ncclMin;
    }
    return ncclSum;
  }
  static void* offset(const void* base, DType t, size_t elems) {
    return const_cast<char*>(static_cast<const char*>(base)) + dtype_bytes(t, elems);
  }

  std::unique_ptr<Communicator> control_;
  ncclComm_t comm_;
  SharedStream stream_;
  std::chrono::milliseconds timeout_;
  bool broken_ = false;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> control, void* stream) {
  if (!control) GOSSAMER_THROW(kInvalidArgument, "make_nccl_communicator: no control communicator");
  const std::string where =
      fmt::format("comm group '{}' (rank {} of {}, nccl)", control->name(), control->rank(), control->size());
  ncclUniqueId id{};
  if (control->rank() == 0) {
    const ncclResult_t res = ncclGetUniqueId(&id);
    if (res != ncclSuccess) GOSSAMER_THROW(kComm, "{}: ncclGetUniqueId failed: {}", where, ncclGetErrorString(res));
  }
  control->broadcast(&id, sizeof(id), 0, Device::kCPU);

  SharedStream shared;
  if (stream) {
    shared = SharedStream(static_cast<cudaStream_t>(stream), [](cudaStream_t) {});  // borrowed
  } else {
    cudaStream_t own = nullptr;
    if (cudaStreamCreateWithFlags(&own, cudaStreamNonBlocking) != cudaSuccess) {
      cudaGetLastError();
      GOSSAMER_THROW(kComm, "{}: cannot create a CUDA stream (is a GPU selected?)", where);
    }
    shared = SharedStream(own, [](cudaStream_t s) { cudaStreamDestroy(s); });
  }

  ncclConfig_t config = non_blocking_config();
  ncclComm_t comm = nullptr;
  ncclResult_t res = ncclCommInitRankConfig(&comm, control->size(), id, control->rank(), &config);
  if (res != ncclSuccess && res != ncclInProgress)
    GOSSAMER_THROW(kComm, "{}: ncclCommInitRankConfig failed: {}", where, ncclGetErrorString(res));
  const auto timeout = control->timeout();
  const auto start = Clock::now();
  for (;;) {
    ncclResult_t async = ncclSuccess;
    res = ncclCommGetAsyncError(comm, &async);
    if (res == ncclSuccess && async == ncclSuccess) break;
    const bool waiting = res == ncclSuccess && async == ncclInProgress;
    const bool late = timeout.count() > 0 && Clock::now() - start >= timeout;
    if (!waiting || late) {
      ncclCommAbort(comm);
      GOSSAMER_THROW(kComm, "{}: NCCL communicator set-up {}", where,
                     waiting ? fmt::format("timed out after {} ms: a peer died or never joined", timeout.count())
                             : std::string("failed: ") + ncclGetErrorString(res != ncclSuccess ? res : async));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return std::make_unique<NcclCommunicator>(std::move(control), comm, std::move(shared));
}

#endif  // GOSSAMER_HAVE_NCCL

}  // namespace gossamer::comm
