// The backend-ops table (backend_ops.h): every registered op on every backend this build
// has, against the kernels/ref/ oracle. Prints op / backend / shapes / max error, and the
// ops each backend lacks (a backend that is not built lacks them all).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "backend_ops.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

bool backend_built(Device d) { return d == Device::kCPU || cuda_device_count() > 0; }

Exec exec_for(Device d) { return d == Device::kCPU ? test::exec3() : Exec{Device::kCUDA, nullptr, nullptr}; }

TEST(BackendOps, EveryOpMatchesReferenceOnEveryBuiltBackend) {
  auto ops = test::backend_ops();
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::printf("| op | backend | shapes | max error | tolerance |\n|---|---|---|---|---|\n");
  for (Device d : {Device::kCPU, Device::kCUDA}) {
    std::vector<std::string> missing;
    for (const auto& op : ops) {
      const bool has = std::find(op.backends.begin(), op.backends.end(), d) != op.backends.end();
      if (!has || !backend_built(d)) {
        missing.push_back(op.name);
        continue;
      }
      const auto errs = op.run(exec_for(d));
      double worst = 0;
      for (const auto& e : errs) {
        worst = std::max(worst, e.error);
        EXPECT_LE(e.error, op.tolerance) << op.name << " on " << device_name(d) << ", " << e.shape;
      }
      EXPECT_FALSE(errs.empty()) << op.name << " ran no shape";
      std::printf("| %s | %s | %zu | %.3g | %.0e |\n", op.name.c_str(), device_name(d), errs.size(), worst,
                  op.tolerance);
    }
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    std::printf("%s lacks %zu op(s)%s: %s\n", device_name(d), missing.size(),
                backend_built(d) ? "" : " (backend not built or no device)", list.empty() ? "-" : list.c_str());
  }
}

// The ops the table must cover (a registration lost in a refactor fails here).
TEST(BackendOps, CoreAndMoeOpsAreRegistered) {
  std::set<std::string> names;
  for (const auto& op : test::backend_ops()) EXPECT_TRUE(names.insert(op.name).second) << "twice: " << op.name;
  for (const char* want : {"rmsnorm", "linear", "mxfp4_linear", "router_topk_softmax", "swiglu", "moe_permute",
                           "grouped_mxfp4_linear", "grouped_mxfp4_swiglu", "moe_unpermute", "moe_combine"})
    EXPECT_TRUE(names.count(want)) << want << " is not registered";
}

}  // namespace
}  // namespace gossamer::kernels
