#include "comm/staged_device_communicator.h"

#include "core/error.h"

#if GOSSAMER_COMM_HAVE_CUDA
#include <cuda_runtime.h>

#include <vector>
#endif

namespace gossamer::comm {

#if !GOSSAMER_COMM_HAVE_CUDA

std::unique_ptr<Communicator> make_staged_device_communicator(std::unique_ptr<Communicator>, void*) {
  GOSSAMER_THROW(kUnsupported, "this build has no CUDA backend: device buffers cannot be staged");
}

#else

namespace {

// Page-locked host memory that grows on demand (contents are not kept across growth).
class PinnedStage {
 public:
  PinnedStage() = default;
  ~PinnedStage() {
    if (data_) cudaFreeHost(data_);
  }
  PinnedStage(const PinnedStage&) = delete;
  PinnedStage& operator=(const PinnedStage&) = delete;
  // nullptr for 0 bytes; false when the allocation fails.
  bool reserve(size_t bytes) {
    if (bytes <= bytes_) return true;
    if (data_) cudaFreeHost(data_);
    data_ = nullptr;
    bytes_ = 0;
    if (cudaMallocHost(&data_, bytes) != cudaSuccess) {
      cudaGetLastError();
      data_ = nullptr;
      return false;
    }
    bytes_ = bytes;
    return true;
  }
  char* data() const { return static_cast<char*>(data_); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

class StagedDeviceCommunicator final : public Communicator {
 public:
  StagedDeviceCommunicator(std::unique_ptr<Communicator> host, cudaStream_t stream)
      : host_(std::move(host)), stream_(stream) {}

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  const std::string& name() const override { return host_->name(); }
  const char* backend() const override { return host_->backend(); }
  void set_timeout(std::chrono::milliseconds t) override { host_->set_timeout(t); }
  std::chrono::milliseconds timeout() const override { return host_->timeout(); }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device d) override {
    if (d == Device::kCPU) return host_->all_reduce(data, count, dtype, op, d);
    begin("all_reduce", d);
    const size_t bytes = dtype_bytes(dtype, count);
    char* s = stage(&send_, bytes, "all_reduce");
    to_host(s, data, bytes, "all_reduce");
    host_->all_reduce(s, count, dtype, op, Device::kCPU);
    to_device(data, s, bytes, "all_reduce");
    finish("all_reduce");
  }

  void reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> counts, Device d) override {
    if (d == Device::kCPU) return host_->reduce_scatter_sum(send, recv, counts, d);
    const char* op = "reduce_scatter_sum";
    begin(op, d);
    detail::check_counts(*this, op, counts, {});
    const size_t total = detail::total_count(counts, {}) * sizeof(float);
    const size_t mine = counts[size_t(rank())] * sizeof(float);
    char* s = stage(&send_, total, op);
    char* r = stage(&recv_, mine, op);
    to_host(s, send, total, op);
    host_->reduce_scatter_sum(reinterpret_cast<const float*>(s), reinterpret_cast<float*>(r), counts, Device::kCPU);
    to_device(recv, r, mine, op);
    finish(op);
  }

  void all_gather(const void* send, size_t count, void* recv, DType dtype, Device d) override {
    if (d == Device::kCPU) return host_->all_gather(send, count, recv, dtype, d);
    const char* op = "all_gather";
    begin(op, d);
    const size_t bytes = dtype_bytes(dtype, count), all = bytes * size_t(size());
    char* s = stage(&send_, bytes, op);
    char* r = stage(&recv_, all, op);
    to_host(s, send, bytes, op);
    host_->all_gather(s, count, r, dtype, Device::kCPU);
    to_device(recv, r, all, op);
    finish(op);
  }

  void all_gatherv(const void* send, size_t send_count, void* recv, std::span<const size_t> counts,
                   std::span<const size_t> displs, DType dtype, Device d) override {
    if (d == Device::kCPU) return host_->all_gatherv(send, send_count, recv, counts, displs, dtype, d);
    const char* op = "all_gatherv";
    begin(op, d);
    detail::check_counts(*this, op, counts, displs);
    const size_t bytes = dtype_bytes(dtype, send_count);
    char* s = stage(&send_, bytes, op);
    char* r = stage(&recv_, dtype_bytes(dtype, detail::total_count(counts, displs)), op);
    to_host(s, send, bytes, op);
    host_->all_gatherv(s, send_count, r, counts, displs, dtype, Device::kCPU);
    blocks_to_device(recv, r, counts, displs, dtype, op);  // gaps between blocks stay untouched
    finish(op);
  }

