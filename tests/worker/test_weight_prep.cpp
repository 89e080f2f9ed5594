// The backends' load step (worker/weight_prep.h, kernels/weight_prep.h). On the CPU the
// views stay the mapped checkpoint's and every page a step reads is mapped into the process
// before the first step, so no step takes a page fault; on CUDA every matrix, including a
// column slice, arrives on the device byte for byte with its rows packed.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "core/mxfp4.h"
#include "kernels/exec.h"
#include "kernels/weight_prep.h"
#include "tests/common/checkpoint_fixtures.h"
#include "worker/weight_prep.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#endif

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;

long page_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt + u.ru_majflt;
}

// Reads one byte per 512 of [p, p + n): every page of the span.
uint64_t touch(const void* p, size_t n) {
  uint64_t sum = 0;
  const auto* b = static_cast<const volatile uint8_t*>(p);
  for (size_t i = 0; i < n; i += 512) sum += b[i];
  return sum;
}

size_t span(const kernels::DenseWeight& w) {
  return static_cast<size_t>((w.out - 1) * w.stride() + w.in) * dtype_bytes(w.dtype, 1);
}

// Every byte range a step reads in full: attention and router matrices, experts, the
// unembedding (the embedding is gathered by token and is not expected to be resident).
uint64_t touch_step_weights(const ModelWeights& w) {
  uint64_t sum = 0;
  for (const auto& l : w.layers) {
    for (const Linear* m : {&l.q, &l.k, &l.v, &l.o, &l.router}) sum += touch(m->weight.data, span(m->weight));
    for (const ExpertMatrix* m : {&l.mlp1, &l.mlp2})
      for (const auto& e : m->per_expert) {
        sum += touch(e.blocks, static_cast<size_t>(e.out * e.stride() * kMxfp4BytesPerBlock));
        sum += touch(e.scales, static_cast<size_t>(e.out * e.stride()));
      }
  }
  return sum + touch(w.unembedding.data, span(w.unembedding));
}

TEST(WeightPrep, CpuKeepsTheMappedViewsAndFaultsThemInBeforeTheFirstStep) {
  // Control: a fresh mapping without the load step does fault when a step reads it (so
  // the counter sees these pages at all).
  {
    const ModelWeights cold = load_weights(model::Checkpoint::open(tiny_dir()));
    const long before = page_faults();
    EXPECT_GE(touch_step_weights(cold), 0u);
    EXPECT_GT(page_faults() - before, 10) << "reading a fresh mapping took no page faults: the check below means nothing";
  }
  ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  const void* q_before = w.layers[0].q.weight.data;
  const void* expert_before = w.layers[0].mlp1.per_expert[0].blocks;
  const PreparedSummary s = prepare_weights(w, kernels::Exec::cpu());
  EXPECT_EQ(w.layers[0].q.weight.data, q_before) << "the CPU keeps the checkpoint's view";
  EXPECT_EQ(w.layers[0].mlp1.per_expert[0].blocks, expert_before);
  EXPECT_TRUE(w.prepared.empty()) << "nothing is copied on the CPU";
  EXPECT_GE(s.bytes, span(w.unembedding));
  const long before = page_faults();
  EXPECT_GE(touch_step_weights(w), 0u);
  EXPECT_LE(page_faults() - before, 2) << "a step would fault on weight pages the load step left unmapped";
}

TEST(WeightPrep, CudaCopiesEveryMatrixWithItsRowsPacked) {
  if (kernels::cuda_device_count() == 0) GTEST_SKIP() << "no CUDA GPU visible (or the CUDA backend is not built)";
#ifdef GOSSAMER_HAVE_CUDA
  const ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  kernels::WeightPreparer p(kernels::Exec{Device::kCUDA, nullptr, nullptr});
  // A column slice (the o projection's under tensor parallelism): every other half row.
  kernels::DenseWeight slice = w.layers[0].q.weight;
  slice.in /= 2;
  slice.row_stride = w.layers[0].q.weight.stride();
  const kernels::DenseWeight dev = p.dense(slice);
  ASSERT_EQ(dev.row_stride, 0);
  const size_t row_bytes = static_cast<size_t>(slice.in) * 2;
  std::vector<uint8_t> back(static_cast<size_t>(slice.out) * row_bytes);
  kernels::cuda::copy_to_host(back.data(), dev.data, back.size());
  for (int64_t r = 0; r < slice.out; ++r)
    ASSERT_EQ(std::memcmp(back.data() + r * row_bytes,
                          static_cast<const uint8_t*>(slice.data) + r * slice.stride() * 2, row_bytes), 0)
        << "row " << r;
  const kernels::Mxfp4Weight& e = w.layers[0].mlp1.per_expert[1];
  const kernels::Mxfp4Weight de = p.mxfp4(e);
  std::vector<uint8_t> blocks(static_cast<size_t>(e.out * e.stride() * kMxfp4BytesPerBlock));
  kernels::cuda::copy_to_host(blocks.data(), de.blocks, blocks.size());
  EXPECT_EQ(std::memcmp(blocks.data(), e.blocks, blocks.size()), 0);
  std::vector<uint8_t> scales(static_cast<size_t>(e.out * e.stride()));
  kernels::cuda::copy_to_host(scales.data(), de.scales, scales.size());
  EXPECT_EQ(std::memcmp(scales.data(), e.scales, scales.size()), 0);
  EXPECT_EQ(p.bytes(), back.size() + blocks.size() + scales.size());
#endif
}

}  // namespace
}  // namespace gossamer::worker
