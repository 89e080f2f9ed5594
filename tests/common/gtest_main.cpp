// The main() of every test_<folder> binary (instead of GTest::gtest_main). Two outcomes
// that gtest reports as success are not: a run in which no test matched (a typo in a
// --gtest_filter, a suite renamed after ctest discovered it, a file compiled out by an
// #ifdef) fails, and a run in which every selected test skipped exits 77, which ctest
// shows as "Skipped" (SKIP_RETURN_CODE, see cmake/GossamerTestSuites.cmake) instead of
// "Passed". Listing tests (--gtest_list_tests, used by the ctest discovery) is unchanged.
// Engines that tests start in precision fast write their packed experts
// (worker/packed_experts.h) under $GOSSAMER_CACHE_DIR: when it is unset, a folder in the
// temporary directory instead of the user's ~/.cache (scripts/test.sh sets one in the build tree).
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (std::getenv("GOSSAMER_CACHE_DIR") == nullptr) {
    std::error_code ec;
    const auto dir = std::filesystem::temp_directory_path(ec) / "gossamer-test-cache";
    ::setenv("GOSSAMER_CACHE_DIR", dir.c_str(), 0);
  }
  const int rc = RUN_ALL_TESTS();
  if (rc != 0 || GTEST_FLAG_GET(list_tests)) return rc;
  const testing::UnitTest& run = *testing::UnitTest::GetInstance();
  if (run.test_to_run_count() == 0) {
    std::fprintf(stderr, "FAILED: no test ran (filter '%s' matched nothing)\n",
                 GTEST_FLAG_GET(filter).c_str());
    return 1;
  }
  if (run.successful_test_count() == 0 && run.skipped_test_count() > 0) {
    std::fprintf(stderr, "SKIPPED: every test that ran was skipped (reasons above)\n");
    return 77;
  }
  return 0;
}
