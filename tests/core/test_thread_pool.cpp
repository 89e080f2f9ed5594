// ThreadPool hand-off under stress: many short jobs back to back (the decode pattern),
// with and without the spin phase, concurrent outside callers, and exceptions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.h"

namespace gossamer {
namespace {

// Every index of every job covered exactly once, over many consecutive short jobs.
void check_many_short_jobs(ThreadPool& pool, int jobs) {
  std::vector<std::atomic<int>> hits(64);
  for (int j = 0; j < jobs; ++j) {
    const int64_t n = 1 + j % 64;
    pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
    });
  }
  // Index i is in every job with n > i.
  for (int64_t i = 0; i < 64; ++i) {
    int expected = 0;
    for (int j = 0; j < jobs; ++j) expected += (1 + j % 64) > i;
    ASSERT_EQ(hits[size_t(i)].load(), expected) << "index " << i;
  }
}

// Sets GOSSAMER_POOL_SPIN_US for the pools built in its scope.
struct SpinEnv {
  explicit SpinEnv(const char* us) { setenv("GOSSAMER_POOL_SPIN_US", us, 1); }
  ~SpinEnv() { unsetenv("GOSSAMER_POOL_SPIN_US"); }
};

TEST(ThreadPoolHandOff, ManyShortJobsWithSpinning) {
  ThreadPool pool(3);
  check_many_short_jobs(pool, 20000);
}

TEST(ThreadPoolHandOff, ManyShortJobsSleepingAtOnce) {
  SpinEnv env("0");
  ThreadPool pool(3);
  check_many_short_jobs(pool, 5000);
}

TEST(ThreadPoolHandOff, WorkersSleepBetweenSparseJobs) {
  SpinEnv env("1");
  ThreadPool pool(2);
  for (int j = 0; j < 20; ++j) {
    std::atomic<int64_t> sum{0};
    pool.parallel_for(100, 1, [&](int64_t b, int64_t e) { sum += e - b; });
    ASSERT_EQ(sum.load(), 100);
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // past the spin: workers sleep
  }
}

TEST(ThreadPoolHandOff, ConcurrentOutsideCallersEachGetTheirWholeJob) {
  ThreadPool pool(3);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&, c] {
      for (int j = 0; j < 2000; ++j) {
        const int64_t n = 10 + (j + c) % 50;
        std::atomic<int64_t> sum{0};
        pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) sum += i;
        });
        if (sum.load() != n * (n - 1) / 2) ++failures;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ThreadPoolHandOff, ExceptionReachesTheCallerAfterAllChunks) {
  ThreadPool pool(3);
  std::atomic<int64_t> covered{0};
  EXPECT_THROW(pool.parallel_for(12, 1,
                                 [&](int64_t b, int64_t e) {
                                   covered += e - b;
                                   if (b == 0) throw std::runtime_error("chunk 0 failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(covered.load(), 12);
  // The pool still works afterwards.
  std::atomic<int64_t> sum{0};
  pool.parallel_for(12, 1, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 12);
}

}  // namespace
}  // namespace gossamer
