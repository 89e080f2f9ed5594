// Read bandwidth of this machine: T threads each sum their own contiguous part of a
// 2 GiB buffer (far above the host's L3) with 256-bit loads, several independent
// accumulators per thread. The roofline for the weight-streaming kernels.
//   membw [--threads 2] [--seconds 3] [--mib 2048]
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "core/timer.h"

using namespace gossamer;

int main(int argc, char** argv) {
  int threads = 2;
  double seconds = 3.0;
  int64_t mib = 2048;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--mib")) mib = std::atoll(argv[i + 1]);
  }
  ThreadPool pool(threads);
  const int64_t floats = mib * (1 << 20) / 4;
  std::unique_ptr<float[]> buf(new float[size_t(floats)]);  // uninitialised: touched below
  // Touch every page from the threads that will read it (first-touch placement).
  pool.parallel_for(floats / 1024, 1, [&](int64_t b, int64_t e) {
    std::fill(buf.get() + b * 1024, buf.get() + e * 1024, 1.0f);
  });
  std::vector<float> sink(size_t(threads) * 64);
  const int64_t blocks = floats / 32;  // 128 bytes per step
  auto pass = [&] {
    pool.parallel_for(blocks, blocks / threads, [&](int64_t b, int64_t e) {
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t i = b; i < e; ++i) {
        const float* p = buf.get() + i * 32;
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + 24));
      }
      _mm256_storeu_ps(&sink[size_t(b % threads) * 8], _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    });
  };
  pass();
  std::vector<double> gbs;
  Timer total;
  while (gbs.size() < 3 || total.seconds() < seconds) {
    Timer t;
    pass();
    gbs.push_back(double(floats) * 4 / t.seconds() * 1e-9);
  }
  std::sort(gbs.begin(), gbs.end());
  std::printf("read %lld MiB with %d threads: median %.2f GB/s, best %.2f GB/s (%zu passes)\n", (long long)mib,
              threads, gbs[gbs.size() / 2], gbs.back(), gbs.size());
  return 0;
}
