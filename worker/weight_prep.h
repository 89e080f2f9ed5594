#pragma once
// Runs the executing backend's load step (kernels/weight_prep.h) over every weight this
// rank holds, once, before the first step: the CPU faults the mapped pages in, CUDA copies
// them to the device. The views in `weights` are replaced by what the backend returns.
#include <string>

#include "kernels/exec.h"
#include "worker/weights.h"

namespace gossamer::worker {

struct PreparedSummary {
  uint64_t bytes = 0;   // faulted in (CPU) or copied to the device (CUDA)
  uint64_t huge_page_bytes = 0;  // CPU: of the process's file mappings, on 2 MB pages
  double seconds = 0;
  std::string packed_experts;  // where the packed experts are (worker/packed_experts.h), "" if not packed
};

// show_progress: a progress bar on a terminal (one log line otherwise), for rank 0.
PreparedSummary prepare_weights(ModelWeights& weights, const kernels::Exec& exec, bool show_progress = false);

}  // namespace gossamer::worker
