#include <gtest/gtest.h>

#include "kernels/ref/router.h"
#include "kernels/router.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;

TEST(Router, MatchesReferenceRandom) {
  for (auto [n_experts, k] : {std::pair{32, 4}, std::pair{8, 4}, std::pair{32, 1}, std::pair{5, 5}}) {
    const int64_t n = 17;
    auto logits = test::random_vec(size_t(n * n_experts), uint32_t(n_experts + k), -4.f, 4.f);
    std::vector<int32_t> e(size_t(n * k)), er(e.size());
    std::vector<float> w(e.size()), wr(e.size());
    router_topk_softmax(exec3(), logits.data(), n, n_experts, k, e.data(), w.data());
    ref::router_topk_softmax(logits.data(), n, n_experts, k, er.data(), wr.data());
    EXPECT_EQ(e, er);
    EXPECT_LT(test::rel_err(w, wr), 1e-6);
    for (int64_t t = 0; t < n; ++t) {
      float sum = 0;
      for (int i = 0; i < k; ++i) {
        sum += w[size_t(t * k + i)];
        if (i) {
          EXPECT_GE(logits[size_t(t * n_experts + e[size_t(t * k + i - 1)])],
                    logits[size_t(t * n_experts + e[size_t(t * k + i)])]);
        }
      }
      EXPECT_NEAR(sum, 1.f, 1e-6);
    }
  }
}

TEST(Router, TiesGoToLowerIndexInDescendingOrder) {
  // Experts 1, 3, 4, 6 tie at 2.0; 5 is the largest. Top-4: 5, then 1, 3, 4.
  std::vector<float> l = {0.f, 2.f, -1.f, 2.f, 2.f, 3.f, 2.f, 0.5f};
  std::vector<int32_t> e(4), er(4);
  std::vector<float> w(4), wr(4);
  router_topk_softmax(exec3(), l.data(), 1, 8, 4, e.data(), w.data());
  ref::router_topk_softmax(l.data(), 1, 8, 4, er.data(), wr.data());
  EXPECT_EQ(e, (std::vector<int32_t>{5, 1, 3, 4}));
  EXPECT_EQ(er, e);
  // Softmax over the four selected logits only: e^3 / (e^3 + 3 e^2).
  EXPECT_NEAR(w[0], std::exp(3.0) / (std::exp(3.0) + 3 * std::exp(2.0)), 1e-6);
  EXPECT_FLOAT_EQ(w[1], w[2]);
}

TEST(Router, RejectsKLargerThanExperts) {
  std::vector<float> l(4);
  std::vector<int32_t> e(8);
  std::vector<float> w(8);
  EXPECT_THROW(router_topk_softmax(exec3(), l.data(), 1, 4, 8, e.data(), w.data()), Error);
}

}  // namespace
}  // namespace gossamer::kernels
