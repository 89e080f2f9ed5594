// Device-buffer collectives under mpirun: the staged MPI communicator
// (comm/staged_device_communicator.h, any number of ranks on one GPU) and the NCCL
// communicator (comm/nccl_communicator.h, one GPU per rank). Each rank fills its device
// send buffers from a formula, and checks what it receives against the same formula
// evaluated on the host (small dyadic values: sums are exact in any order).
// Without a usable GPU every rank prints "skipped: ..." and exits 77.
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/nccl_communicator.h"
#include "comm/staged_device_communicator.h"
#include "comm_mpi_check.h"
#include "core/error.h"
#include "kernels/exec.h"
#if GOSSAMER_HAVE_CUDA && GOSSAMER_COMM_HAVE_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/memory.h"
#endif

namespace gossamer::comm::test {

#if GOSSAMER_HAVE_CUDA && GOSSAMER_COMM_HAVE_CUDA
namespace {

float device_value(int r, size_t i) { return 0.5f * float(r + 1) + 0.25f * float(i % 512); }

// A device copy of a host vector; host() copies back.
struct Dev {
  kernels::cuda::DeviceBuffer buf;
  size_t n;
  explicit Dev(const std::vector<float>& h) : buf(h.size() * sizeof(float)), n(h.size()) {
    if (n) cudaMemcpy(buf.data(), h.data(), n * sizeof(float), cudaMemcpyHostToDevice);
  }
  float* ptr() { return buf.as<float>(); }
  std::vector<float> host() {
    std::vector<float> h(n);
    cudaDeviceSynchronize();
    if (n) cudaMemcpy(h.data(), buf.data(), n * sizeof(float), cudaMemcpyDeviceToHost);
    return h;
  }
};

void check_device_collectives(Communicator& c, Checker& t) {
  const int n = c.size(), me = c.rank();
  for (size_t count : {size_t{0}, size_t{1}, size_t{3000}}) {  // all_reduce
    std::vector<float> h(count), want(count, 0.f);
    for (size_t i = 0; i < count; ++i) {
      h[i] = device_value(me, i);
      for (int r = 0; r < n; ++r) want[i] += device_value(r, i);
    }
    Dev d(h);
    c.all_reduce_sum(d.ptr(), count, Device::kCUDA);
    t.expect(d.host() == want, fmt::format("device all_reduce_sum of {} f32", count));
  }
  {  // all_gather
    const size_t count = 700;
    std::vector<float> h(count), want;
    for (size_t i = 0; i < count; ++i) h[i] = device_value(me, i);
    for (int r = 0; r < n; ++r)
      for (size_t i = 0; i < count; ++i) want.push_back(device_value(r, i));
    Dev s(h), d(std::vector<float>(count * size_t(n)));
    c.all_gather(s.ptr(), count, d.ptr(), DType::kF32, Device::kCUDA);
    t.expect(d.host() == want, "device all_gather");
  }
  {  // all_gatherv, unequal blocks with a gap of untouched elements after each
    std::vector<size_t> counts(static_cast<size_t>(n)), displs(static_cast<size_t>(n));
    size_t at = 0;
    for (int r = 0; r < n; ++r) counts[size_t(r)] = size_t(10 * r + 3), displs[size_t(r)] = at, at += counts[size_t(r)] + 2;
    std::vector<float> h(counts[size_t(me)]), want(at, -1.f);
    for (size_t i = 0; i < h.size(); ++i) h[i] = device_value(me, i);
    for (int r = 0; r < n; ++r)
      for (size_t i = 0; i < counts[size_t(r)]; ++i) want[displs[size_t(r)] + i] = device_value(r, i);
    Dev s(h), d(std::vector<float>(at, -1.f));
    c.all_gatherv(s.ptr(), h.size(), d.ptr(), counts, displs, DType::kF32, Device::kCUDA);
    t.expect(d.host() == want, "device all_gatherv (gaps untouched)");
  }
  {  // all_to_all_v: rank r sends (r + p + 1) values to peer p
    std::vector<size_t> sc(static_cast<size_t>(n)), rc(static_cast<size_t>(n));
    for (int p = 0; p < n; ++p) sc[size_t(p)] = size_t(me + p + 1), rc[size_t(p)] = size_t(p + me + 1);
    std::vector<float> h, want;
    for (int p = 0; p < n; ++p)
      for (size_t i = 0; i < sc[size_t(p)]; ++i) h.push_back(device_value(me, 100 * size_t(p) + i));
    for (int p = 0; p < n; ++p)
      for (size_t i = 0; i < rc[size_t(p)]; ++i) want.push_back(device_value(p, 100 * size_t(me) + i));
    Dev s(h), d(std::vector<float>(want.size()));
    c.all_to_all_v(s.ptr(), sc, {}, d.ptr(), rc, {}, DType::kF32, Device::kCUDA);
    t.expect(d.host() == want, "device all_to_all_v");
  }
  {  // reduce_scatter_sum, unequal blocks
    std::vector<size_t> counts(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) counts[size_t(r)] = size_t(5 + 7 * r);
    const size_t total = std::accumulate(counts.begin(), counts.end(), size_t{0});
    size_t mine_at = 0;
    for (int r = 0; r < me; ++r) mine_at += counts[size_t(r)];
    std::vector<float> h(total), want(counts[size_t(me)], 0.f);
    for (size_t i = 0; i < total; ++i) h[i] = device_value(me, i);
    for (size_t i = 0; i < want.size(); ++i)
      for (int r = 0; r < n; ++r) want[i] += device_value(r, mine_at + i);
    Dev s(h), d(std::vector<float>(want.size()));
    c.reduce_scatter_sum(s.ptr(), d.ptr(), counts, Device::kCUDA);
    t.expect(d.host() == want, "device reduce_scatter_sum");
  }
  {  // broadcast from the last rank
    std::vector<float> h(300), want(300);
    for (size_t i = 0; i < h.size(); ++i) h[i] = device_value(me, i), want[i] = device_value(n - 1, i);
    Dev d(h);
    c.broadcast(d.ptr(), h.size() * sizeof(float), n - 1, Device::kCUDA);
    t.expect(d.host() == want, "device broadcast");
  }
  if (n > 1) {  // a ring of send/recv (even ranks send first: no cycle of blocking sends)
    std::vector<float> h(256), want(256);
    const int next = (me + 1) % n, prev = (me + n - 1) % n;
    for (size_t i = 0; i < h.size(); ++i) h[i] = device_value(me, i), want[i] = device_value(prev, i);
    Dev s(h), d(std::vector<float>(h.size()));
    if (me % 2 == 0) {
      c.send(s.ptr(), h.size(), DType::kF32, next, 5, Device::kCUDA);
      c.recv(d.ptr(), h.size(), DType::kF32, prev, 5, Device::kCUDA);
    } else {
      c.recv(d.ptr(), h.size(), DType::kF32, prev, 5, Device::kCUDA);
      c.send(s.ptr(), h.size(), DType::kF32, next, 5, Device::kCUDA);
    }
    t.expect(d.host() == want, "device send/recv ring");
  }
  {  // a split: even and odd ranks, then an all_reduce in each group
    auto group = c.split(me % 2, me, "parity");
    std::vector<float> h(64, float(me)), want(64, 0.f);
    for (int r = me % 2; r < n; r += 2)
      for (auto& w : want) w += float(r);
    Dev d(h);
    group->all_reduce_sum(d.ptr(), h.size(), Device::kCUDA);
    t.expect(d.host() == want, "device all_reduce in a split group");
  }
}

}  // namespace

int run_device_collectives(std::unique_ptr<Communicator> world, const std::string& backend) {
  const int rank = world->rank(), size = world->size();
  const bool nccl = backend == "nccl";
  std::string skip;
  if (kernels::cuda_device_count() == 0) skip = "no CUDA GPU visible";
  else if (nccl && !nccl_backend_available()) skip = "this build has no NCCL";
  if (skip.empty()) {
    try {
      kernels::cuda::select_gpu_for_local_rank(/*share_gpus=*/!nccl);
    } catch (const Error& e) {
      skip = e.what();  // NCCL: more ranks on this node than GPUs
    }
  }
  // Every rank must agree to skip, or the others would wait in the first collective.
  int skipping = skip.empty() ? 0 : 1;
  world->all_reduce(&skipping, 1, DType::kI32, ReduceOp::kMax, Device::kCPU);
  if (skipping) {
    if (rank == 0) std::printf("skipped: device collectives (%s) on %d ranks: %s\n", backend.c_str(), size,
                               skip.empty() ? "another rank cannot run them" : skip.c_str());
    return 77;
  }
  Checker t(rank);
  std::unique_ptr<Communicator> dev;
  try {
    dev = nccl ? make_nccl_communicator(std::move(world)) : make_staged_device_communicator(std::move(world));
    check_device_collectives(*dev, t);
  } catch (const std::exception& e) {
    t.expect(false, fmt::format("threw: {}", e.what()));
  }
  if (!dev) return 1;
  int totals[2] = {t.checks(), t.failures()};
  dev->all_reduce(totals, 2, DType::kI32, ReduceOp::kSum, Device::kCPU);
  if (rank == 0)
    fmt::print("test_comm_mpi device collectives: {} ranks ({}), {} checks, {} failed: {}\n", size, backend,
               totals[0], totals[1], totals[1] == 0 && totals[0] > 0 ? "PASSED" : "FAILED");
  return totals[1] == 0 && totals[0] > 0 ? 0 : 1;
}

#else

int run_device_collectives(std::unique_ptr<Communicator> world, const std::string& backend) {
  if (world->rank() == 0) std::printf("skipped: device collectives (%s): this build has no CUDA backend\n", backend.c_str());
  return 77;
}

#endif

}  // namespace gossamer::comm::test