  void all_to_all_v(const void* send, std::span<const size_t> send_counts, std::span<const size_t> send_displs,
                    void* recv, std::span<const size_t> recv_counts, std::span<const size_t> recv_displs, DType dtype,
                    Device d) override {
    if (d == Device::kCPU)
      return host_->all_to_all_v(send, send_counts, send_displs, recv, recv_counts, recv_displs, dtype, d);
    const char* op = "all_to_all_v";
    begin(op, d);
    detail::check_counts(*this, op, send_counts, send_displs);
    detail::check_counts(*this, op, recv_counts, recv_displs);
    const size_t send_bytes = dtype_bytes(dtype, detail::total_count(send_counts, send_displs));
    char* s = stage(&send_, send_bytes, op);
    char* r = stage(&recv_, dtype_bytes(dtype, detail::total_count(recv_counts, recv_displs)), op);
    to_host(s, send, send_bytes, op);
    host_->all_to_all_v(s, send_counts, send_displs, r, recv_counts, recv_displs, dtype, Device::kCPU);
    blocks_to_device(recv, r, recv_counts, recv_displs, dtype, op);
    finish(op);
  }

  void broadcast(void* data, size_t bytes, int root, Device d) override {
    if (d == Device::kCPU) return host_->broadcast(data, bytes, root, d);
    const char* op = "broadcast";
    begin(op, d);
    char* s = stage(&send_, bytes, op);
    if (rank() == root) to_host(s, data, bytes, op);
    host_->broadcast(s, bytes, root, Device::kCPU);
    if (rank() != root) to_device(data, s, bytes, op);
    finish(op);
  }

  void send(const void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    if (d == Device::kCPU) return host_->send(data, count, dtype, peer, tag, d);
    begin("send", d);
    const size_t bytes = dtype_bytes(dtype, count);
    char* s = stage(&send_, bytes, "send");
    to_host(s, data, bytes, "send");
    host_->send(s, count, dtype, peer, tag, Device::kCPU);
  }

  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    if (d == Device::kCPU) return host_->recv(data, count, dtype, peer, tag, d);
    begin("recv", d);
    const size_t bytes = dtype_bytes(dtype, count);
    char* r = stage(&recv_, bytes, "recv");
    host_->recv(r, count, dtype, peer, tag, Device::kCPU);
    to_device(data, r, bytes, "recv");
    finish("recv");
  }

  void barrier() override { host_->barrier(); }

  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override {
    auto group = host_->split(color, key, name);
    if (!group) return nullptr;
    return std::make_unique<StagedDeviceCommunicator>(std::move(group), stream_);
  }

 private:
  std::string where() const {
    return fmt::format("comm group '{}' (rank {} of {}, {} staged through host)", name(), rank(), size(),
                       host_->backend());
  }
  void begin(const char* op, Device d) const {
    if (broken_) GOSSAMER_THROW(kComm, "{}: {}: the group is broken by an earlier error", where(), op);
    if (d != Device::kCUDA)
      GOSSAMER_THROW(kUnsupported, "{}: {}: takes cpu or cuda buffers, not {}", where(), op, device_name(d));
  }
  [[noreturn]] void fail(const char* op, const char* what, cudaError_t err) {
    broken_ = true;
    cudaGetLastError();
    GOSSAMER_THROW(kComm, "{}: {}: {} failed: {}", where(), op, what, cudaGetErrorString(err));
  }
  char* stage(PinnedStage* buf, size_t bytes, const char* op) {
    if (!buf->reserve(bytes))
      GOSSAMER_THROW(kComm, "{}: {}: cannot allocate {} bytes of pinned host memory", where(), op, bytes);
    return buf->data();
  }
  // Device -> host, complete on return (the host transport reads it next).
  void to_host(void* dst, const void* src, size_t bytes, const char* op) {
    if (bytes == 0) return;
    cudaError_t err = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_);
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream_);
    if (err != cudaSuccess) fail(op, "device-to-host copy", err);
  }
  void to_device(void* dst, const void* src, size_t bytes, const char* op) {
    if (bytes == 0) return;
    const cudaError_t err = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_);
    if (err != cudaSuccess) fail(op, "host-to-device copy", err);
  }
  void blocks_to_device(void* dst, const char* src, std::span<const size_t> counts, std::span<const size_t> displs,
                        DType dtype, const char* op) {
    size_t packed = 0;
    for (size_t p = 0; p < counts.size(); ++p) {
      const size_t at = displs.empty() ? packed : displs[p];
      packed += counts[p];
      to_device(static_cast<char*>(dst) + dtype_bytes(dtype, at), src + dtype_bytes(dtype, at),
                dtype_bytes(dtype, counts[p]), op);
    }
  }
  // The staging buffers are reused by the next call: wait for the uploads.
  void finish(const char* op) {
    const cudaError_t err = cudaStreamSynchronize(stream_);
    if (err != cudaSuccess) fail(op, "stream synchronize", err);
  }

  std::unique_ptr<Communicator> host_;
  cudaStream_t stream_;
  PinnedStage send_, recv_;
  bool broken_ = false;
};

}  // namespace

std::unique_ptr<Communicator> make_staged_device_communicator(std::unique_ptr<Communicator> host, void* stream) {
  if (!host) GOSSAMER_THROW(kInvalidArgument, "make_staged_device_communicator: no host communicator");
  return std::make_unique<StagedDeviceCommunicator>(std::move(host), static_cast<cudaStream_t>(stream));
}

#endif  // GOSSAMER_COMM_HAVE_CUDA

}  // namespace gossamer::comm
