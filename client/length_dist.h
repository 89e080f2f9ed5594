#pragma once
// Length distributions for synthetic load ("fixed:64", "uniform:16:256", "normal:128:32"),
// sampled from a seeded generator so a load test can be repeated exactly.
#include <cstdint>
#include <random>
#include <string>

namespace gossamer::client {

struct LengthDist {
  enum class Kind { kFixed, kUniform, kNormal };
  Kind kind = Kind::kFixed;
  double a = 32;  // fixed: value; uniform: min; normal: mean
  double b = 32;  // uniform: max; normal: standard deviation

  // Throws gossamer::Error(kInvalidArgument) naming the accepted forms.
  static LengthDist parse(const std::string& spec);
  std::string to_string() const;
  // Always >= 1 (a request of zero tokens is not a request).
  int64_t sample(std::mt19937_64& rng) const;
};

}  // namespace gossamer::client
