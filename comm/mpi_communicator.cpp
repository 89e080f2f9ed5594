#include "comm/mpi_communicator.h"

#include "core/error.h"

#if GOSSAMER_HAVE_MPI
#include <mpi.h>

#include <climits>
#include <thread>
#include <vector>
#endif

namespace gossamer::comm {

#if !GOSSAMER_HAVE_MPI

bool mpi_backend_available() { return false; }

std::unique_ptr<Communicator> make_mpi_world(std::chrono::milliseconds, const std::string&) {
  GOSSAMER_THROW(kUnsupported, "this build has no MPI backend (configure with GOSSAMER_MPI=ON)");
}

#else

bool mpi_backend_available() { return true; }

namespace {

using Clock = std::chrono::steady_clock;

// How long wait() polls back to back before it starts sleeping between polls. Open MPI's
// non-blocking collectives progress only inside MPI_Test, one schedule round per call, so
// sleeping early turns a 5 MiB all-reduce (dozens of rounds) from ~2 ms into ~50 ms.
// Polling yields the core, so oversubscribed ranks still make progress; the sleeping phase
// is for long idle waits (a follower waiting for the next StepPlan).
constexpr std::chrono::milliseconds kSpinPhase{200};

class MpiCommunicator final : public Communicator {
 public:
  // Takes ownership of `comm` (freed in the destructor).
  MpiCommunicator(MPI_Comm comm, std::string name, std::chrono::milliseconds timeout)
      : comm_(comm), name_(std::move(name)), timeout_(timeout) {
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "comm_rank");
    check(MPI_Comm_size(comm_, &size_), "comm_size");
  }

  ~MpiCommunicator() override {
    // A broken communicator may have an operation pending in the transport; freeing it
    // would be erroneous MPI, so it is left to MPI_Finalize / MPI_Abort.
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && !broken_) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& name() const override { return name_; }
  const char* backend() const override { return "mpi"; }
  void set_timeout(std::chrono::milliseconds t) override { timeout_ = t; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device d) override {
    const char* name = "all_reduce";
    begin(name, d);
    detail::check_buffer(*this, name, data, count);
    if (dtype != DType::kF32 && dtype != DType::kI32 && dtype != DType::kI64)
      GOSSAMER_THROW(kUnsupported, "{}: {} reduces F32, I32 or I64, not {}", where(), name,
                     dtype_name(dtype));
    const int n = to_int(count, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    run(name, count, dtype, -1,
        [&] { return MPI_Allreduce(MPI_IN_PLACE, data, n, t, mpi_op(op), comm_); },
        [&](MPI_Request* r) { return MPI_Iallreduce(MPI_IN_PLACE, data, n, t, mpi_op(op), comm_, r); });
  }

  void reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> counts,
                          Device d) override {
    const char* name = "reduce_scatter_sum";
    begin(name, d);
    detail::check_counts(*this, name, counts, {});
    const size_t total = detail::total_count(counts, {});
    detail::check_buffer(*this, name, send, total);
    detail::check_buffer(*this, name, recv, counts[static_cast<size_t>(rank_)]);
    to_ints(counts, &counts_a_, name);
    const int* c = counts_a_.data();
    run(name, total, DType::kF32, -1,
        [&] { return MPI_Reduce_scatter(send, recv, c, MPI_FLOAT, MPI_SUM, comm_); },
        [&](MPI_Request* r) {
          return MPI_Ireduce_scatter(send, recv, c, MPI_FLOAT, MPI_SUM, comm_, r);
        });
  }

