// Grouped MXFP4 expert matmul, CPU.
//
// Why tiles: a per-expert kernel that decodes each weight block inside the dot product
// shares the decode among at most a few tokens, so a prefill step would decode every
// expert matrix (rows / 4) times. Here a tile of kTileRows weight rows is decoded once into
// bf16 (exact: e2m1 values times a power of two) in a per-thread scratch that stays in L2,
// and the dense bf16 micro-kernels (kernels/cpu/dense_rows.h: AVX2 or AVX-512, picked at
// run time) run it against all of the expert's rows. Experts with at most
// kMxfp4GemvMaxTokens rows on AVX-512, kMxfp4GemvMaxTokensAvx2 on AVX2 (decode steps)
// skip the tile and decode in registers instead (kernels/cpu/mxfp4_gemv.h). Accumulation is f32 in either path.
// Precision fast with AVX-512 VNNI: tiles decode to int8 instead, the input rows are
// quantised to int8 once per call, and experts with up to 4 rows take an int8 GEMV
// (kernels/cpu/mxfp4_int8.h). Precision fast on the AVX2 path: the experts come packed,
// the rows quantised the same way, and every expert runs the AVX2 packed GEMV, 6 rows at
// a time against each 32-row weight tile (no decoded tile: the slice stays in L1/L2).
// (An AVX-512 CPU without VNNI packs too and runs the AVX2 kernels: kernels/cpu/mxfp4_pack.h.)
#include "kernels/cpu/grouped_mxfp4.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/mxfp4.h"
#include "kernels/cpu/dense_rows.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/mxfp4_avx2.h"
#include "kernels/cpu/mxfp4_gemv.h"
#include "kernels/cpu/mxfp4_int8.h"
#include "kernels/cpu/mxfp4_tile.h"

namespace gossamer::kernels::cpu {
namespace {

// The AVX-512 kernels' e2m1 table is core/mxfp4.h's, bit for bit (-0 included).
constexpr bool same_e2m1_tables() {
  for (int c = 0; c < 16; ++c)
    if (std::bit_cast<uint32_t>(kE2m1Values[c]) != std::bit_cast<uint32_t>(kFp4Values[c])) return false;
  return true;
}
static_assert(same_e2m1_tables(), "kernels/cpu/mxfp4_gemv.h's kE2m1Values must equal core/mxfp4.h's kFp4Values");

constexpr int64_t kTileRows = 32;      // weight rows decoded at once (32 x 2880 f32 = 360 KB)
constexpr int64_t kRowChunk = 96;      // input rows per pass over a decoded tile
constexpr int64_t kPackedSlots = 4;    // row chunks of one expert kept packed per thread
// Decoding a weight row costs about as much as multiplying it against this many tokens
// (used only to balance work items between threads).
constexpr int64_t kDecodeCostTokens = 2;

inline float swiglu_value(float gate, float lin, const SwigluEpilogue& s) {
  const float g = std::min(gate, s.limit);  // gate: clamped above only
  const float u = std::clamp(lin, -s.limit, s.limit);
  return g / (1.0f + std::exp(-s.alpha * g)) * (u + 1.0f);
}

// Per thread, grown once to the largest `in` seen, then reused by every call.
struct Scratch {
  std::vector<uint16_t> tile;     // [kTileRows, in] decoded weights, bf16
  std::vector<float> dots;        // [kRowChunk, kTileRows]
  // The input rows in the pairs layout, one slot per row chunk of the expert being worked
  // on (kPackedSlots chunks, kRowChunk rows each): every tile of the expert reuses them.
  std::vector<float> xpanel;      // [kPackedSlots, kRowChunk, in rounded up]
  // Which rows each slot holds: (first row, rows, call). `call` tells calls apart that
  // reuse the same x buffer with new values (every layer does).
  struct Packed {
    int64_t from = -1, rows = 0;
    uint64_t call = 0;
  };
  std::array<Packed, kPackedSlots> packed{};
  // The int8 path (precision fast): one decoded tile and its per-row block scales.
  std::vector<uint8_t> qtile;     // [kTileRows / 16][in / 32][512]
  std::vector<float> qscale;      // [kTileRows / 16][in / 32][16]
  // At least kMinTileIn columns: both projections of gpt-oss (in = 2880) fit the first
  // size, so a thread's buffer grows once, whichever projection it meets first (which
  // thread runs which projection changes from step to step).
  static constexpr int64_t kMinTileIn = 4096;
  void reserve_dots() {
    if (dots.empty()) dots.resize(static_cast<size_t>(kRowChunk * kTileRows));
  }
  void reserve(int64_t in) {
    in = std::max(in, kMinTileIn);
    if (tile.size() < static_cast<size_t>(kTileRows * in)) tile.resize(static_cast<size_t>(kTileRows * in));
    reserve_dots();
    if (xpanel.size() < static_cast<size_t>(kPackedSlots * kRowChunk * (in + kAvx512PairBlock)))
      xpanel.resize(static_cast<size_t>(kPackedSlots * kRowChunk * (in + kAvx512PairBlock)));
  }
  void reserve_int8(int64_t in) {
    in = std::max(in, kMinTileIn);
    if (qtile.size() < static_cast<size_t>(kTileRows * in)) qtile.resize(static_cast<size_t>(kTileRows * in));
    if (qscale.size() < static_cast<size_t>(kTileRows * in / kMxfp4BlockSize))
      qscale.resize(static_cast<size_t>(kTileRows * in / kMxfp4BlockSize));
    reserve_dots();
  }
};

struct Problem {
  float* y;
  const float* x;
  const ExpertGroups& groups;
  const Mxfp4Weight* weights;
  const float* bias;
  const SwigluEpilogue* swiglu;
  int64_t out, in;
  bool avx512;
  const float* split_x;  // [groups][kMxfp4GemvMaxTokens][in]: GEMV experts' rows, split order
  uint64_t call;         // distinct for every grouped_mxfp4 call of the process
  const Int8Rows* q;     // set: the GEMM path runs on int8 (source rows quantised)
  bool packed_avx2;      // packed experts on the AVX2 path (kernels/cpu/mxfp4_packed_avx2.cpp)
  // Fast mode: the GEMV experts' rows quantised in the int8 GEMV layout, at slot
  // e * kInt8GemvMaxTokens + t (kernels/cpu/mxfp4_int8.h); null: the f32 GEMV.
  const int8_t* gemv_q;
  const float* gemv_xs;
  const int32_t* gemv_corr;
  int64_t gemv_pairs;

