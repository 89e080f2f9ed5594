#include "kernels/weight_prep.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"
#include "core/mxfp4.h"
#include "kernels/cpu/mxfp4_pack.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#endif

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14; older kernels answer EINVAL and we touch pages
#endif

namespace gossamer::kernels {

bool prefault_pages(const void* p, size_t n) {
  if (p == nullptr || n == 0) return true;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + n;
  // Ask for 2 MB pages first: pages still to be read from disk then come in as large
  // folios that map with one TLB entry per 2 MB (the GEMVs stream every weight byte once
  // per token). Pages already cached in 4 KB folios stay as they are; the load log says how
  // much is mapped huge (file_huge_page_bytes). Failure only means no huge pages.
  {
    constexpr uintptr_t kHuge = uintptr_t{2} << 20;
    const uintptr_t hb = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1), he = end & ~(kHuge - 1);
    if (he > hb) ::madvise(reinterpret_cast<void*>(hb), he - hb, MADV_HUGEPAGE);
  }
  if (::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ) == 0) return true;
  // A read of one byte per page faults each in (the volatile sink keeps the loads).
  volatile uint8_t sink = 0;
  for (uintptr_t a = begin; a < end; a += page) sink = sink + *reinterpret_cast<const volatile uint8_t*>(a);
  (void)sink;
  return true;
}

uint64_t file_huge_page_bytes() {
  std::FILE* f = std::fopen("/proc/self/smaps_rollup", "r");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1) break;
  std::fclose(f);
  return uint64_t{kb} * 1024;
}

void* WeightPreparer::device_copy_rows(const void* src, int64_t rows, int64_t row_bytes, int64_t src_stride_bytes) {
#ifdef GOSSAMER_HAVE_CUDA
  const auto bytes = static_cast<size_t>(rows * row_bytes);
  Buffer dev(bytes, Device::kCUDA);
  if (src_stride_bytes == row_bytes) {
    cuda::copy_to_device(dev.data(), src, bytes);
  } else {
    // A column slice: pack its rows on the host first, one copy to the device.
    std::vector<uint8_t> packed(bytes);
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(packed.data() + r * row_bytes, static_cast<const uint8_t*>(src) + r * src_stride_bytes,
                  static_cast<size_t>(row_bytes));
    cuda::copy_to_device(dev.data(), packed.data(), bytes);
  }
  bytes_ += bytes;
  void* p = dev.data();
  storage_.push_back(std::move(dev));
  return p;
#else
  (void)src, (void)rows, (void)row_bytes, (void)src_stride_bytes;
  unsupported_device("weight upload", exec_);
#endif
}

DenseWeight WeightPreparer::dense(const DenseWeight& w) {
  if (w.data == nullptr || w.out == 0) return w;
  const auto es = static_cast<int64_t>(dtype_bytes(w.dtype, 1));
  if (exec_.device == Device::kCPU) {
    // Rows of a column slice are spread over the full stride: fault the whole span.
    const auto span = static_cast<size_t>(((w.out - 1) * w.stride() + w.in) * es);
    prefault_pages(w.data, span);
    bytes_ += span;
    return w;
  }
  DenseWeight d = w;
  d.data = device_copy_rows(w.data, w.out, w.in * es, w.stride() * es);
  d.row_stride = 0;
  return d;
}

DenseWeight WeightPreparer::gathered_table(const DenseWeight& w) {
  return exec_.device == Device::kCPU ? w : dense(w);
}

namespace {

// The stored bytes of w: its blocks and scales (a column slice's rows are spread over the
// full stride, so the span runs from the first row's start to the last row's end).
struct StoredSpans {
  size_t blocks, scales;
};
StoredSpans stored_spans(const Mxfp4Weight& w) {
  const int64_t nb = w.in / kMxfp4BlockSize, stride = w.stride();
  return {static_cast<size_t>(((w.out - 1) * stride + nb) * kMxfp4BytesPerBlock),
          static_cast<size_t>((w.out - 1) * stride + nb)};
}

}  // namespace

Mxfp4Weight WeightPreparer::mxfp4(const Mxfp4Weight& w) {
  if (w.blocks == nullptr || w.out == 0) return w;
  const int64_t nb = w.in / kMxfp4BlockSize, stride = w.stride();
  if (exec_.device == Device::kCPU) {
    const StoredSpans span = stored_spans(w);
    prefault_pages(w.blocks, span.blocks);
    prefault_pages(w.scales, span.scales);
    bytes_ += span.blocks + span.scales;
    return w;
  }
  Mxfp4Weight d = w;
  d.blocks = static_cast<const uint8_t*>(
      device_copy_rows(w.blocks, w.out, nb * kMxfp4BytesPerBlock, stride * kMxfp4BytesPerBlock));
  d.scales = static_cast<const uint8_t*>(device_copy_rows(w.scales, w.out, nb, stride));
  d.blocks_stride = 0;
  return d;
}

namespace {

// Unmaps the whole pages inside [p, p + n) of a read-only file mapping: they leave this
// process's memory and come back from the page cache (or the file) if ever read again.
void release_pages(const void* p, size_t n) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

std::vector<Mxfp4Weight> WeightPreparer::packed_experts(const std::vector<Mxfp4Weight>& experts, uint8_t* dst,
                                                        bool pack, bool release_source) {
  std::vector<Mxfp4Weight> out;
  out.reserve(experts.size());
  for (const auto& w : experts) {
    const auto bytes = static_cast<size_t>(cpu::packed_mxfp4_bytes(w));
    if (pack) {
      // The stored bytes faulted in first (one sequential read ahead of the packer).
      const StoredSpans span = stored_spans(w);
      prefault_pages(w.blocks, span.blocks);
      prefault_pages(w.scales, span.scales);
      cpu::pack_mxfp4(exec_.threads(), w, dst);
      if (release_source) {
        release_pages(w.blocks, span.blocks);
        release_pages(w.scales, span.scales);
      }
    } else {
      prefault_pages(dst, bytes);
    }
    Mxfp4Weight p = w;
    p.packed = dst;
    out.push_back(p);
    dst += bytes;
    bytes_ += bytes;
  }
  return out;
}

Tensor WeightPreparer::vector(Tensor host) {
  if (exec_.device == Device::kCPU || host.numel() == 0) return host;
#ifdef GOSSAMER_HAVE_CUDA
  Tensor dev(host.view().dtype, host.shape(), Device::kCUDA);
  const size_t bytes = dtype_bytes(host.view().dtype, static_cast<size_t>(host.numel()));
  cuda::copy_to_device(dev.as<void>(), host.as<void>(), bytes);
  bytes_ += bytes;
  return dev;
#else
  unsupported_device("weight upload", exec_);
#endif
}

}  // namespace gossamer::kernels