  void all_gather(const void* send, size_t count, void* recv, DType dtype,
                  Device d) override {
    const char* name = "all_gather";
    begin(name, d);
    detail::check_buffer(*this, name, send, count);
    detail::check_buffer(*this, name, recv, count * static_cast<size_t>(size_));
    // Sending from one's own block of recv is legal only as MPI_IN_PLACE.
    const bool in_place = send == at(recv, dtype, count * static_cast<size_t>(rank_));
    const void* src = in_place ? MPI_IN_PLACE : send;
    const int n = to_int(count, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    run(name, count * static_cast<size_t>(size_), dtype, -1,
        [&] { return MPI_Allgather(src, n, t, recv, n, t, comm_); },
        [&](MPI_Request* r) { return MPI_Iallgather(src, n, t, recv, n, t, comm_, r); });
  }

  void all_gatherv(const void* send, size_t send_count, void* recv,
                   std::span<const size_t> counts, std::span<const size_t> displs,
                   DType dtype, Device d) override {
    const char* name = "all_gatherv";
    begin(name, d);
    detail::check_counts(*this, name, counts, displs);
    if (counts[static_cast<size_t>(rank_)] != send_count)
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: sends {} but recv_counts[{}] is {}", where(),
                     name, send_count, rank_, counts[static_cast<size_t>(rank_)]);
    const size_t total = detail::total_count(counts, displs);
    detail::check_buffer(*this, name, send, send_count);
    detail::check_buffer(*this, name, recv, total);
    to_ints(counts, &counts_a_, name);
    to_displs(counts, displs, &displs_a_, name);
    const bool in_place =
        send == at(recv, dtype, static_cast<size_t>(displs_a_[static_cast<size_t>(rank_)]));
    const void* src = in_place ? MPI_IN_PLACE : send;
    const int n = to_int(send_count, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    const int *c = counts_a_.data(), *at = displs_a_.data();
    run(name, total, dtype, -1,
        [&] { return MPI_Allgatherv(src, n, t, recv, c, at, t, comm_); },
        [&](MPI_Request* r) { return MPI_Iallgatherv(src, n, t, recv, c, at, t, comm_, r); });
  }

  void all_to_all_v(const void* send, std::span<const size_t> send_counts,
                    std::span<const size_t> send_displs, void* recv,
                    std::span<const size_t> recv_counts,
                    std::span<const size_t> recv_displs, DType dtype, Device d) override {
    const char* name = "all_to_all_v";
    begin(name, d);
    detail::check_counts(*this, name, send_counts, send_displs);
    detail::check_counts(*this, name, recv_counts, recv_displs);
    const size_t send_total = detail::total_count(send_counts, send_displs);
    const size_t recv_total = detail::total_count(recv_counts, recv_displs);
    detail::check_buffer(*this, name, send, send_total);
    detail::check_buffer(*this, name, recv, recv_total);
    to_ints(send_counts, &counts_a_, name);
    to_displs(send_counts, send_displs, &displs_a_, name);
    to_ints(recv_counts, &counts_b_, name);
    to_displs(recv_counts, recv_displs, &displs_b_, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    const int *sc = counts_a_.data(), *sd = displs_a_.data();
    const int *rc = counts_b_.data(), *rd = displs_b_.data();
    run(name, recv_total, dtype, -1,
        [&] { return MPI_Alltoallv(send, sc, sd, t, recv, rc, rd, t, comm_); },
        [&](MPI_Request* r) { return MPI_Ialltoallv(send, sc, sd, t, recv, rc, rd, t, comm_, r); });
  }

  void broadcast(void* data, size_t bytes, int root, Device d) override {
    const char* name = "broadcast";
    begin(name, d);
    if (root < 0 || root >= size_)
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: root {} outside the group", where(), name,
                     root);
    detail::check_buffer(*this, name, data, bytes);
    const int n = to_int(bytes, name);
    run(name, bytes, DType::kU8, -1, [&] { return MPI_Bcast(data, n, MPI_BYTE, root, comm_); },
        [&](MPI_Request* r) { return MPI_Ibcast(data, n, MPI_BYTE, root, comm_, r); });
  }

  void send(const void* data, size_t count, DType dtype, int peer, int tag,
            Device d) override {
    const char* name = "send";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    const int n = to_int(count, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    run(name, count, dtype, peer, [&] { return MPI_Send(data, n, t, peer, tag, comm_); },
        [&](MPI_Request* r) { return MPI_Isend(data, n, t, peer, tag, comm_, r); });
  }

  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    const char* name = "recv";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    const int n = to_int(count, name);
    const MPI_Datatype t = mpi_type(dtype, name);
    run(name, count, dtype, peer,
        [&] { return MPI_Recv(data, n, t, peer, tag, comm_, MPI_STATUS_IGNORE); },
        [&](MPI_Request* r) { return MPI_Irecv(data, n, t, peer, tag, comm_, r); });
  }

  void barrier() override {
    const char* name = "barrier";
    begin(name, Device::kCPU);
    run(name, 0, DType::kU8, -1, [&] { return MPI_Barrier(comm_); },
        [&](MPI_Request* r) { return MPI_Ibarrier(comm_, r); });
  }

  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override {
    const char* op = "split";
    begin(op, Device::kCPU);
    if (color < kNoGroup)
      GOSSAMER_THROW(kInvalidArgument, "{}: split: color {} is negative", where(), color);
    // MPI_Comm_split has no non-blocking form: a timed all-gather of the colors first makes
    // a dead peer an error here rather than a hang inside the split, and tells every rank
    // the size of its new group.
    int mine[2] = {color, key};
    std::vector<int> all(2 * static_cast<size_t>(size_));
    all_gather(mine, 2, all.data(), DType::kI32, Device::kCPU);
    int members = 0;
    for (int r = 0; r < size_; ++r) members += all[2 * static_cast<size_t>(r)] == color;

    // Ranks alone in their group pass MPI_UNDEFINED and keep no MPI communicator.
    const bool alone = color == kNoGroup || members == 1;
    MPI_Comm out = MPI_COMM_NULL;
    check(MPI_Comm_split(comm_, alone ? MPI_UNDEFINED : color, key, &out), op);
    if (color == kNoGroup) return nullptr;
    if (alone) {
      auto local = make_local_communicator(name);
      local->set_timeout(timeout_);
      return local;
    }
    return std::make_unique<MpiCommunicator>(out, name, timeout_);
  }

 private:
  std::string where() const {
    return fmt::format("comm group '{}' (rank {} of {}, mpi)", name_, rank_, size_);
  }

  // Shared preamble: a broken group refuses work; CPU buffers only.
  void begin(const char* op, Device d) const {
    if (broken_)
      GOSSAMER_THROW(kComm, "{}: {}: the group is broken by an earlier error", where(), op);
    if (d != Device::kCPU)
      GOSSAMER_THROW(kUnsupported, "{}: {}: the MPI backend takes cpu buffers, not {}",
                     where(), op, device_name(d));
  }

  void check(int rc, const char* op) {
    if (rc == MPI_SUCCESS) return;
    broken_ = true;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, text, &len);
    GOSSAMER_THROW(kComm, "{}: {} failed: {}", where(), op, std::string(text, len));
  }

