#pragma once
// Which x86 vector instruction set the CPU kernels use, chosen once at run time.
//
// The build's floor is AVX2+FMA+F16C (cmake/GossamerTargets.cmake); AVX-512 kernels live
// in kernels/cpu/avx512/, compiled with AVX-512 flags, and are only called when the CPU
// and the OS (XGETBV: ZMM state enabled) both support them. One binary therefore runs on
// AVX2-only and AVX-512 machines alike.
//
// GOSSAMER_CPU_ISA=avx2|avx512 forces a path; forcing one the CPU lacks is an error, not
// a silent fallback, so a benchmark never measures something other than what it asked for.
#include <string>

namespace gossamer::kernels::cpu {

enum class Isa { kAvx2, kAvx512 };

// What CPUID + XGETBV report. Every "has" flag already includes the OS check.
struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx512_fp16 = false;
  bool avx_vnni = false;  // 256-bit VEX vpdpbusd (kernels/cpu/mxfp4_packed_avxvnni.cpp)
};

// Detected once, on first use.
const CpuFeatures& cpu_features();

const char* isa_name(Isa isa);  // "avx2" / "avx512"

// Can `f` run the kernels of `isa`? (avx512 needs F, BW and VL.)
bool isa_supported(Isa isa, const CpuFeatures& f);

// The path for these features and this GOSSAMER_CPU_ISA value (null or empty: the best
// supported). Throws kInvalidArgument for an unknown name and kUnsupported for a path the
// CPU lacks, or for a CPU below the AVX2 floor.
Isa choose_isa(const char* env_value, const CpuFeatures& f);

// The process-wide path: choose_isa(getenv("GOSSAMER_CPU_ISA"), cpu_features()), decided
// on first call (which throws on a bad forced value).
Isa active_isa();

// Whether the AVX2 int8 kernels use AVX-VNNI: the CPU has it and GOSSAMER_AVX_VNNI is not
// "0" (which measures, on such a CPU, the vpmaddubsw path of AVX2 CPUs without it).
bool use_avx_vnni();

// For the start-up log: "avx512 (avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni
// avx512_bf16)" — the chosen path, then the features detected.
std::string isa_description();

}  // namespace gossamer::kernels::cpu
