#pragma once
// A tiny gtest-free harness for tests that run under mpirun: every rank counts its own
// checks and failures, and the totals are summed over the world at the end so that all
// ranks agree on the exit code.
#include <string>

#include <fmt/format.h>

namespace gossamer::comm::test {

class Checker {
 public:
  explicit Checker(int rank) : rank_(rank) {}
  // Records one check; prints the failure with this rank's number.
  bool expect(bool ok, const std::string& what) {
    ++checks_;
    if (!ok) {
      ++failures_;
      fmt::print(stderr, "rank {}: FAIL {}\n", rank_, what);
    }
    return ok;
  }
  int checks() const { return checks_; }
  int failures() const { return failures_; }
  int rank() const { return rank_; }

 private:
  int rank_;
  int checks_ = 0, failures_ = 0;
};

}  // namespace gossamer::comm::test
