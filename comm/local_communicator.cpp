// The `local` backend: a group of one rank. Collectives reduce to copies or nothing, so
// tp=1 / ep=1 / pp=1 layouts run the same parallel layers without any transport.
#include <cstring>

#include "comm/communicator.h"
#include "core/error.h"
#if GOSSAMER_COMM_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace gossamer::comm {
namespace {

class LocalCommunicator final : public Communicator {
 public:
  explicit LocalCommunicator(std::string name) : name_(std::move(name)) {}

  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::string& name() const override { return name_; }
  const char* backend() const override { return "local"; }
  void set_timeout(std::chrono::milliseconds t) override { timeout_ = t; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  void all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device d) override {
    detail::check_buffer(*this, "all_reduce", data, count);
  }

  void reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> counts,
                          Device d) override {
    detail::check_counts(*this, "reduce_scatter_sum", counts, {});
    copy("reduce_scatter_sum", send, recv, dtype_bytes(DType::kF32, counts[0]), d);
  }

  void all_gather(const void* send, size_t count, void* recv, DType dtype,
                  Device d) override {
    copy("all_gather", send, recv, dtype_bytes(dtype, count), d);
  }

  void all_gatherv(const void* send, size_t send_count, void* recv,
                   std::span<const size_t> counts, std::span<const size_t> displs,
                   DType dtype, Device d) override {
    detail::check_counts(*this, "all_gatherv", counts, displs);
    if (counts[0] != send_count)
      GOSSAMER_THROW(kInvalidArgument, "comm group '{}': all_gatherv: send {} != recv {}",
                     name_, send_count, counts[0]);
    const size_t at = displs.empty() ? 0 : displs[0];
    copy("all_gatherv", send, offset(recv, dtype, at), dtype_bytes(dtype, send_count), d);
  }

  void all_to_all_v(const void* send, std::span<const size_t> send_counts,
                    std::span<const size_t> send_displs, void* recv,
                    std::span<const size_t> recv_counts,
                    std::span<const size_t> recv_displs, DType dtype, Device d) override {
    detail::check_counts(*this, "all_to_all_v", send_counts, send_displs);
    detail::check_counts(*this, "all_to_all_v", recv_counts, recv_displs);
    if (send_counts[0] != recv_counts[0])
      GOSSAMER_THROW(kInvalidArgument,
                     "comm group '{}': all_to_all_v: sends {} to itself but expects {}",
                     name_, send_counts[0], recv_counts[0]);
    const size_t from = send_displs.empty() ? 0 : send_displs[0];
    const size_t to = recv_displs.empty() ? 0 : recv_displs[0];
    copy("all_to_all_v", offset(send, dtype, from), offset(recv, dtype, to),
         dtype_bytes(dtype, send_counts[0]), d);
  }

  void broadcast(void* data, size_t bytes, int root, Device d) override {
    if (root != 0)
      GOSSAMER_THROW(kInvalidArgument, "comm group '{}': broadcast: root {} in a group of 1",
                     name_, root);
    detail::check_buffer(*this, "broadcast", data, bytes);
  }

  void send(const void* data, size_t count, DType dtype, int peer, int tag,
            Device d) override {
    detail::check_peer(*this, "send", peer, tag);
  }
  void recv(void* data, size_t count, DType dtype, int peer, int tag, Device d) override {
    detail::check_peer(*this, "recv", peer, tag);
  }

  void barrier() override {}

  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override {
    if (color == kNoGroup) return nullptr;
    auto out = std::make_unique<LocalCommunicator>(name);
    out->set_timeout(timeout_);
    return out;
  }

 private:
  static const void* offset(const void* p, DType t, size_t elems) {
    return static_cast<const char*>(p) + dtype_bytes(t, elems);
  }
  static void* offset(void* p, DType t, size_t elems) {
    return static_cast<char*>(p) + dtype_bytes(t, elems);
  }

  void copy(const char* op, const void* src, void* dst, size_t bytes, Device d) const {
    detail::check_buffer(*this, op, src, bytes);
    detail::check_buffer(*this, op, dst, bytes);
    if (bytes == 0 || src == dst) return;
    if (d == Device::kCPU) {
      std::memmove(dst, src, bytes);
      return;
    }
#if GOSSAMER_COMM_HAVE_CUDA
    // The group has no stream of its own: wait for all work on the device (the producer
    // of src may be on any stream), then copy; the copy is complete on return. Blocks of
    // one rank never overlap their source in these collectives, so memcpy suffices.
    cudaError_t err = cudaDeviceSynchronize();
    if (err == cudaSuccess) err = cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice);
    if (err != cudaSuccess) {
      cudaGetLastError();
      GOSSAMER_THROW(kComm, "comm group '{}': {}: device copy of {} bytes failed: {}", name_, op, bytes,
                     cudaGetErrorString(err));
    }
#else
    GOSSAMER_THROW(kUnsupported,
                   "comm group '{}': {}: this build has no CUDA backend to copy {} buffers",
                   name_, op, device_name(d));
#endif
  }

  std::string name_;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator(const std::string& name) {
  return std::make_unique<LocalCommunicator>(name);
}

}  // namespace gossamer::comm
