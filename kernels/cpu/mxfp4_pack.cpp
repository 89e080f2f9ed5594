#include "kernels/cpu/mxfp4_pack.h"

#include "core/error.h"
#include "core/mxfp4.h"
#include "kernels/cpu/grouped_mxfp4.h"
#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {

bool packs_expert_weights(Precision precision) { return precision == Precision::kFast; }

int64_t packed_mxfp4_bytes(const Mxfp4Weight& w) {
  const int64_t groups = (w.out + kInt8GroupRows - 1) / kInt8GroupRows, nb = w.in / kMxfp4BlockSize;
  const int64_t bytes = groups * nb * (kPackedGroupBlockBytes + kInt8GroupRows);
  return (bytes + 63) / 64 * 64;
}

void pack_mxfp4(ThreadPool& pool, const Mxfp4Weight& w, uint8_t* dst) {
  GOSSAMER_CHECK(w.in % kMxfp4BlockSize == 0, "pack_mxfp4: in = {} is not a multiple of 32", w.in);
  const int64_t groups = (w.out + kInt8GroupRows - 1) / kInt8GroupRows, nb = w.in / kMxfp4BlockSize;
  const float* table = mxfp4_scale_table().data();
  // The AVX-512 packer only where its units may run (built with VNNI among their flags).
  const bool avx512 = grouped_mxfp4_int8_supported(true);
  pool.parallel_for(groups, 8, [&](int64_t g0, int64_t g1) {
    if (avx512) pack_groups_avx512(w.blocks, w.scales, w.stride(), nb, w.out, g0, g1, table, dst);
    else pack_groups_portable(w.blocks, w.scales, w.stride(), nb, w.out, g0, g1, dst);
  });
}

void pack_mxfp4_views(ThreadPool& pool, std::vector<Mxfp4Weight>& views, std::vector<uint8_t>& storage) {
  int64_t total = 0;
  for (const auto& v : views) total += packed_mxfp4_bytes(v);
  storage.assign(static_cast<size_t>(total), uint8_t{0xAB});
  uint8_t* at = storage.data();
  for (auto& v : views) {
    pack_mxfp4(pool, v, at);
    v.packed = at;
    at += packed_mxfp4_bytes(v);
  }
}

}  // namespace gossamer::kernels::cpu
