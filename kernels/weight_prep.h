#pragma once
// A backend's load step for the weights. Every matrix and vector the kernels read passes
// through here once, after the checkpoint is bound and before the first step, so nothing is
// uploaded, repacked or faulted in while a step runs:
//  * CPU: the view into the mapped checkpoint stays as it is — the CPU kernels read the
//    stored layouts directly (kernels/cpu/mxfp4_gemv.h reorders the few input rows of a
//    decode step, not the weights) — and its pages are faulted in now, so a step never
//    waits on a page fault, or on the disk for a cold file.
//    Precision fast with the int8 expert kernels reads the expert matrices repacked
//    (packed_experts), once, into the layout those kernels read.
//  * CUDA: one copy in device memory, rows packed (a column slice's stride is dropped).
#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "kernels/exec.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels {

class WeightPreparer {
 public:
  explicit WeightPreparer(const Exec& exec) : exec_(exec) {}

  DenseWeight dense(const DenseWeight& w);
  Mxfp4Weight mxfp4(const Mxfp4Weight& w);
  // One expert matrix of every local expert in the packed layout of the int8 kernels
  // (precision fast: cpu::packs_expert_weights), at dst
  // (Σ cpu::packed_mxfp4_bytes bytes, 64-byte aligned): packed now when `pack`, else dst
  // already holds them (a cache file, worker/packed_experts.h) and only faults in. When
  // release_source (views into the read-only checkpoint mapping), the stored pages the
  // packer read are unmapped again, so the packed copy replaces them in memory.
  std::vector<Mxfp4Weight> packed_experts(const std::vector<Mxfp4Weight>& experts, uint8_t* dst, bool pack,
                                          bool release_source);
  // A small f32 tensor (norm gain, bias, sinks): returned as is on the CPU, a device copy
  // on CUDA. An empty tensor stays empty.
  Tensor vector(Tensor host);
  // A table read a few rows at a time (the input embedding): on the CPU its pages are left
  // to fault in on use, since a step reads only its tokens' rows; copied like any other
  // matrix on CUDA.
  DenseWeight gathered_table(const DenseWeight& w);

  uint64_t bytes() const { return bytes_; }  // faulted in (CPU) or copied (CUDA) so far
  // The device copies made so far; the caller keeps them alive as long as the views.
  std::vector<Buffer> take_storage() { return std::move(storage_); }

 private:
  void* device_copy_rows(const void* src, int64_t rows, int64_t row_bytes, int64_t src_stride_bytes);

  Exec exec_;
  uint64_t bytes_ = 0;
  std::vector<Buffer> storage_;
};

// Maps every page of [p, p + n) into the process now (MADV_POPULATE_READ, or a read per
// page where the kernel lacks it). Returns false when neither worked (n == 0: true).
// Asks for transparent huge pages on the range's 2 MB-aligned interior first.
bool prefault_pages(const void* p, size_t n);

// Bytes of this process's file mappings that are mapped with 2 MB pages (FilePmdMapped in
// /proc/self/smaps_rollup; 0 where the file is absent). For the load log.
uint64_t file_huge_page_bytes();

}  // namespace gossamer::kernels
