// The local backend (a group of one): copies and no-ops, argument checks, splits.
#include <gtest/gtest.h>

#include <vector>

#include "comm/communicator.h"
#include "comm/mpi_communicator.h"
#include "comm/process_groups.h"
#include "core/error.h"

namespace gossamer::comm {
namespace {

ErrorCode code_of(auto fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;  // "no error" marker
}

TEST(LocalCommunicator, Identity) {
  auto c = make_local_communicator("tp");
  EXPECT_EQ(c->rank(), 0);
  EXPECT_EQ(c->size(), 1);
  EXPECT_EQ(c->name(), "tp");
  EXPECT_STREQ(c->backend(), "local");
  EXPECT_EQ(c->timeout(), kDefaultTimeout);
  c->set_timeout(std::chrono::milliseconds(5));
  EXPECT_EQ(c->timeout().count(), 5);
}

TEST(LocalCommunicator, ReductionsAreIdentities) {
  auto c = make_local_communicator();
  std::vector<float> x = {1.5f, -2.f, 3.25f};
  c->all_reduce_sum(x.data(), x.size(), Device::kCPU);
  EXPECT_EQ(x, (std::vector<float>{1.5f, -2.f, 3.25f}));
  std::vector<float> out(3, 0.f);
  const size_t counts[] = {3};
  c->reduce_scatter_sum(x.data(), out.data(), counts, Device::kCPU);
  EXPECT_EQ(out, x);
  c->all_reduce_sum(nullptr, 0, Device::kCPU);  // zero tokens still enter
}

TEST(LocalCommunicator, GathersCopy) {
  auto c = make_local_communicator();
  const int32_t send[] = {7, 8, 9};
  std::vector<int32_t> recv(3, -1);
  c->all_gather(send, 3, recv.data(), DType::kI32, Device::kCPU);
  EXPECT_EQ(recv, (std::vector<int32_t>{7, 8, 9}));

  std::vector<int32_t> gapped(5, -1);
  const size_t counts[] = {3}, displs[] = {2};
  c->all_gatherv(send, 3, gapped.data(), counts, displs, DType::kI32, Device::kCPU);
  EXPECT_EQ(gapped, (std::vector<int32_t>{-1, -1, 7, 8, 9}));
  EXPECT_EQ(code_of([&] {
              c->all_gatherv(send, 2, gapped.data(), counts, {}, DType::kI32, Device::kCPU);
            }),
            ErrorCode::kInvalidArgument);
}

TEST(LocalCommunicator, AllToAllVCopiesTheSelfBlock) {
  auto c = make_local_communicator();
  const float send[] = {0, 0, 1, 2};
  std::vector<float> recv(3, -1.f);
  const size_t sc[] = {2}, sd[] = {2}, rc[] = {2}, rd[] = {1};
  c->all_to_all_v(send, sc, sd, recv.data(), rc, rd, DType::kF32, Device::kCPU);
  EXPECT_EQ(recv, (std::vector<float>{-1.f, 1.f, 2.f}));
  const size_t wrong[] = {1};
  EXPECT_EQ(code_of([&] {
              c->all_to_all_v(send, sc, {}, recv.data(), wrong, {}, DType::kF32, Device::kCPU);
            }),
            ErrorCode::kInvalidArgument);
  int64_t counts = 4, got = 0;
  c->all_to_all(&counts, 1, &got, DType::kI64, Device::kCPU);
  EXPECT_EQ(got, 4);
}

TEST(LocalCommunicator, ArgumentErrorsNameTheGroup) {
  auto c = make_local_communicator("pp");
  float x = 0;
  try {
    c->send(&x, 1, DType::kF32, 0, 0, Device::kCPU);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("comm group 'pp': send"), std::string::npos) << e.what();
  }
  EXPECT_EQ(code_of([&] { c->broadcast(&x, 4, 1, Device::kCPU); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code_of([&] { c->all_gather(nullptr, 2, &x, DType::kF32, Device::kCPU); }),
            ErrorCode::kInvalidArgument);
  const size_t two[] = {1, 1};
  EXPECT_EQ(code_of([&] { c->reduce_scatter_sum(&x, &x, two, Device::kCPU); }),
            ErrorCode::kInvalidArgument);
}

TEST(LocalCommunicator, DeviceBuffers) {
  // In-place work needs no copy and is fine for CUDA pointers (never dereferenced here).
  auto c = make_local_communicator();
  float x[2] = {1, 2};
  c->all_reduce_sum(x, 2, Device::kCUDA);
  c->all_gather(x, 2, x, DType::kF32, Device::kCUDA);
#if !GOSSAMER_COMM_HAVE_CUDA
  float y[2] = {0, 0};
  // A copy needs the CUDA backend. (With it, the copy is a device copy:
  // tests/comm/test_device_communicators.cpp checks it on a GPU.)
  EXPECT_EQ(code_of([&] { c->all_gather(x, 2, y, DType::kF32, Device::kCUDA); }),
            ErrorCode::kUnsupported);
#endif
}

TEST(LocalCommunicator, SplitGivesLocalGroups) {
  auto world = make_local_communicator("world");
  world->set_timeout(std::chrono::milliseconds(1234));
  auto g = world->split(3, 0, "ep");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->name(), "ep");
  EXPECT_EQ(g->timeout().count(), 1234);
  EXPECT_EQ(world->split(kNoGroup, 0, "none"), nullptr);

  ProcessGroups groups = make_process_groups(*world, GroupLayout{});
  for (auto* p : {groups.tp.get(), groups.dp.get(), groups.pp.get(), groups.ep.get()}) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->size(), 1);
    EXPECT_STREQ(p->backend(), "local");
  }
  EXPECT_EQ(groups.dp->name(), "dp");
}

TEST(MpiBackend, AvailabilityMatchesTheBuild) {
#if GOSSAMER_HAVE_MPI
  EXPECT_TRUE(mpi_backend_available());
#else
  EXPECT_FALSE(mpi_backend_available());
  EXPECT_EQ(code_of([] { make_mpi_world(); }), ErrorCode::kUnsupported);
#endif
}

}  // namespace
}  // namespace gossamer::comm