  const float* x_row(int64_t r) const { return x + (groups.row_index ? int64_t{groups.row_index[r]} : r) * in; }
};

// Dot products d[0 .. o1-o0) of permuted row r against weight rows [o0, o1) of expert e:
// add the bias, then store them, or with SwiGLU (o0 even) one activation per pair.
void finish_row(const Problem& pb, int64_t e, int64_t r, int64_t o0, int64_t o1, float* d) {
  const int64_t nrows = o1 - o0;
  if (pb.bias)
    for (int64_t i = 0; i < nrows; ++i) d[i] += pb.bias[e * pb.out + o0 + i];
  if (pb.swiglu) {
    float* y = pb.y + r * (pb.out / 2) + o0 / 2;
    // Fast mode: a vector exp (about 2e-7 relative) instead of a libm call per value.
    if ((pb.q || pb.gemv_q) && !pb.packed_avx2)
      return swiglu_pairs_avx512(d, nrows / 2, pb.swiglu->alpha, pb.swiglu->limit, y);
    for (int64_t i = 0; i + 1 < nrows; i += 2) y[i / 2] = swiglu_value(d[i], d[i + 1], *pb.swiglu);
  } else {
    std::copy_n(d, nrows, pb.y + r * pb.out + o0);
  }
}

// Experts with at most this many rows take the GEMV path. bench_kernels, fast, 32 experts
// of 5760x2880 per call, CPU ms GEMV vs tile: 2 rows 44-48 vs 75, 4 rows 57-84 vs 70-74,
// 6 rows 89-134 vs 82 (a shared, noisy machine): the int8 GEMV up to 4 rows. The f32 GEMV
// (exact) takes up to 6 rows on AVX-512, where it beats the decoded tile at every count
// (bench_kernels, exact, 32 experts x 2 / 4 / 6 rows: see kernels/cpu/avx512/mxfp4_gemv.cpp).
inline int64_t direct_max_rows(bool int8_gemv, bool avx512) {
  return int8_gemv ? kInt8GemvMaxTokens : avx512 ? kMxfp4GemvMaxTokens : kMxfp4GemvMaxTokensAvx2;
}

// ---- GEMV path: up to 6 rows (AVX-512; 4 on AVX2 and in the int8 GEMV), each weight row decoded in registers ----
// (kernels/cpu/mxfp4_gemv.h; the inputs were put in split order once per call).

void direct_tile(const Problem& pb, int tokens, int64_t e, int64_t row0, int64_t o0, int64_t o1, Scratch& s) {
  const Mxfp4Weight& w = pb.weights[e];
  if (w.packed) {
    s.reserve_dots();
    PackedGemvJob job;
    job.packed = w.packed;
    job.groups = (w.out + kInt8GroupRows - 1) / kInt8GroupRows;
    job.nb = w.in / kMxfp4BlockSize;
    job.x = pb.q;
    job.rows = pb.groups.row_index ? pb.groups.row_index + row0 : nullptr;
    job.row0 = row0;
    job.tokens = tokens;
    job.res = s.dots.data();
    job.res_ld = kTileRows;
    if (pb.packed_avx2) packed_gemv_rows_avx2(job, o0, o1);
    else packed_gemv_rows_avx512(job, o0, o1);
    for (int t = 0; t < tokens; ++t) finish_row(pb, e, row0 + t, o0, o1, s.dots.data() + t * kTileRows);
    return;
  }
  if (pb.gemv_q) {
    const int8_t* q[kInt8GemvMaxTokens];
    const float* xs[kInt8GemvMaxTokens];
    const int32_t* corr[kInt8GemvMaxTokens];
    for (int t = 0; t < tokens; ++t) {
      const int64_t slot = e * kInt8GemvMaxTokens + t;
      q[t] = pb.gemv_q + slot * pb.gemv_pairs * 64;
      xs[t] = pb.gemv_xs + slot * pb.gemv_pairs * 16;
      corr[t] = pb.gemv_corr + slot * pb.gemv_pairs * 16;
    }
    s.reserve_dots();
    const Int8GemvJob job{w.blocks, w.scales, w.stride(), w.in / kMxfp4BlockSize, q, xs, corr, tokens,
                          mxfp4_scale_table().data(), s.dots.data(), kTileRows};
    int8_gemv_rows_avx512(job, o0, o1);
    for (int t = 0; t < tokens; ++t) finish_row(pb, e, row0 + t, o0, o1, s.dots.data() + t * kTileRows);
    return;
  }
  const float* xs[kMxfp4GemvMaxTokens];
  for (int t = 0; t < tokens; ++t) xs[t] = pb.split_x + (e * kMxfp4GemvMaxTokens + t) * pb.in;
  s.reserve_dots();
  const Mxfp4GemvJob job{w.blocks, w.scales, w.stride(), w.in / kMxfp4BlockSize, xs, tokens,
                         mxfp4_scale_table().data(), s.dots.data(), kTileRows};
  if (pb.avx512) mxfp4_gemv_rows_avx512(job, o0, o1);
  else mxfp4_gemv_rows_avx2(job, o0, o1);
  for (int t = 0; t < tokens; ++t) finish_row(pb, e, row0 + t, o0, o1, s.dots.data() + t * kTileRows);
}

// ---- GEMM path: decoded tile x all rows --------------------------------------------------

// Rows [o0, o1) of w as bf16, row-major with stride w.in. Exact: an e2m1 value times a
// power of two has at most 2 significant bits, and bf16 has f32's exponent range, so
// dropping the low half of the f32 bits loses nothing.
void decode_tile_bf16(const Mxfp4Weight& w, int64_t o0, int64_t o1, uint16_t* dst, bool avx512) {
  const auto& st = mxfp4_scale_table();
  if (avx512)
    return decode_tile_bf16_avx512(w.blocks, w.scales, w.stride(), w.in / kMxfp4BlockSize, o0, o1, dst, st.data());
  const int64_t nb = w.in / kMxfp4BlockSize;
  for (int64_t o = o0; o < o1; ++o) {
    const uint8_t* blocks = w.blocks + o * w.stride() * kMxfp4BytesPerBlock;
    const uint8_t* scales = w.scales + o * w.stride();
    uint16_t* d = dst + (o - o0) * w.in;
    for (int64_t g = 0; g < nb; ++g) {
      __m256 v[4];
      mxfp4_decode_block_x2(blocks + g * kMxfp4BytesPerBlock, v);
      const __m256 half_scale = _mm256_set1_ps(0.5f * st[scales[g]]);
#pragma GCC unroll 2
      for (int i = 0; i < 4; i += 2) {
        const __m256i a = _mm256_srli_epi32(_mm256_castps_si256(_mm256_mul_ps(v[i], half_scale)), 16);
        const __m256i b = _mm256_srli_epi32(_mm256_castps_si256(_mm256_mul_ps(v[i + 1], half_scale)), 16);
        // packus interleaves the 128-bit lanes (a0-3 b0-3 a4-7 b4-7): put them back in order.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(a, b), 0xD8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + g * 32 + i * 8), packed);
      }
    }
  }
}

// Rows [r0, r1) of expert e against weight rows [o0, o1): decode the tile once into bf16,
// then the dense bf16 kernels (kernels/cpu/dense_rows.h) multiply it against the expert's
// rows, kRowChunk at a time, into `dots`; then bias and the epilogue. The decoded tile is
// half the bytes an f32 one would be, which is what the micro-kernel streams from L2.
void gemm_tile(const Problem& pb, int64_t e, int64_t r0, int64_t r1, int64_t o0, int64_t o1, Scratch& s) {
  decode_tile_bf16(pb.weights[e], o0, o1, s.tile.data(), pb.avx512);
  const int64_t nrows = o1 - o0;
  const int64_t block = pb.avx512 ? kAvx512PairBlock : kAvx2PairBlock;
  const int64_t x_stride = (pb.in + block - 1) / block * block;
  for (int64_t rc = r0; rc < r1; rc += kRowChunk) {
    const int64_t m = std::min(r1, rc + kRowChunk) - rc;
    // Consecutive tiles of one expert on a thread share the packed rows: chunk j of the
    // expert lives in slot j (an expert with more chunks than slots re-packs the rest).
    const int64_t slot = std::min<int64_t>((rc - r0) / kRowChunk, kPackedSlots - 1);
    float* xp = s.xpanel.data() + slot * kRowChunk * (pb.in + kAvx512PairBlock);
    Scratch::Packed& tag = s.packed[static_cast<size_t>(slot)];
    if (tag.from != rc || tag.rows != m || tag.call != pb.call) {
      for (int64_t t = 0; t < m; ++t) pack_pairs(pb.x_row(rc + t), 1, pb.in, block, xp + t * x_stride, x_stride);
      tag = {rc, m, pb.call};
    }
    DenseRows job;
    job.y = s.dots.data();
    job.y_stride = kTileRows;
    job.x = xp;
    job.x_stride = x_stride;
    job.w = s.tile.data();
    job.w_stride = pb.in;
    job.in = pb.in;
    job.n = m;
    if (pb.avx512) dense_bf16_rows_avx512(job, 0, nrows);
    else dense_bf16_rows_avx2(job, 0, nrows);
    for (int64_t t = 0; t < m; ++t) finish_row(pb, e, rc + t, o0, o1, s.dots.data() + t * kTileRows);
  }
}

// The int8 variant of gemm_tile (kernels/cpu/mxfp4_int8.h): the tile decodes exactly to
// bytes, the rows were quantised once per call, vpdpbusd does the products.
void gemm_tile_int8(const Problem& pb, int64_t e, int64_t r0, int64_t r1, int64_t o0, int64_t o1, Scratch& s) {
  const Mxfp4Weight& w = pb.weights[e];
  const int64_t nb = pb.in / kMxfp4BlockSize;
  if (w.packed)
    decode_tile_packed_avx512(w.packed, (w.out + kInt8GroupRows - 1) / kInt8GroupRows, nb, o0, o1, s.qtile.data(),
                              s.qscale.data());
  else
    decode_tile_int8_avx512(w.blocks, w.scales, w.stride(), nb, o0, o1, mxfp4_scale_table().data(), s.qtile.data(),
                            s.qscale.data());
  Int8TileJob job;
  job.w = s.qtile.data();
  job.wscale = s.qscale.data();
  job.groups = (o1 - o0 + kInt8GroupRows - 1) / kInt8GroupRows;
  job.nb = nb;
  job.x = pb.q;
  job.dots = s.dots.data();
  job.dots_ld = kTileRows;
  for (int64_t rc = r0; rc < r1; rc += kRowChunk) {
    job.rows = pb.groups.row_index ? pb.groups.row_index + rc : nullptr;
    job.row0 = rc;
    job.m = std::min(r1, rc + kRowChunk) - rc;
    int8_tile_rows_avx512(job);
    for (int64_t t = 0; t < job.m; ++t) finish_row(pb, e, rc + t, o0, o1, s.dots.data() + t * kTileRows);
  }
}

// One work item: expert e, weight rows [o0, o1), all of e's input rows.
void run_item(const Problem& pb, int64_t e, int64_t o0, int64_t o1, Scratch& scratch) {
  const int64_t r0 = pb.groups.offsets[e], m = pb.groups.offsets[e + 1] - r0;
  if (pb.packed_avx2) {
    for (int64_t t = 0; t < m; t += kPackedGemvMaxTokens)
      direct_tile(pb, static_cast<int>(std::min<int64_t>(kPackedGemvMaxTokens, m - t)), e, r0 + t, o0, o1, scratch);
    return;
  }
  const int64_t gemv_rows = pb.weights[e].packed ? kPackedGemvMaxTokens : direct_max_rows(pb.gemv_q != nullptr, pb.avx512);
  if (m <= gemv_rows) return direct_tile(pb, static_cast<int>(m), e, r0, o0, o1, scratch);
  if (pb.q) {
    scratch.reserve_int8(pb.in);
    return gemm_tile_int8(pb, e, r0, r0 + m, o0, o1, scratch);
  }
  scratch.reserve(pb.in);
  gemm_tile(pb, e, r0, r0 + m, o0, o1, scratch);
}

uint64_t next_call_id() {
  static std::atomic<uint64_t> calls{0};
  return ++calls;
}

// The source rows of every GEMM-path expert as int8 (once per call, not per tile): all of
// x's rows when any expert has more than kInt8GemvMaxTokens rows (the int8 GEMV's) or the weights are
// packed (whose GEMV reads this layout too), else none (null).
const Int8Rows* quantize_inputs(ThreadPool& pool, const float* x, const ExpertGroups& groups, int64_t in,
                                bool packed, bool avx2) {
  bool any = packed;
  for (int64_t e = 0; e < groups.groups && !any; ++e)
    any = groups.offsets[e + 1] - groups.offsets[e] > kInt8GemvMaxTokens;
  if (!any) return nullptr;
  int64_t sources = groups.rows();
  if (groups.row_index) {
    sources = 0;
    for (int64_t r = 0; r < groups.rows(); ++r) sources = std::max<int64_t>(sources, int64_t{groups.row_index[r]} + 1);
  }
  thread_local std::vector<int8_t> q;
  thread_local std::vector<float> scale;
  thread_local std::vector<int32_t> corr;
  thread_local Int8Rows rows;
  const int64_t nb = in / kMxfp4BlockSize;
  if (q.size() < static_cast<size_t>(sources * in)) q.resize(static_cast<size_t>(sources * in));
  if (scale.size() < static_cast<size_t>(sources * nb)) {
    scale.resize(static_cast<size_t>(sources * nb));
    corr.resize(static_cast<size_t>(sources * nb));
  }
  rows = Int8Rows{q.data(), scale.data(), corr.data(), in};
  // By value: a worker thread naming `rows` would see its own thread_local instance.
  const Int8Rows dst = rows;
  pool.parallel_for(sources, 16, [&](int64_t r0, int64_t r1) {
    if (avx2) quantize_rows_int8_avx2(x, r0, r1, dst);
    else quantize_rows_int8_avx512(x, r0, r1, dst);
  });
  return &rows;
}

}  // namespace

bool grouped_mxfp4_int8_supported(bool allow_avx512) {
  return allow_avx512 && active_isa() == Isa::kAvx512 && cpu_features().avx512_vnni;
}

void grouped_mxfp4(ThreadPool& pool, float* y, const float* x, const ExpertGroups& groups,
                   const Mxfp4Weight* weights, const float* bias, const SwigluEpilogue* swiglu, bool allow_avx512,
                   Precision precision) {
  if (groups.groups <= 0 || groups.rows() <= 0 || weights[0].out <= 0) return;
  const int64_t in = weights[0].in;
  // The rows of GEMV experts in split order, once per call (not once per weight tile).
  // Sized for the worst case at first use, so later steps never allocate.
  thread_local std::vector<float> split;
  const auto split_size = static_cast<size_t>(groups.groups * kMxfp4GemvMaxTokens * in);
  const bool int8 = precision == Precision::kFast && grouped_mxfp4_int8_supported(allow_avx512);
  // Packed weights (kernels/cpu/mxfp4_int8.h) exist only in precision fast; they run the
  // AVX-512 VNNI kernels where those run, else the AVX2 ones.
  const bool packed = weights[0].packed != nullptr;
  if (packed && precision != Precision::kFast)
    GOSSAMER_THROW(kInternal, "grouped_mxfp4: experts repacked for the int8 kernels, but this call is not fast");
  const bool packed_avx2 = packed && !int8;
  const bool avx512 = allow_avx512 && active_isa() == Isa::kAvx512;
  if (!int8 && !packed && split.size() < split_size) split.resize(split_size);
  // Fast mode: the GEMV rows as int8 instead (kernels/cpu/mxfp4_int8.h), same slots.
  thread_local std::vector<int8_t> gemv_q;
  thread_local std::vector<float> gemv_xs;
  thread_local std::vector<int32_t> gemv_corr;
  const int64_t pairs = (in / kMxfp4BlockSize + 1) / 2, slots = groups.groups * kInt8GemvMaxTokens;
  if (int8 && !packed && gemv_q.size() < static_cast<size_t>(slots * pairs * 64)) {
    gemv_q.resize(static_cast<size_t>(slots * pairs * 64));
    gemv_xs.resize(static_cast<size_t>(slots * pairs * 16));
    gemv_corr.resize(static_cast<size_t>(slots * pairs * 16));
  }
  for (int64_t e = 0; e < groups.groups; ++e) {
    const int64_t r0 = groups.offsets[e], m = groups.offsets[e + 1] - r0;
    if (packed || m > direct_max_rows(int8, avx512)) continue;
    for (int64_t t = 0; t < m; ++t) {
      const int64_t r = r0 + t, slot = e * (int8 ? kInt8GemvMaxTokens : kMxfp4GemvMaxTokens) + t;
      const float* xr = x + (groups.row_index ? int64_t{groups.row_index[r]} : r) * in;
      if (int8)
        quantize_gemv_int8_avx512(xr, in, gemv_q.data() + slot * pairs * 64, gemv_xs.data() + slot * pairs * 16,
                                  gemv_corr.data() + slot * pairs * 16);
      else
        mxfp4_split_input(xr, in, split.data() + slot * in);
    }
  }
  const Problem pb{y,
                   x,
                   groups,
                   weights,
                   bias,
                   swiglu,
                   weights[0].out,
                   in,
                   avx512,
                   split.data(),
                   next_call_id(),
                   int8 || packed_avx2 ? quantize_inputs(pool, x, groups, in, packed, packed_avx2) : nullptr,
                   packed_avx2,
                   int8 && !packed ? gemv_q.data() : nullptr,
                   gemv_xs.data(),
                   gemv_corr.data(),
                   pairs};
  const int64_t tiles = (pb.out + kTileRows - 1) / kTileRows;
  // Cost of one tile of expert e ~ rows x (tokens + decode); items are enumerated (e, tile)
  // and chunk c takes those whose start cost falls in [c, c+1) * total / chunks.
  auto tile_cost = [&](int64_t e) {
    const int64_t m = groups.offsets[e + 1] - groups.offsets[e];
    return m == 0 ? 0 : kTileRows * (m + kDecodeCostTokens);
  };
  int64_t total = 0;
  for (int64_t e = 0; e < groups.groups; ++e) total += tile_cost(e) * tiles;
  // Many small chunks handed out through an atomic counter: a thread that is descheduled
  // (a shared box) leaves its share to the others. (parallel_for itself makes at most 4
  // chunks per thread.) Which thread runs a chunk never changes its numbers.
  const int64_t chunks = std::min<int64_t>(int64_t{pool.size()} * 32, std::max<int64_t>(1, total / kTileRows));
  std::atomic<int64_t> next{0};
  pool.parallel_for(pool.size(), 1, [&](int64_t, int64_t) {
    thread_local Scratch scratch;
    for (int64_t chunk = next++; chunk < chunks; chunk = next++) {
      const int64_t lo = total * chunk / chunks, hi = total * (chunk + 1) / chunks;
      int64_t base = 0;
      for (int64_t e = 0; e < groups.groups && base < hi; ++e) {
        const int64_t c = tile_cost(e);
        if (c == 0) continue;
        if (base + c * tiles > lo) {
          // Tiles of e whose start cost base + i*c lies in [lo, hi).
          const int64_t first = std::max<int64_t>(0, (lo - base + c - 1) / c);
          const int64_t last = std::min<int64_t>(tiles, (hi - base + c - 1) / c);
          for (int64_t i = first; i < last; ++i)
            run_item(pb, e, i * kTileRows, std::min(pb.out, (i + 1) * kTileRows), scratch);
        }
        base += c * tiles;
      }
    }
  });
}

}  // namespace gossamer::kernels::cpu
