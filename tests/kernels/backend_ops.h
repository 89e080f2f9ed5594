#pragma once
// The backend-ops table: every kernel op, on every backend, against its kernels/ref/
// oracle over a grid of shapes (test_backend_ops.cpp prints op / backend / shapes / max
// error, and which ops a backend lacks).
//
// An op joins the table with one static registration in any tests/kernels/*.cpp:
//
//   static const test::BackendOpRegistration kMyOp{{
//       "my_op", /*tolerance=*/1e-6, {Device::kCPU},
//       [](const Exec& exec) { ...; return std::vector<test::ShapeError>{...}; }}};
//
// `run` executes the whole grid on `exec` and on the oracle and returns one error per
// shape (relative L2 error for float outputs; kMismatch when integer outputs differ).
// Pointers handed to kernels must live on exec.device: runners copy their inputs there
// with test::OnDevice (on_device.h), which is the host vector itself on the CPU.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "kernels/exec.h"

namespace gossamer::kernels::test {

struct ShapeError {
  std::string shape;  // e.g. "n=7 dim=96"
  double error = 0;
};

// Integer outputs (expert ids, row indices) must match exactly.
inline constexpr double kMismatch = std::numeric_limits<double>::infinity();

struct BackendOp {
  std::string name;
  double tolerance = 0;                // the largest error any shape may have
  std::vector<Device> backends;        // devices this op has a runner for
  std::function<std::vector<ShapeError>(const Exec&)> run;
  // The CUDA backend's bound where it computes in lower precision by design (bf16
  // activations into cuBLAS); < 0 means `tolerance`.
  double cuda_tolerance = -1;
  double tolerance_on(Device d) const { return d == Device::kCUDA && cuda_tolerance >= 0 ? cuda_tolerance : tolerance; }
};

// Every registered op, in registration order across files (not specified: sort by name).
inline std::vector<BackendOp>& backend_ops() {
  static std::vector<BackendOp> ops;
  return ops;
}

struct BackendOpRegistration {
  explicit BackendOpRegistration(BackendOp op) { backend_ops().push_back(std::move(op)); }
};

}  // namespace gossamer::kernels::test
