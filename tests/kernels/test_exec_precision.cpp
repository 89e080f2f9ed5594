// runtime.precision as the kernels see it: auto is the device's own tier, and the fp32 tier
// is never quietly swapped for the bf16 one on a device without an fp32-activation path.
#include <gtest/gtest.h>

#include "core/error.h"
#include "kernels/exec.h"

namespace gossamer::kernels {
namespace {

TEST(ExecPrecision, AutoIsExactOnTheCpuAndFastOnCuda) {
  EXPECT_EQ(resolve_precision(Precision::kAuto, Device::kCPU), Precision::kExact);
  EXPECT_EQ(resolve_precision(Precision::kExact, Device::kCPU), Precision::kExact);
  EXPECT_EQ(resolve_precision(Precision::kFast, Device::kCPU), Precision::kFast);
  EXPECT_EQ(resolve_precision(Precision::kAuto, Device::kCUDA), Precision::kFast);
  EXPECT_EQ(resolve_precision(Precision::kFast, Device::kCUDA), Precision::kFast);
}

TEST(ExecPrecision, ExactOnCudaIsRefusedNamingTheWayOut) {
  try {
    resolve_precision(Precision::kExact, Device::kCUDA);
    FAIL() << "exact on cuda was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("precision: fast or auto"), std::string::npos) << e.what();
  }
}

TEST(ExecPrecision, OpenDeviceResolvesOnTheCpu) {
  EXPECT_EQ(open_device(Device::kCPU, nullptr).precision, Precision::kExact);
  EXPECT_TRUE(open_device(Device::kCPU, nullptr, false, Precision::kFast).fast());
  EXPECT_EQ(parse_precision("auto"), Precision::kAuto);
  EXPECT_EQ(parse_precision("fast"), Precision::kFast);
  EXPECT_THROW(parse_precision("int4"), Error);
  EXPECT_STREQ(precision_name(Precision::kExact), "exact");
}

}  // namespace
}  // namespace gossamer::kernels
