// runtime.device is honoured: a device the forward pass cannot run on stops the start with
// a clear error and a non-zero exit, never a silent run on the CPU.
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace gossamer {
namespace {

using testing::run_gossamer;

const std::string kTiny = std::string(GOSSAMER_TEST_DATA) + "/tiny/model";

TEST(CliDevice, CpuRunsAndSaysNothingAboutCuda) {
  auto r = run_gossamer("generate --model " + kTiny + " --device cpu --tokens 1,2,3 --max-tokens 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("cuda"), std::string::npos) << r.output;
}

// open_device's banner when a GPU was found: the forward pass then runs there (checked by
// tests/worker/test_gpu_forward.cpp), so the refusal below is for machines without one.
bool ran_on_a_gpu(const std::string& output) { return output.find("runtime.device is cuda: GPU") != std::string::npos; }

TEST(CliDevice, CudaIsRefusedAtStartWithoutABackendOrAGpu) {
  for (const char* verb : {"generate --tokens 1,2,3 --max-tokens 2", "eval-logits --tokens 1,2 --out /dev/null"}) {
    auto r = run_gossamer(std::string(verb) + " --model " + kTiny + " --device cuda");
    if (ran_on_a_gpu(r.output)) GTEST_SKIP() << "a CUDA build on a GPU machine: cuda runs here";
    EXPECT_NE(r.exit_code, 0) << verb << ": " << r.output;
    EXPECT_NE(r.output.find("runtime.device is cuda"), std::string::npos) << verb << ": " << r.output;
    EXPECT_EQ(r.output.find("engine ready"), std::string::npos) << "it ran anyway: " << r.output;
  }
}

TEST(CliDevice, ConfigFileDeviceIsHonouredToo) {
  const std::string cfg = "/tmp/gossamer-device-" + std::to_string(::getpid()) + ".yaml";
  {
    FILE* f = std::fopen(cfg.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("runtime:\n  device: cuda\n", f);
    std::fclose(f);
  }
  auto r = run_gossamer("generate --config " + cfg + " --model " + kTiny + " --tokens 1,2 --max-tokens 2");
  // Either refused (no backend / no GPU) or run on the GPU: both name the device.
  if (!ran_on_a_gpu(r.output)) {
    EXPECT_NE(r.exit_code, 0) << r.output;
  }
  EXPECT_NE(r.output.find("runtime.device is cuda"), std::string::npos) << r.output;
  auto bad = run_gossamer("generate --model " + kTiny + " --device tpu --tokens 1");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  std::remove(cfg.c_str());
}

}  // namespace
}  // namespace gossamer
