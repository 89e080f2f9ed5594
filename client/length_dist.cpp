#include "client/length_dist.h"

#include <cmath>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace gossamer::client {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string p; std::getline(in, p, sep);) parts.push_back(p);
  return parts;
}

double number(const std::string& text, const std::string& spec) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v >= 0) return v;
  } catch (const std::exception&) {
  }
  GOSSAMER_THROW(kInvalidArgument, "length distribution '{}': '{}' is not a non-negative number", spec, text);
}

}  // namespace

LengthDist LengthDist::parse(const std::string& spec) {
  const std::vector<std::string> p = split(spec, ':');
  LengthDist d;
  if (p.size() == 2 && p[0] == "fixed") {
    d.kind = Kind::kFixed;
    d.a = d.b = number(p[1], spec);
  } else if (p.size() == 3 && p[0] == "uniform") {
    d.kind = Kind::kUniform;
    d.a = number(p[1], spec);
    d.b = number(p[2], spec);
    if (d.b < d.a) GOSSAMER_THROW(kInvalidArgument, "length distribution '{}': max < min", spec);
  } else if (p.size() == 3 && p[0] == "normal") {
    d.kind = Kind::kNormal;
    d.a = number(p[1], spec);
    d.b = number(p[2], spec);
  } else if (p.size() == 1 && !spec.empty()) {
    d.kind = Kind::kFixed;  // a bare number means fixed
    d.a = d.b = number(p[0], spec);
  } else {
    GOSSAMER_THROW(kInvalidArgument,
                   "length distribution '{}': expected N, fixed:N, uniform:MIN:MAX or normal:MEAN:STD", spec);
  }
  return d;
}

std::string LengthDist::to_string() const {
  std::ostringstream s;
  switch (kind) {
    case Kind::kFixed: s << "fixed:" << a; break;
    case Kind::kUniform: s << "uniform:" << a << ":" << b; break;
    case Kind::kNormal: s << "normal:" << a << ":" << b; break;
  }
  return s.str();
}

int64_t LengthDist::sample(std::mt19937_64& rng) const {
  double v = a;
  if (kind == Kind::kUniform) {
    v = static_cast<double>(std::uniform_int_distribution<int64_t>(
        static_cast<int64_t>(a), static_cast<int64_t>(b))(rng));
  } else if (kind == Kind::kNormal) {
    v = std::round(std::normal_distribution<double>(a, b)(rng));
  }
  return std::max<int64_t>(1, static_cast<int64_t>(v));
}

}  // namespace gossamer::client
