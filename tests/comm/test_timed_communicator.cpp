// The timing decorator over a local communicator: it forwards (results unchanged),
// counts calls and bytes per group and operation, shares its stats with split groups, and
// still counts a call that throws.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "comm/communicator.h"
#include "comm/timed_communicator.h"
#include "core/error.h"

namespace gossamer::comm {
namespace {

TEST(TimedCommunicator, ForwardsAndCounts) {
  auto stats = std::make_shared<CommStats>();
  TimedCommunicator c(make_local_communicator("tp"), stats);
  EXPECT_EQ(c.rank(), 0);
  EXPECT_EQ(c.size(), 1);
  EXPECT_EQ(c.name(), "tp");
  EXPECT_STREQ(c.backend(), "local");
  c.set_timeout(std::chrono::milliseconds(7));
  EXPECT_EQ(c.timeout(), std::chrono::milliseconds(7));

  std::vector<float> x{1, 2, 3, 4};
  c.all_reduce_sum(x.data(), x.size(), Device::kCPU);  // convenience → all_reduce
  EXPECT_EQ(x, (std::vector<float>{1, 2, 3, 4}));

  std::vector<int32_t> send{5, 6, 7}, recv(3, 0);
  c.all_gather(send.data(), send.size(), recv.data(), DType::kI32, Device::kCPU);
  EXPECT_EQ(recv, send);  // forwarded: the local backend copies

  std::vector<size_t> counts{3};
  std::vector<float> rs_in{1, 2, 3}, rs_out(3, 0);
  c.reduce_scatter_sum(rs_in.data(), rs_out.data(), counts, Device::kCPU);
  EXPECT_EQ(rs_out, rs_in);

  std::vector<float> a2a_out(3, 0);
  c.all_to_all_v(rs_in.data(), counts, {}, a2a_out.data(), counts, {}, DType::kF32, Device::kCPU);
  EXPECT_EQ(a2a_out, rs_in);

  std::vector<uint8_t> plan(100, 1);
  c.broadcast(plan.data(), plan.size(), 0, Device::kCPU);
  c.barrier();

  const auto& g = stats->groups.at("tp");
  EXPECT_EQ(g[size_t(CommOp::kAllReduce)].calls, 1u);
  EXPECT_EQ(g[size_t(CommOp::kAllReduce)].bytes, 16u);
  EXPECT_EQ(g[size_t(CommOp::kAllGather)].bytes, 12u);
  EXPECT_EQ(g[size_t(CommOp::kReduceScatter)].bytes, 12u);
  EXPECT_EQ(g[size_t(CommOp::kAllToAllV)].bytes, 12u);
  EXPECT_EQ(g[size_t(CommOp::kBroadcast)].bytes, 100u);
  EXPECT_EQ(g[size_t(CommOp::kBarrier)].calls, 1u);
  EXPECT_EQ(stats->total_calls(), 6u);
  EXPECT_EQ(stats->total_bytes(), 16u + 12 + 12 + 12 + 100);
  EXPECT_GE(stats->total_seconds(), 0.0);
  EXPECT_EQ(stats->group_total("tp").calls, 6u);
  EXPECT_EQ(stats->group_total("ep").calls, 0u);
  EXPECT_EQ(stats->op_total(CommOp::kAllGather).bytes, 12u);
}

TEST(TimedCommunicator, SplitGroupsShareStats) {
  auto stats = std::make_shared<CommStats>();
  auto world = make_local_communicator("world");
  TimedCommunicator timed(*world, stats);  // non-owning: world outlives it
  auto ep = timed.split(0, 0, "ep");
  ASSERT_NE(ep, nullptr);
  EXPECT_EQ(ep->name(), "ep");
  EXPECT_EQ(timed.split(kNoGroup, 0, "none"), nullptr);
  std::vector<float> v(8, 1.0f);
  ep->all_reduce_sum(v.data(), v.size(), Device::kCPU);
  EXPECT_EQ(stats->groups.at("ep")[size_t(CommOp::kAllReduce)].bytes, 32u);
  EXPECT_EQ(stats->groups.at("world")[size_t(CommOp::kSplit)].calls, 2u);
  stats->reset();
  EXPECT_EQ(stats->total_calls(), 0u);
}

TEST(TimedCommunicator, CountsAFailedCallAndRethrows) {
  auto stats = std::make_shared<CommStats>();
  TimedCommunicator c(make_local_communicator("pp"), stats);
  float x = 1;
  // Sending to oneself is an error in a group of one (it would deadlock on a transport).
  EXPECT_THROW(c.send(&x, 1, DType::kF32, 0, 0, Device::kCPU), Error);
  EXPECT_EQ(stats->groups.at("pp")[size_t(CommOp::kSend)].calls, 1u);
}

TEST(TimedCommunicator, WrapTimedKeepsNull) {
  auto stats = std::make_shared<CommStats>();
  std::unique_ptr<Communicator> none;
  wrap_timed(none, stats);
  EXPECT_EQ(none, nullptr);
  std::unique_ptr<Communicator> g = make_local_communicator("dp");
  wrap_timed(g, stats);
  g->barrier();
  EXPECT_EQ(stats->group_total("dp").calls, 1u);
  EXPECT_STREQ(comm_op_name(CommOp::kAllToAllV), "all_to_all_v");
}

}  // namespace
}  // namespace gossamer::comm
