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
    MPI_Request req;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, to_int(count, name), mpi_type(dtype, name),
                         mpi_op(op), comm_, &req),
          name);
    wait(&req, name, count, dtype);
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
    MPI_Request req;
    check(MPI_Ireduce_scatter(send, recv, counts_a_.data(), MPI_FLOAT, MPI_SUM, comm_, &req),
          name);
    wait(&req, name, total, DType::kF32);
  }

  void all_gather(const void* send, size_t count, void* recv, DType dtype,
                  Device d) override {
    const char* name = "all_gather";
    begin(name, d);
    detail::check_buffer(*this, name, send, count);
    detail::check_buffer(*this, name, recv, count * static_cast<size_t>(size_));
    // Sending from one's own block of recv is legal only as MPI_IN_PLACE.
    const bool in_place = send == at(recv, dtype, count * static_cast<size_t>(rank_));
    MPI_Request req;
    check(MPI_Iallgather(in_place ? MPI_IN_PLACE : send, to_int(count, name),
                         mpi_type(dtype, name), recv, to_int(count, name),
                         mpi_type(dtype, name), comm_, &req),
          name);
    wait(&req, name, count * static_cast<size_t>(size_), dtype);
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
    MPI_Request req;
    check(MPI_Iallgatherv(in_place ? MPI_IN_PLACE : send, to_int(send_count, name),
                          mpi_type(dtype, name), recv, counts_a_.data(), displs_a_.data(),
                          mpi_type(dtype, name), comm_, &req),
          name);
    wait(&req, name, total, dtype);
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
    MPI_Request req;
    check(MPI_Ialltoallv(send, counts_a_.data(), displs_a_.data(), mpi_type(dtype, name),
                         recv, counts_b_.data(), displs_b_.data(), mpi_type(dtype, name),
                         comm_, &req),
          name);
    wait(&req, name, recv_total, dtype);
  }

  void broadcast(void* data, size_t bytes, int root, Device d) override {
    const char* name = "broadcast";
    begin(name, d);
    if (root < 0 || root >= size_)
      GOSSAMER_THROW(kInvalidArgument, "{}: {}: root {} outside the group", where(), name,
                     root);
    detail::check_buffer(*this, name, data, bytes);
    MPI_Request req;
    check(MPI_Ibcast(data, to_int(bytes, name), MPI_BYTE, root, comm_, &req), name);
    wait(&req, name, bytes, DType::kU8);
  }

  void send(const void* data, size_t count, DType dtype, int peer, int tag,
            Device d) override {
    const char* name = "send";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    MPI_Request req;
    check(MPI_Isend(data, to_int(count, name), mpi_type(dtype, name), peer, tag, comm_, &req),
          name);
    wait(&req, name, count, dtype, peer);
  }

  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    const char* name = "recv";
    begin(name, d);
    detail::check_peer(*this, name, peer, tag);
    detail::check_buffer(*this, name, data, count);
    MPI_Request req;
    check(MPI_Irecv(data, to_int(count, name), mpi_type(dtype, name), peer, tag, comm_, &req),
          name);
    wait(&req, name, count, dtype, peer);
  }

  void barrier() override {
    const char* name = "barrier";
    begin(name, Device::kCPU);
    MPI_Request req;
    check(MPI_Ibarrier(comm_, &req), name);
    wait(&req, name, 0, DType::kU8);
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

  // Polls the request until done or past the deadline. Yields first (decode steps are
  // sub-millisecond), then sleeps so that oversubscribed ranks leave the cores to peers.
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
      if (now - start < std::chrono::milliseconds(1))
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
