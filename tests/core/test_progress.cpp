// Progress: byte formatting and thread-safe counting (output goes to stderr / the log).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "core/progress.h"

namespace gossamer {
namespace {

TEST(Progress, HumanBytes) {
  EXPECT_EQ(Progress::human_bytes(17), "17 B");
  EXPECT_EQ(Progress::human_bytes(812e3), "812.00 KB");
  EXPECT_EQ(Progress::human_bytes(13.04e9), "13.04 GB");
}

TEST(Progress, CountsFromManyThreads) {
  Progress p("test", 4000, Progress::Unit::kBytes, /*quiet=*/true);
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i)
    ts.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) p.advance(1);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(p.done(), 4000u);
  p.finish();
  p.finish();  // idempotent
}

}  // namespace
}  // namespace gossamer
