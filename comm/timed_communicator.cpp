#include "comm/timed_communicator.h"

#include <chrono>
#include <numeric>

namespace gossamer::comm {

const char* comm_op_name(CommOp op) {
  switch (op) {
    case CommOp::kAllReduce: return "all_reduce";
    case CommOp::kReduceScatter: return "reduce_scatter";
    case CommOp::kAllGather: return "all_gather";
    case CommOp::kAllGatherV: return "all_gatherv";
    case CommOp::kAllToAllV: return "all_to_all_v";
    case CommOp::kBroadcast: return "broadcast";
    case CommOp::kSend: return "send";
    case CommOp::kRecv: return "recv";
    case CommOp::kBarrier: return "barrier";
    case CommOp::kSplit: return "split";
  }
  return "?";
}

void CommStats::add(const std::string& group, CommOp op, uint64_t bytes, double seconds) {
  auto& s = groups[group][static_cast<size_t>(op)];
  ++s.calls;
  s.bytes += bytes;
  s.seconds += seconds;
}

OpStats CommStats::op_total(CommOp op) const {
  OpStats t;
  for (const auto& [name, ops] : groups) {
    const auto& s = ops[static_cast<size_t>(op)];
    t.calls += s.calls;
    t.bytes += s.bytes;
    t.seconds += s.seconds;
  }
  return t;
}

OpStats CommStats::group_total(const std::string& group) const {
  OpStats t;
  auto it = groups.find(group);
  if (it == groups.end()) return t;
  for (const auto& s : it->second) {
    t.calls += s.calls;
    t.bytes += s.bytes;
    t.seconds += s.seconds;
  }
  return t;
}

double CommStats::total_seconds() const {
  double t = 0;
  for (const auto& [name, ops] : groups)
    for (const auto& s : ops) t += s.seconds;
  return t;
}

uint64_t CommStats::total_bytes() const {
  uint64_t t = 0;
  for (const auto& [name, ops] : groups)
    for (const auto& s : ops) t += s.bytes;
  return t;
}

uint64_t CommStats::total_calls() const {
  uint64_t t = 0;
  for (const auto& [name, ops] : groups)
    for (const auto& s : ops) t += s.calls;
  return t;
}

TimedCommunicator::TimedCommunicator(std::unique_ptr<Communicator> inner,
                                     std::shared_ptr<CommStats> stats)
    : owned_(std::move(inner)), inner_(owned_.get()), stats_(std::move(stats)) {}

TimedCommunicator::TimedCommunicator(Communicator& inner, std::shared_ptr<CommStats> stats)
    : inner_(&inner), stats_(std::move(stats)) {}

template <typename Fn>
void TimedCommunicator::timed(CommOp op, uint64_t bytes, Fn&& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  // A throwing call is still counted: the time spent before the error is real.
  struct Record {
    TimedCommunicator* self;
    CommOp op;
    uint64_t bytes;
    std::chrono::steady_clock::time_point t0;
    ~Record() {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      self->stats_->add(self->name(), op, bytes, s);
    }
  } record{this, op, bytes, t0};
  fn();
}

namespace {
uint64_t sum(std::span<const size_t> counts) {
  return std::accumulate(counts.begin(), counts.end(), uint64_t{0});
}
}  // namespace

void TimedCommunicator::all_reduce(void* data, size_t count, DType dtype, ReduceOp op, Device device) {
  timed(CommOp::kAllReduce, dtype_bytes(dtype, count), [&] { inner_->all_reduce(data, count, dtype, op, device); });
}

void TimedCommunicator::reduce_scatter_sum(const float* send, float* recv, std::span<const size_t> recv_counts,
                                           Device device) {
  timed(CommOp::kReduceScatter, sizeof(float) * sum(recv_counts),
        [&] { inner_->reduce_scatter_sum(send, recv, recv_counts, device); });
}

void TimedCommunicator::all_gather(const void* send, size_t count, void* recv, DType dtype, Device device) {
  timed(CommOp::kAllGather, dtype_bytes(dtype, count), [&] { inner_->all_gather(send, count, recv, dtype, device); });
}

void TimedCommunicator::all_gatherv(const void* send, size_t send_count, void* recv,
                                    std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                                    DType dtype, Device device) {
  timed(CommOp::kAllGatherV, dtype_bytes(dtype, send_count),
        [&] { inner_->all_gatherv(send, send_count, recv, recv_counts, recv_displs, dtype, device); });
}

void TimedCommunicator::all_to_all_v(const void* send, std::span<const size_t> send_counts,
                                     std::span<const size_t> send_displs, void* recv,
                                     std::span<const size_t> recv_counts, std::span<const size_t> recv_displs,
                                     DType dtype, Device device) {
  timed(CommOp::kAllToAllV, dtype_bytes(dtype, sum(send_counts)), [&] {
    inner_->all_to_all_v(send, send_counts, send_displs, recv, recv_counts, recv_displs, dtype, device);
  });
}

void TimedCommunicator::broadcast(void* data, size_t bytes, int root, Device device) {
  timed(CommOp::kBroadcast, bytes, [&] { inner_->broadcast(data, bytes, root, device); });
}

void TimedCommunicator::send(const void* data, size_t count, DType dtype, int peer, int tag, Device device) {
  timed(CommOp::kSend, dtype_bytes(dtype, count), [&] { inner_->send(data, count, dtype, peer, tag, device); });
}

void TimedCommunicator::recv(void* data, size_t count, DType dtype, int peer, int tag, Device device) {
  timed(CommOp::kRecv, dtype_bytes(dtype, count), [&] { inner_->recv(data, count, dtype, peer, tag, device); });
}

void TimedCommunicator::barrier() {
  timed(CommOp::kBarrier, 0, [&] { inner_->barrier(); });
}

std::unique_ptr<Communicator> TimedCommunicator::split(int color, int key, const std::string& name) {
  std::unique_ptr<Communicator> child;
  timed(CommOp::kSplit, 0, [&] { child = inner_->split(color, key, name); });
  if (!child) return nullptr;
  return std::make_unique<TimedCommunicator>(std::move(child), stats_);
}

void wrap_timed(std::unique_ptr<Communicator>& group, const std::shared_ptr<CommStats>& stats) {
  if (group) group = std::make_unique<TimedCommunicator>(std::move(group), stats);
}

}  // namespace gossamer::comm
