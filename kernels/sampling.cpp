#include "kernels/sampling.h"

#include "core/error.h"
#include "kernels/cpu/sampling.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/sampling.h"
#endif

namespace gossamer::kernels {
namespace {
// splitmix64's finalizer (Steele, Lea, Flood 2014): a bijective mix with full avalanche.
uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

double sampling_uniform(uint64_t seed, uint64_t step) {
  // Hash of the pair, not a stream: the draw for (seed, step) is the same whatever was
  // drawn before, on whichever rank, in whatever batch.
  uint64_t h = mix64(mix64(seed) ^ step);
  return double(h >> 11) * 0x1.0p-53;
}

int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     uint64_t step) {
  if (vocab <= 0) GOSSAMER_THROW(kInvalidArgument, "sample_token: empty vocabulary");
  if (!(params.top_p > 0.0f)) GOSSAMER_THROW(kInvalidArgument, "sample_token: top_p {} <= 0", params.top_p);
  if (params.top_k < 0) GOSSAMER_THROW(kInvalidArgument, "sample_token: top_k {} < 0", params.top_k);
  return cpu::sample_token(logits, vocab, params, step);
}

void sample_tokens(const Exec& exec, int32_t* tokens, const float* logits, int64_t n, int64_t vocab,
                   int64_t row_stride, const SamplingParams* params, const uint64_t* steps) {
  if (n < 0 || vocab <= 0 || row_stride < vocab)
    GOSSAMER_THROW(kInvalidArgument, "sample_tokens: {} rows of {} logits, row stride {}", n, vocab, row_stride);
  for (int64_t i = 0; i < n; ++i) {
    if (!(params[i].top_p > 0.0f)) GOSSAMER_THROW(kInvalidArgument, "sample_tokens: top_p {} <= 0", params[i].top_p);
    if (params[i].top_k < 0) GOSSAMER_THROW(kInvalidArgument, "sample_tokens: top_k {} < 0", params[i].top_k);
  }
  if (exec.device == Device::kCPU) {
    for (int64_t i = 0; i < n; ++i) tokens[i] = cpu::sample_token(logits + i * row_stride, vocab, params[i], steps[i]);
    return;
  }
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::sample_tokens(exec.stream, tokens, logits, n, vocab, row_stride, params, steps);
#endif
  unsupported_device("sample_tokens", exec);
}

}  // namespace gossamer::kernels
