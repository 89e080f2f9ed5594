#pragma once
// How the benchmark programs time a call: one warm-up, then at least `min_runs` runs and
// more until `seconds` have passed (at most `max_runs`); the median and best wall time
// and the median process CPU time (all threads, so a loaded machine shows in it).
#include <algorithm>
#include <ctime>
#include <functional>
#include <vector>

#include "core/timer.h"

namespace gossamer::bench {

struct Timing {
  double median_ms = 0, best_ms = 0, cpu_ms = 0;  // cpu_ms: median process CPU time per call
};

inline double process_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

inline Timing time_repeated(const std::function<void()>& fn, size_t min_runs, double seconds, size_t max_runs) {
  fn();
  std::vector<double> wall, cpu;
  Timer total;
  while (wall.size() < min_runs || (total.seconds() < seconds && wall.size() < max_runs)) {
    const double c0 = process_cpu_ms();
    Timer t;
    fn();
    wall.push_back(t.millis());
    cpu.push_back(process_cpu_ms() - c0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], wall.front(), cpu[cpu.size() / 2]};
}

}  // namespace gossamer::bench
