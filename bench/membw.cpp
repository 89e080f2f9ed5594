// Read bandwidth of this machine: T threads each sum their own contiguous part of a
// 2 GiB buffer (far above the host's L3), several independent accumulators per thread. The
// roofline for the weight-streaming kernels, so it should be the most a plain read loop
// gets: the buffer is 2 MB aligned with transparent huge pages asked for, and on an
// AVX-512 CPU the loop uses aligned 64-byte loads (on the 2-vCPU Xeon of
// docs/PERFORMANCE.md, 32 GB/s where unaligned 256-bit loads on 4 KB pages read 27,
// and the decode GEMVs already streamed faster than that).
//   membw [--threads 2] [--seconds 3] [--mib 2048]
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/cpu/isa.h"

using namespace gossamer;

namespace {

// Steps [b, e) of 256 bytes with aligned 64-byte loads; only called on an AVX-512 CPU.
__attribute__((target("avx512f"))) void sum_avx512(const float* buf, int64_t b, int64_t e, float* out) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (int64_t i = b; i < e; ++i) {
    const float* p = buf + i * 64;
    s0 = _mm512_add_ps(s0, _mm512_load_ps(p));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(p + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(p + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(p + 48));
  }
  _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

}  // namespace

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
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = (size_t(floats) * 4 + kHuge - 1) / kHuge * kHuge;
  std::unique_ptr<float, decltype(&std::free)> buf(static_cast<float*>(std::aligned_alloc(kHuge, bytes)), &std::free);
  if (!buf) return 1;
  ::madvise(buf.get(), bytes, MADV_HUGEPAGE);  // uninitialised: touched below
  // Touch every page from the threads that will read it (first-touch placement).
  pool.parallel_for(floats / 1024, 1, [&](int64_t b, int64_t e) {
    std::fill(buf.get() + b * 1024, buf.get() + e * 1024, 1.0f);
  });
  std::vector<float> sink(size_t(threads) * 64);
  const int64_t blocks = floats / 64;  // 256 bytes per step
  const bool avx512 = kernels::cpu::cpu_features().avx512f;
  auto pass = [&] {
    pool.parallel_for(blocks, blocks / threads, [&](int64_t b, int64_t e) {
      float* out = &sink[size_t(b % threads) * 16];
      if (avx512) return sum_avx512(buf.get(), b, e, out);
      __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t i = b; i < e; ++i) {
        const float* p = buf.get() + i * 64;
        s0 = _mm256_add_ps(s0, _mm256_add_ps(_mm256_load_ps(p), _mm256_load_ps(p + 8)));
        s1 = _mm256_add_ps(s1, _mm256_add_ps(_mm256_load_ps(p + 16), _mm256_load_ps(p + 24)));
        s2 = _mm256_add_ps(s2, _mm256_add_ps(_mm256_load_ps(p + 32), _mm256_load_ps(p + 40)));
        s3 = _mm256_add_ps(s3, _mm256_add_ps(_mm256_load_ps(p + 48), _mm256_load_ps(p + 56)));
      }
      _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
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
