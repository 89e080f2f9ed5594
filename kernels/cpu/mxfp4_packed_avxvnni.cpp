// The AVX2 packed-expert GEMV (kernels/cpu/mxfp4_packed_gemv.h) with AVX-VNNI's 256-bit
// vpdpbusd: one instruction per chunk and row half where vpmaddubsw + vpmaddwd take 2.25.
// Built with -mavxvnni (this file only: CMakeLists.txt) and called only when
// kernels/cpu/isa.h found AVX-VNNI (Alder Lake and later, Zen 5); like the AVX-512 units,
// nothing here has external linkage but the entry point.
#include "kernels/cpu/mxfp4_packed_gemv.h"

namespace gossamer::kernels::cpu {
namespace {

struct VnniDot {
  static constexpr int kChunks = 1;
  static void add(__m256i& lo, __m256i& hi, const __m256i* w_lo, const __m256i* w_hi, const int32_t* quads) {
    const __m256i x4 = _mm256_set1_epi32(quads[0]);
    lo = _mm256_dpbusd_avx_epi32(lo, w_lo[0], x4);
    hi = _mm256_dpbusd_avx_epi32(hi, w_hi[0], x4);
  }
};

}  // namespace

void packed_gemv_rows_avxvnni(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  packed_gemv_rows<VnniDot>(job, o0, o1);
}

}  // namespace gossamer::kernels::cpu
