// bf16 dense linear at gpt-oss-20b shapes, weights streamed from DRAM: every call uses
// the next of enough copies of the matrix (>= 1 GiB in all, several times the host's
// L3) that none is cached. Uses only kernels::linear, so the path is picked the way the
// engine picks it (GOSSAMER_CPU_ISA=avx2|avx512 forces one).
//   bench_dense [--threads N] [--seconds S] [--tokens 1,16] [--shapes all|unembed|attn] [--warm 1]
//               [--precision auto|exact|fast|exact,fast] [--rounds R]
// Several precisions (and --rounds > 1) interleave the variants call-set by call-set, so
// the noise of a shared machine hits them alike.
// --warm 1 reuses one copy (cache-resident for the small shapes): the kernel's compute
// rate rather than DRAM's. "GFLOP/cpu-s" divides by the process CPU time (all threads),
// which time stolen by other tenants of a shared machine does not inflate.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_timing.h"
#include "core/dtype.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "kernels/linear.h"

namespace {
using namespace gossamer;
using namespace gossamer::kernels;

constexpr int64_t kColdBytes = int64_t(1) << 30;

struct Shape {
  const char* name;
  int64_t out, in;
};

bench::Timing time_calls(double seconds, const std::function<void()>& fn) {
  return bench::time_repeated(fn, 5, seconds, 2000);
}

std::vector<int64_t> parse_list(const char* s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) v.push_back(std::atoll(item.c_str()));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  double seconds = 2.0;
  std::vector<int64_t> tokens = {1, 16};
  std::string which = "all";
  bool warm = false;
  std::vector<Precision> precisions = {Precision::kExact};
  int rounds = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--tokens")) tokens = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--shapes")) which = argv[i + 1];
    else if (!std::strcmp(argv[i], "--warm")) warm = std::atoi(argv[i + 1]) != 0;
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--precision")) {
      precisions.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string p; std::getline(ss, p, ',');)
        precisions.push_back(resolve_precision(parse_precision(p), Device::kCPU));  // auto: the CPU's tier
    }
  }
  if (threads > 0) ThreadPool::set_global_threads(threads);
  Exec ex = Exec::cpu();
  std::vector<Shape> shapes;
  if (which == "all" || which == "unembed") shapes.push_back({"unembed", 201088, 2880});
  if (which == "all" || which == "attn") {
    shapes.push_back({"q_proj", 4096, 2880});
    shapes.push_back({"k_proj", 512, 2880});
    shapes.push_back({"o_proj", 2880, 4096});
    shapes.push_back({"router", 32, 2880});
  }
  const char* isa = std::getenv("GOSSAMER_CPU_ISA");
  std::printf("threads %d, GOSSAMER_CPU_ISA=%s\n", ex.threads().size(), isa ? isa : "(unset)");
  std::printf("%-8s %14s %4s %5s %10s %10s %9s %9s %12s %12s\n", "shape", "[out x in]", "n", "prec", "median ms", "best ms",
              "GB/s med", "GB/s best", "GFLOP/s med", "GFLOP/cpu-s");

  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const Shape& s : shapes) {
    const int64_t per = s.out * s.in;
    const int64_t copies = warm ? 1 : std::max<int64_t>(1, kColdBytes / (per * 2));
    std::vector<uint16_t> w(size_t(per * copies));
    for (int64_t i = 0; i < per; ++i) w[size_t(i)] = f32_to_bf16(dist(rng)).bits;
    for (int64_t c = 1; c < copies; ++c) std::memcpy(w.data() + c * per, w.data(), size_t(per) * 2);
    const int64_t max_n = *std::max_element(tokens.begin(), tokens.end());
    std::vector<float> x(size_t(max_n * s.in)), y(size_t(max_n * s.out));
    for (auto& v : x) v = dist(rng);
    for (int round = 0; round < rounds; ++round)
    for (int64_t n : tokens)
    for (Precision prec : precisions) {
      ex.precision = prec;
      int64_t next = 0;
      bench::Timing t = time_calls(seconds, [&] {
        DenseWeight dw{w.data() + (next++ % copies) * per, DType::kBF16, s.out, s.in, 0};
        linear(ex, y.data(), x.data(), n, dw, nullptr);
      });
      const double bytes = double(per) * 2, flops = 2.0 * double(per) * double(n);
      std::printf("%-8s %6lldx%-7lld %4lld %5s %10.3f %10.3f %9.2f %9.2f %12.1f %12.1f\n", s.name, (long long)s.out,
                  (long long)s.in, (long long)n, precision_name(prec), t.median_ms, t.best_ms, bytes / t.median_ms * 1e-6,
                  bytes / t.best_ms * 1e-6, flops / t.median_ms * 1e-6, flops / t.cpu_ms * 1e-6);
      std::fflush(stdout);
    }
  }
  return 0;
}