  // One operation: with no deadline (timeout 0) the blocking MPI call, which runs MPI's
  // tuned algorithms; else the non-blocking form polled against the deadline.
  template <typename Blocking, typename Start>
  void run(const char* op, size_t count, DType dtype, int peer, Blocking blocking, Start start) {
    if (timeout_.count() == 0) {
      check(blocking(), op);
      return;
    }
    MPI_Request req = MPI_REQUEST_NULL;
    check(start(&req), op);
    wait(&req, op, count, dtype, peer);
  }

  // Polls the request until done or past the deadline: back to back (yielding) for
  // kSpinPhase, then every 100 µs so that a long idle wait does not burn a core.
  void wait(MPI_Request* req, const char* op, size_t count, DType dtype, int peer = -1) {
    const auto start = Clock::now();
    const auto deadline = start + timeout_;
    for (;;) {
      int done = 0;
      check(MPI_Test(req, &done, MPI_STATUS_IGNORE), op);
      if (done) return;
      const auto now = Clock::now();
      if (now >= deadline) {
        broken_ = true;
        GOSSAMER_THROW(kComm,
                       "{}: {} of {} {}{} timed out after {} ms: a peer died, hangs or "
                       "skipped the operation",
                       where(), op, count, dtype_name(dtype),
                       peer >= 0 ? fmt::format(" with peer {}", peer) : std::string(),
                       timeout_.count());
      }
      if (now - start < kSpinPhase)
        std::this_thread::yield();
      else
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  int to_int(size_t n, const char* op) const {
    if (n > static_cast<size_t>(INT_MAX))
      GOSSAMER_THROW(kUnsupported, "{}: {}: {} elements exceed MPI's int count", where(), op,
                     n);
    return static_cast<int>(n);
  }
  void to_ints(std::span<const size_t> v, std::vector<int>* out, const char* op) const {
    out->resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) (*out)[i] = to_int(v[i], op);
  }
  void to_displs(std::span<const size_t> counts, std::span<const size_t> displs,
                 std::vector<int>* out, const char* op) const {
    out->resize(counts.size());
    size_t packed = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      (*out)[i] = to_int(displs.empty() ? packed : displs[i], op);
      packed += counts[i];
    }
  }

  MPI_Datatype mpi_type(DType t, const char* op) const {
    switch (t) {
      case DType::kF32: return MPI_FLOAT;
      case DType::kI32: return MPI_INT32_T;
      case DType::kI64: return MPI_INT64_T;
      case DType::kU8: return MPI_UINT8_T;
      case DType::kBF16:
      case DType::kF16: return MPI_UINT16_T;  // moved, never reduced
      case DType::kMXFP4: break;
    }
    GOSSAMER_THROW(kUnsupported, "{}: {}: cannot move {} elements (send their bytes as U8)",
                   where(), op, dtype_name(t));
  }
  static MPI_Op mpi_op(ReduceOp op) {
    switch (op) {
      case ReduceOp::kSum: return MPI_SUM;
      case ReduceOp::kMax: return MPI_MAX;
      case ReduceOp::kMin: return MPI_MIN;
    }
    return MPI_SUM;
  }
  static const void* at(const void* base, DType t, size_t elems) {
    return static_cast<const char*>(base) + dtype_bytes(t, elems);
  }

  MPI_Comm comm_;
  std::string name_;
  std::chrono::milliseconds timeout_;
  int rank_ = 0, size_ = 1;
  bool broken_ = false;
  // Per-call int count/displacement scratch (MPI wants int arrays), kept to avoid allocs.
  // A non-blocking v-collective reads these until it completes; wait() returns only then,
  // and after a timeout the group is broken, so no later call rewrites them under MPI.
  std::vector<int> counts_a_, displs_a_, counts_b_, displs_b_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_world(std::chrono::milliseconds timeout,
                                             const std::string& name) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized)
    GOSSAMER_THROW(kInternal, "make_mpi_world: MPI is not initialized (create an MpiRuntime)");
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size == 1) {
    auto local = make_local_communicator(name);
    local->set_timeout(timeout);
    return local;
  }
  // A duplicate keeps our traffic apart from any other MPI user in the process.
  MPI_Comm dup = MPI_COMM_NULL;
  const int rc = MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  if (rc != MPI_SUCCESS)
    GOSSAMER_THROW(kComm, "comm group '{}': MPI_Comm_dup of MPI_COMM_WORLD failed", name);
  return std::make_unique<MpiCommunicator>(dup, name, timeout);
}

#endif  // GOSSAMER_HAVE_MPI

}  // namespace gossamer::comm
