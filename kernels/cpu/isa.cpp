#include "kernels/cpu/isa.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace gossamer::kernels::cpu {
namespace {

// XCR0: which register states the OS saves on a context switch. Read with xgetbv only
// after CPUID reports OSXSAVE (otherwise the instruction faults).
uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & bit_OSXSAVE, has_fma = c & bit_FMA, has_f16c = c & bit_F16C;
  if (!osxsave) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!os_ymm) return f;
  f.fma = has_fma;
  f.f16c = has_f16c;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = b & bit_AVX2;
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx_vnni = a1 & (1u << 4);  // CPUID.(7,1):EAX.AVX-VNNI (VEX encoded: needs only YMM state)
  if (os_zmm) {
    f.avx512f = b & bit_AVX512F;
    f.avx512bw = b & bit_AVX512BW;
    f.avx512vl = b & bit_AVX512VL;
    f.avx512_vnni = c & bit_AVX512VNNI;
    f.avx512_fp16 = d & (1u << 23);  // CPUID.(7,0):EDX.AVX512-FP16
    f.avx512_bf16 = a1 & bit_AVX512BF16;
  }
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

const char* isa_name(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "avx2"; }

bool isa_supported(Isa isa, const CpuFeatures& f) {
  const bool floor = f.avx2 && f.fma && f.f16c;
  if (isa == Isa::kAvx2) return floor;
  return floor && f.avx512f && f.avx512bw && f.avx512vl;
}

Isa choose_isa(const char* env_value, const CpuFeatures& f) {
  if (!isa_supported(Isa::kAvx2, f))
    GOSSAMER_THROW(kUnsupported, "this CPU lacks AVX2/FMA/F16C, the minimum this build needs");
  if (env_value == nullptr || *env_value == '\0')
    return isa_supported(Isa::kAvx512, f) ? Isa::kAvx512 : Isa::kAvx2;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (std::strcmp(env_value, isa_name(isa)) != 0) continue;
    if (!isa_supported(isa, f))
      GOSSAMER_THROW(kUnsupported, "GOSSAMER_CPU_ISA={}: this CPU lacks {} (needs AVX-512 F, BW and VL)",
                     env_value, isa_name(isa));
    return isa;
  }
  GOSSAMER_THROW(kInvalidArgument, "GOSSAMER_CPU_ISA={}: unknown path (want avx2 or avx512)", env_value);
}

Isa active_isa() {
  static const Isa isa = choose_isa(std::getenv("GOSSAMER_CPU_ISA"), cpu_features());
  return isa;
}

bool use_avx_vnni() {
  static const bool use = [] {
    const char* env = std::getenv("GOSSAMER_AVX_VNNI");
    return cpu_features().avx_vnni && !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  return use;
}

std::string isa_description() {
  const CpuFeatures& f = cpu_features();
  std::string s = isa_name(active_isa());
  s += " (cpu:";
  const std::pair<bool, const char*> flags[] = {
      {f.avx2, "avx2"},         {f.fma, "fma"},           {f.f16c, "f16c"},
      {f.avx512f, "avx512f"},   {f.avx512bw, "avx512bw"}, {f.avx512vl, "avx512vl"},
      {f.avx512_vnni, "avx512_vnni"}, {f.avx512_bf16, "avx512_bf16"}, {f.avx512_fp16, "avx512_fp16"},
      {f.avx_vnni, "avx_vnni"}};
  for (const auto& [has, name] : flags)
    if (has) (s += ' ') += name;
  return s + ")";
}

}  // namespace gossamer::kernels::cpu
