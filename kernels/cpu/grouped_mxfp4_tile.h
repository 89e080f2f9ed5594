#pragma once
// The inner product of the grouped MXFP4 GEMM (kernels/cpu/grouped_mxfp4.cpp): a decoded
// f32 weight tile against a batch of input rows. Two builds of the same register-blocked
// loop: AVX2 (the compile floor) and AVX-512, compiled with a function-level target and
// picked at run time only where the CPU has it (the build never requires AVX-512).
#include <cstdint>

namespace gossamer::kernels::cpu {

// dots[t * ld + i] = Σ_c tile[i * in + c] · xp[t][c]   for i < tile_rows, t < m.
// in % 16 == 0. Accumulation: f32 lanes along c in order, then one horizontal sum per
// output. lanes: scratch of m * tile_rows * 16 floats (the lane sums between K blocks).
void tile_dots_avx2(const float* tile, int64_t tile_rows, int64_t in, const float* const* xp, int64_t m,
                    float* dots, int64_t ld, float* lanes);
void tile_dots_avx512(const float* tile, int64_t tile_rows, int64_t in, const float* const* xp, int64_t m,
                      float* dots, int64_t ld, float* lanes);

// True when the process-wide ISA (kernels/cpu/isa.h: CPUID + XGETBV, GOSSAMER_CPU_ISA) is
// AVX-512, so tile_dots_avx512 may run.
bool cpu_has_avx512();

}  // namespace gossamer::kernels::cpu
