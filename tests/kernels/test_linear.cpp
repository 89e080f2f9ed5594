// linear (bf16 / f32 weights) and embedding_lookup against the double-precision oracle.
#include <gtest/gtest.h>

#include "kernels/linear.h"
#include "kernels/ref/linear.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

// f32 accumulation over up to ~1000 terms vs double: ~1e-6 relative in practice.
constexpr double kLinearTol = 2e-6;

struct LinearCase {
  int64_t n, out, in;
  DType dtype;
  bool bias;
};

void PrintTo(const LinearCase& c, std::ostream* os) {
  *os << "n=" << c.n << " out=" << c.out << " in=" << c.in << " " << dtype_name(c.dtype)
      << (c.bias ? " +bias" : "");
}

class LinearTest : public ::testing::TestWithParam<LinearCase> {};

TEST_P(LinearTest, MatchesReference) {
  const auto c = GetParam();
  auto x = test::random_vec(size_t(c.n * c.in), 1);
  auto b = test::random_vec(size_t(c.out), 2);
  auto wb = test::random_bf16(size_t(c.out * c.in), 3);
  auto wf = test::random_vec(size_t(c.out * c.in), 3);
  DenseWeight w{c.dtype == DType::kBF16 ? static_cast<const void*>(wb.data()) : wf.data(), c.dtype,
                c.out, c.in, 0};
  std::vector<float> y(size_t(c.n * c.out), -7.f), yr(y.size());
  linear(exec3(), y.data(), x.data(), c.n, w, c.bias ? b.data() : nullptr);
  ref::linear(yr.data(), x.data(), c.n, w, c.bias ? b.data() : nullptr);
  EXPECT_LT(rel_err(y, yr), kLinearTol);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LinearTest,
    ::testing::Values(LinearCase{1, 37, 29, DType::kBF16, true}, LinearCase{3, 37, 29, DType::kBF16, false},
                      LinearCase{17, 37, 29, DType::kBF16, true}, LinearCase{1, 130, 1000, DType::kBF16, true},
                      LinearCase{3, 130, 1000, DType::kBF16, true}, LinearCase{17, 131, 257, DType::kBF16, true},
                      LinearCase{4, 64, 256, DType::kBF16, true}, LinearCase{1, 513, 64, DType::kBF16, false},
                      LinearCase{1, 37, 29, DType::kF32, true}, LinearCase{17, 131, 257, DType::kF32, true},
                      LinearCase{5, 1, 7, DType::kF32, true},
                      // several L2 tiles per thread, and a 4-row remainder path
                      LinearCase{3, 1103, 2880, DType::kBF16, true}));

// A column slice of a wider matrix through row_stride (tensor-parallel o_proj).
TEST(Linear, RowStrideSlice) {
  const int64_t out = 19, full_in = 100, in = 41, off = 24, n = 5;
  auto wb = test::random_bf16(size_t(out * full_in), 5);
  auto x = test::random_vec(size_t(n * in), 6);
  DenseWeight w{wb.data() + off, DType::kBF16, out, in, full_in};
  std::vector<float> y(size_t(n * out)), yr(y.size());
  linear(exec3(), y.data(), x.data(), n, w, nullptr);
  // Oracle over an explicit contiguous copy of the slice.
  std::vector<uint16_t> sub(size_t(out * in));
  for (int64_t r = 0; r < out; ++r)
    for (int64_t c = 0; c < in; ++c) sub[size_t(r * in + c)] = wb[size_t(r * full_in + off + c)];
  ref::linear(yr.data(), x.data(), n, DenseWeight{sub.data(), DType::kBF16, out, in, 0}, nullptr);
  EXPECT_LT(rel_err(y, yr), kLinearTol);
}

TEST(Linear, RejectsUnsupportedDtype) {
  float dummy = 0;
  DenseWeight w{&dummy, DType::kI32, 1, 1, 0};
  EXPECT_THROW(linear(exec3(), &dummy, &dummy, 1, w, nullptr), Error);
}

TEST(Embedding, ExactRowsBf16AndF32) {
  const int64_t rows = 50, dim = 37;
  auto tb = test::random_bf16(size_t(rows * dim), 7);
  auto tf = test::random_vec(size_t(rows * dim), 8);
  std::vector<int32_t> ids = {3, 0, 49, 3, 17};
  for (DType dt : {DType::kBF16, DType::kF32}) {
    DenseWeight t{dt == DType::kBF16 ? static_cast<const void*>(tb.data()) : tf.data(), dt, rows, dim, 0};
    std::vector<float> out(ids.size() * size_t(dim)), ref_out(out.size());
    embedding_lookup(exec3(), out.data(), t, ids.data(), int64_t(ids.size()));
    ref::embedding_lookup(ref_out.data(), t, ids.data(), int64_t(ids.size()));
    EXPECT_EQ(out, ref_out);
    EXPECT_EQ(out[0], ref::dense_at(t, 3, 0));
  }
}

TEST(Embedding, RejectsOutOfRangeId) {
  auto tb = test::random_bf16(10 * 4, 7);
  DenseWeight t{tb.data(), DType::kBF16, 10, 4, 0};
  int32_t id = 10;
  std::vector<float> out(4);
  EXPECT_THROW(embedding_lookup(exec3(), out.data(), t, &id, 1), Error);
}

}  // namespace
}  // namespace gossamer::kernels
