// The step's index arrays where the kernels read them (worker/step_arrays.h): on the CPU the
// batch's own vectors; on a GPU one packed upload whose contents must equal the batch's
// arrays (checked by copying them back; skipped without a GPU).
#include <gtest/gtest.h>

#include <vector>

#include "kernels/exec.h"
#include "worker/step_arrays.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::worker {
namespace {

// Two sequences: a 5-token prefill chunk with all logits and a 1-token decode at position
// 20, both with window tables.
ForwardBatch two_sequences() {
  ForwardBatch b(4);
  const std::vector<int32_t> prompt{11, 12, 13, 14, 15};
  static const std::vector<int32_t> table_a{3, 1}, window_a{7, 2};
  static const std::vector<int32_t> table_b{0, 4, 5, 6, 8, 9}, window_b{-1, -1, -1, 10, 11, 12};
  b.add(100, prompt.data(), 5, 0, table_a.data(), window_a.data(), true);
  const int32_t next = 42;
  b.add(200, &next, 1, 20, table_b.data(), window_b.data(), false);
  return b;
}

TEST(StepArrays, HostArraysAreTheBatchVectors) {
  const ForwardBatch b = two_sequences();
  const StepArrays a = host_step_arrays(b);
  EXPECT_EQ(a.tokens, b.tokens.data());
  EXPECT_EQ(a.positions, b.positions.data());
  EXPECT_EQ(a.seq_offsets, b.seq_offsets.data());
  EXPECT_EQ(a.block_table_offsets, b.block_table_offsets.data());
  EXPECT_EQ(a.full_block_tables, b.full_block_tables.data());
  EXPECT_EQ(a.window_block_tables, b.window_block_tables.data());
  EXPECT_EQ(a.logit_rows, b.logit_rows.data());
  // 6 tokens + 6 positions + 3 + 3 offsets + 2 + 6 blocks in each table + 6 logit rows.
  EXPECT_EQ(packed_step_ints(b), 6u + 6 + 3 + 3 + 8 + 8 + 6);
}

TEST(StepArrays, NoWindowTablesNoWindowArray) {
  ForwardBatch b(4);
  const std::vector<int32_t> table{0, 1};
  const int32_t ids[3] = {1, 2, 3};
  b.add(1, ids, 3, 0, table.data(), nullptr, false);
  ASSERT_FALSE(b.has_window_tables());
  EXPECT_EQ(host_step_arrays(b).window_block_tables, nullptr);
  EXPECT_EQ(packed_step_ints(b), 3u + 3 + 2 + 2 + 1 + 1);
}

#ifdef GOSSAMER_HAVE_CUDA
std::vector<int32_t> device_to_host(const int32_t* p, size_t n) {
  std::vector<int32_t> v(n);
  if (n) kernels::cuda::copy_to_host(v.data(), p, n * sizeof(int32_t));
  return v;
}
#endif

TEST(StepArrays, DeviceUploadEqualsTheBatch) {
  if (kernels::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU here (device upload not exercised)";
#ifdef GOSSAMER_HAVE_CUDA
  void* stream = kernels::cuda::stream_create();
  DeviceStepArrays device;
  for (int round = 0; round < 2; ++round) {  // the second upload reuses the buffers
    ForwardBatch b = two_sequences();
    if (round == 1) b.tokens[0] = 77;
    const StepArrays a = device.upload(b, stream);
    kernels::cuda::synchronize(stream);
    EXPECT_EQ(device_to_host(a.tokens, b.tokens.size()), b.tokens);
    EXPECT_EQ(device_to_host(a.positions, b.positions.size()), b.positions);
    EXPECT_EQ(device_to_host(a.seq_offsets, b.seq_offsets.size()), b.seq_offsets);
    EXPECT_EQ(device_to_host(a.block_table_offsets, b.block_table_offsets.size()), b.block_table_offsets);
    EXPECT_EQ(device_to_host(a.full_block_tables, b.full_block_tables.size()), b.full_block_tables);
    EXPECT_EQ(device_to_host(a.window_block_tables, b.window_block_tables.size()), b.window_block_tables);
    EXPECT_EQ(device_to_host(a.logit_rows, b.logit_rows.size()), b.logit_rows);
  }
  kernels::cuda::stream_destroy(stream);
#endif
}

}  // namespace
}  // namespace gossamer::worker
