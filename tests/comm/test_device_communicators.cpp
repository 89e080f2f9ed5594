// The device-buffer communicators on one rank: the local group's device copies, the
// staged one (over a local group) and NCCL (over a local control group, a one-rank NCCL
// communicator). The multi-rank checks
// run under mpirun (tests/comm/mpi/device_collectives.cpp). Without the CUDA backend the
// factories must refuse with kUnsupported; without a GPU the device tests skip.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/nccl_communicator.h"
#include "comm/staged_device_communicator.h"
#include "core/error.h"
#if GOSSAMER_COMM_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace gossamer::comm {
namespace {

#if GOSSAMER_COMM_HAVE_CUDA

bool have_gpu() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

// One rank's device collectives: all_reduce leaves the data, all_gather / all_gatherv /
// all_to_all_v copy the own block to the right place, host buffers pass to the host side.
void check_one_rank(Communicator& c) {
  std::vector<float> h(100);
  for (size_t i = 0; i < h.size(); ++i) h[i] = 0.25f * float(i);
  float *d_src = nullptr, *d_dst = nullptr;
  ASSERT_EQ(cudaMalloc(&d_src, 400), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&d_dst, 800), cudaSuccess);
  cudaMemcpy(d_src, h.data(), 400, cudaMemcpyHostToDevice);
  std::vector<float> marks(200, -1.f), back(200);
  cudaMemcpy(d_dst, marks.data(), 800, cudaMemcpyHostToDevice);

  c.all_reduce_sum(d_src, 100, Device::kCUDA);
  c.all_gather(d_src, 100, d_dst, DType::kF32, Device::kCUDA);
  cudaMemcpy(back.data(), d_dst, 800, cudaMemcpyDeviceToHost);
  EXPECT_EQ(std::vector<float>(back.begin(), back.begin() + 100), h) << c.backend();
  EXPECT_EQ(back[100], -1.f) << "wrote past the gathered block";

  const std::vector<size_t> counts{40}, displs{150};
  c.all_gatherv(d_src, 40, d_dst, counts, displs, DType::kF32, Device::kCUDA);
  cudaMemcpy(back.data(), d_dst, 800, cudaMemcpyDeviceToHost);
  EXPECT_EQ(std::vector<float>(back.begin() + 150, back.begin() + 190), std::vector<float>(h.begin(), h.begin() + 40));
  EXPECT_EQ(back[149], -1.f) << "the gap before the block must be untouched";
  EXPECT_EQ(back[190], -1.f) << "the gap after the block must be untouched";

  const std::vector<size_t> a2a{30};
  c.all_to_all_v(d_src, a2a, {}, d_dst, a2a, {}, DType::kF32, Device::kCUDA);
  cudaMemcpy(back.data(), d_dst, 120, cudaMemcpyDeviceToHost);
  EXPECT_EQ(std::vector<float>(back.begin(), back.begin() + 30), std::vector<float>(h.begin(), h.begin() + 30));

  float host_value = 3.f;  // kCPU buffers go to the host communicator
  c.all_reduce_sum(&host_value, 1, Device::kCPU);
  EXPECT_EQ(host_value, 3.f);
  cudaFree(d_src);
  cudaFree(d_dst);
}

TEST(LocalCommunicatorOnGpu, CopiesDeviceBuffersExactly) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU visible: the local group's device copies need one";
  auto c = make_local_communicator("pp");
  check_one_rank(*c);
}

TEST(StagedDeviceCommunicator, OneRankMovesDeviceBuffersExactly) {
  if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU visible: the staged communicator copies device buffers";
  auto c = make_staged_device_communicator(make_local_communicator("tp"));
  EXPECT_EQ(c->name(), "tp");
  check_one_rank(*c);
}

TEST(NcclCommunicator, OneRankMovesDeviceBuffersExactly) {
  if (!nccl_backend_available()) GTEST_SKIP() << "this build has no NCCL (CMake did not find nccl.h / libnccl)";
  if (!have_gpu()) GTEST_SKIP() << "no CUDA GPU visible: NCCL needs one";
  auto c = make_nccl_communicator(make_local_communicator("ep"));
  EXPECT_STREQ(c->backend(), "nccl");
  check_one_rank(*c);
  auto group = c->split(0, 0, "sub");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->size(), 1);
  check_one_rank(*group);
  EXPECT_EQ(c->split(kNoGroup, 0, "none"), nullptr);
}

#else

TEST(DeviceCommunicators, RefuseWithoutTheCudaBackend) {
  try {
    make_staged_device_communicator(make_local_communicator());
    ADD_FAILURE() << "the staged communicator was built without CUDA";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << e.what();
  }
  EXPECT_FALSE(nccl_backend_available());
  try {
    make_nccl_communicator(make_local_communicator());
    ADD_FAILURE() << "the NCCL communicator was built without NCCL";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("NCCL"), std::string::npos) << e.what();
  }
}

#endif

}  // namespace
}  // namespace gossamer::comm
