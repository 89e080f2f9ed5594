#pragma once
// Expert weights repacked at load for the int8 kernels of precision fast (the packed
// layout of kernels/cpu/mxfp4_int8.h). kernels/weight_prep.cpp calls this once per expert
// matrix; the kernels then read only the packed copy, and the stored pages are given back.
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/exec.h"
#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels::cpu {

// Whether a CPU run at this precision reads packed expert weights: precision fast, on every
// CPU (the AVX-512 VNNI int8 kernels where present, else the AVX2 ones of
// kernels/cpu/mxfp4_packed_avx2.cpp, also on AVX-512 CPUs without VNNI: bench_kernels on
// this project's test box, AVX-512 f32 vs AVX2 packed vpmaddubsw, expert decode GEMV from
// DRAM 12 vs 24 GB/s, 32 experts x 64 rows 151-175 vs 183-190 GFLOP/s).
bool packs_expert_weights(Precision precision);

// Bytes of w in the packed layout, a multiple of 64.
int64_t packed_mxfp4_bytes(const Mxfp4Weight& w);

// w (stored layout, any stride) into dst (packed_mxfp4_bytes(w) bytes, 64-byte aligned),
// its groups of 16 rows split over the pool.
void pack_mxfp4(ThreadPool& pool, const Mxfp4Weight& w, uint8_t* dst);

// Every view in `views` packed into one buffer, `storage` (resized), and pointed at by its
// `packed`: the load step's packing for weights that tests and benchmarks build in memory.
// The buffer is filled with 0xAB first, so a byte the packer missed decodes to a wrong
// value instead of a harmless zero.
void pack_mxfp4_views(ThreadPool& pool, std::vector<Mxfp4Weight>& views, std::vector<uint8_t>& storage);

}  // namespace gossamer::kernels::cpu
