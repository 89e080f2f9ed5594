#include "worker/dump.h"

#include <set>

#include "core/error.h"
#include "core/npy.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::worker {
namespace {
const std::set<std::string> kNames = {
    "embedding", "attn_norm", "q", "k", "v", "attn_out", "o_proj", "resid_after_attn",
    "mlp_norm", "router_logits", "moe_out", "resid_after_mlp", "final_norm", "logits"};
}

DumpRequest DumpRequest::parse(const std::string& spec) {
  DumpRequest r;
  auto colon = spec.find(':');
  r.name = spec.substr(0, colon);
  if (!kNames.count(r.name))
    GOSSAMER_THROW(kInvalidArgument, "--dump: unknown intermediate '{}'", r.name);
  if (colon != std::string::npos) {
    std::string layer = spec.substr(colon + 1);
    if (layer == "*") {
      r.layer = kAllLayers;
    } else {
      try {
        size_t used = 0;
        r.layer = std::stoi(layer, &used);
        if (used != layer.size() || r.layer < 0) throw std::invalid_argument("");
      } catch (const std::exception&) {
        GOSSAMER_THROW(kInvalidArgument, "--dump {}: layer must be a number >= 0 or '*'", spec);
      }
    }
  }
  return r;
}

DumpSink::DumpSink(std::vector<DumpRequest> requests) : requests_(std::move(requests)) {}

bool DumpSink::wants(const std::string& name, int layer) const {
  for (const auto& r : requests_) {
    if (r.name != name) continue;
    if (r.layer == layer || (r.layer == kAllLayers && layer >= 0) || layer == kNoLayer) return true;
  }
  return false;
}

void DumpSink::put(const std::string& name, int layer, const float* data, int64_t rows,
                   int64_t cols) {
  auto& e = entries_[{name, layer}];
  GOSSAMER_CHECK(e.cols == 0 || e.cols == cols, "dump {} width changed", name);
  e.cols = cols;
  e.rows += rows;
  if (device_ == Device::kCPU) {
    e.data.insert(e.data.end(), data, data + rows * cols);
    return;
  }
#ifdef GOSSAMER_HAVE_CUDA
  const size_t at = e.data.size();
  e.data.resize(at + static_cast<size_t>(rows * cols));
  kernels::cuda::synchronize(stream_);  // the kernels writing `data` ran on that stream
  kernels::cuda::copy_to_host(e.data.data() + at, data, sizeof(float) * static_cast<size_t>(rows * cols));
#else
  GOSSAMER_THROW(kUnsupported, "dump {}: device data in a build without CUDA", name);
#endif
}

void DumpSink::write(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  for (const auto& [key, e] : entries_) {
    std::string file = key.second >= 0 ? key.first + "." + std::to_string(key.second) + ".npy"
                                       : key.first + ".npy";
    write_npy_f32(dir / file, e.data.data(), {e.rows, e.cols});
  }
}

}  // namespace gossamer::worker
