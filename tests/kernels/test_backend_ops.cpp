// The backend-ops table (backend_ops.h): every registered op on every backend this build
// has, against the kernels/ref/ oracle. Prints op / backend / shapes / max error /
// tolerance, and the ops each backend lacks. The CUDA half skips, saying why, where this
// build has no CUDA backend or no GPU is visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "backend_ops.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

Exec exec_for(Device d) { return d == Device::kCPU ? test::exec3() : Exec{Device::kCUDA, nullptr, nullptr}; }

void run_table(Device d) {
  auto ops = test::backend_ops();
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::printf("| op | backend | shapes | max error | tolerance |\n|---|---|---|---|---|\n");
  std::vector<std::string> missing;
  for (const auto& op : ops) {
    if (std::find(op.backends.begin(), op.backends.end(), d) == op.backends.end()) {
      missing.push_back(op.name);
      continue;
    }
    const auto errs = op.run(exec_for(d));
    double worst = 0;
    for (const auto& e : errs) {
      worst = std::max(worst, e.error);
      EXPECT_LE(e.error, op.tolerance_on(d)) << op.name << " on " << device_name(d) << ", " << e.shape;
    }
    EXPECT_FALSE(errs.empty()) << op.name << " ran no shape";
    std::printf("| %s | %s | %zu | %.3g | %.0e |\n", op.name.c_str(), device_name(d), errs.size(), worst,
                op.tolerance_on(d));
  }
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  std::printf("%s lacks %zu op(s): %s\n", device_name(d), missing.size(), list.empty() ? "-" : list.c_str());
}

TEST(BackendOps, EveryOpMatchesReferenceOnCpu) { run_table(Device::kCPU); }

TEST(BackendOps, EveryOpMatchesReferenceOnCuda) {
#ifndef GOSSAMER_HAVE_CUDA
  GTEST_SKIP() << "this build has no CUDA backend (GOSSAMER_CUDA off or nvcc not found): every op lacks a CUDA "
                  "version here";
#else
  if (cuda_device_count() == 0)
    GTEST_SKIP() << "no CUDA device visible (cuda_device_count() == 0): the CUDA ops are compiled in this build "
                    "but can only be checked on a GPU";
  run_table(Device::kCUDA);
#endif
}

// The ops the table must cover (a registration lost in a refactor fails here), and the
// forward pass's ops must each have a CUDA runner (a build with CUDA runs them all).
TEST(BackendOps, CoreAndMoeOpsAreRegistered) {
  std::set<std::string> names;
  for (const auto& op : test::backend_ops()) EXPECT_TRUE(names.insert(op.name).second) << "twice: " << op.name;
  for (const char* want : {"rmsnorm", "linear", "mxfp4_linear", "router_topk_softmax", "swiglu", "moe_permute",
                           "grouped_mxfp4_linear", "grouped_mxfp4_swiglu", "moe_unpermute", "moe_combine",
                           "embedding_lookup", "rope_apply", "add_inplace", "kv_cache_write_varlen",
                           "attention_varlen", "sample_tokens"}) {
    EXPECT_TRUE(names.count(want)) << want << " is not registered";
    for (const auto& op : test::backend_ops()) {
      if (op.name != want) continue;
      EXPECT_TRUE(std::find(op.backends.begin(), op.backends.end(), Device::kCUDA) != op.backends.end())
          << want << " has no CUDA runner";
    }
  }
}

}  // namespace
}  // namespace gossamer::kernels
