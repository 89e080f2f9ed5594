// Per-call overhead of ThreadPool::parallel_for: an empty body over `threads` chunks, the
// cost a decode step pays for each of its many short kernel launches.
//   bench_pool [--threads 2] [--calls 200000] [--gap-us 0] [--work-us 0]
// --gap-us N busy-waits N microseconds between calls (serial work between two kernels).
// --work-us N makes every chunk busy-wait N microseconds: with an empty body the calling
// thread may run every chunk itself before a worker wakes, which hides the wake-up cost;
// with work in each chunk the call lasts work + overhead only if the chunks really run in
// parallel (the report subtracts the work).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/thread_pool.h"
#include "core/timer.h"

using namespace gossamer;

int main(int argc, char** argv) {
  int threads = 2;
  int64_t calls = 200000;
  double gap_us = 0, work_us = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--calls")) calls = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gap-us")) gap_us = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--work-us")) work_us = std::atof(argv[i + 1]);
  }
  ThreadPool pool(threads);
  std::atomic<int64_t> items{0};
  auto spin_us = [](double us) {
    Timer g;
    while (g.seconds() * 1e6 < us) {
    }
    return us;
  };
  auto body = [&](int64_t b, int64_t e) {
    items.fetch_add(e - b, std::memory_order_relaxed);
    if (work_us > 0) spin_us(work_us * double(e - b));
  };
  // Repeats of `calls / 10` calls; the median repeat is reported.
  std::vector<double> per_call_us;
  for (int rep = 0; rep < 10; ++rep) {
    const int64_t k = std::max<int64_t>(1, calls / 10);
    double gaps = 0;
    Timer t;
    for (int64_t i = 0; i < k; ++i) {
      pool.parallel_for(threads, 1, body);
      if (gap_us > 0) gaps += spin_us(gap_us) * 1e-6;
    }
    per_call_us.push_back((t.seconds() - gaps) / double(k) * 1e6 - work_us);
  }
  std::sort(per_call_us.begin(), per_call_us.end());
  std::printf("parallel_for over %d threads, work %.0f us/chunk, gap %.0f us: overhead median %.2f us/call, "
              "best %.2f us/call (%lld items)\n",
              threads, work_us, gap_us, per_call_us[per_call_us.size() / 2], per_call_us.front(), (long long)items.load());
  return 0;
}
