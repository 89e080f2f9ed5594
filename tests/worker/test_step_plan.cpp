// StepPlan: round trips, and bad bytes always give kCorruptData, never a crash.
#include <gtest/gtest.h>

#include <random>

#include "comm/communicator.h"
#include "core/error.h"
#include "worker/step_plan.h"

namespace gossamer::worker {
namespace {

StepPlan sample_plan() {
  StepPlan p;
  p.step = 123456789012ull;
  p.command = StepCommand::kRun;
  SequencePlan prefill;
  prefill.seq_id = 7;
  prefill.start_pos = 0;
  prefill.token_ids = {200006, 17360, 200008, 3, -0};
  prefill.block_table = {4, 9};
  prefill.sampling = {0.7f, 40, 0.95f, 0xdeadbeefcafef00dull};
  prefill.is_prefill = true;
  SequencePlan decode;
  decode.seq_id = 8;
  decode.start_pos = 511;
  decode.token_ids = {42};
  decode.block_table = {0, 1, 2, 3, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                        21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33};
  // Sliding-window layers: blocks no query of the chunk sees are -1 (handed back).
  decode.window_block_table = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                               -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 40, 41, 42, 43, 44};
  decode.want_logits = true;
  SequencePlan empty_chunk;  // a sequence with no tokens this step still round-trips
  empty_chunk.seq_id = 1ll << 40;
  p.sequences = {prefill, decode, empty_chunk};
  return p;
}

ErrorCode code_of(std::span<const uint8_t> bytes) {
  try {
    StepPlan::deserialize(bytes);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;  // "no error" marker
}

TEST(StepPlan, RoundTrip) {
  const StepPlan p = sample_plan();
  const auto bytes = p.serialize();
  EXPECT_EQ(StepPlan::deserialize(bytes), p);
  EXPECT_EQ(p.num_tokens(), 6);

  StepPlan shutdown;
  shutdown.step = 9;
  shutdown.command = StepCommand::kShutdown;
  const auto sb = shutdown.serialize();
  EXPECT_EQ(sb.size(), StepPlan::kHeaderBytes);
  EXPECT_EQ(StepPlan::deserialize(sb), shutdown);
}

TEST(StepPlan, EveryTruncationIsAnError) {
  const auto bytes = sample_plan().serialize();
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_EQ(code_of(std::span(bytes.data(), n)), ErrorCode::kCorruptData) << "length " << n;
  auto longer = bytes;
  longer.push_back(0);
  EXPECT_EQ(code_of(longer), ErrorCode::kCorruptData);
}

TEST(StepPlan, HeaderErrorsSayWhat) {
  auto bytes = sample_plan().serialize();
  auto expect_message = [](std::vector<uint8_t> b, const std::string& needle) {
    try {
      StepPlan::deserialize(b);
      ADD_FAILURE() << "accepted bytes that should mention " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruptData);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  auto b = bytes; b[0] ^= 1; expect_message(b, "bad magic");
  b = bytes; b[4] = 1; expect_message(b, "version 1");
  b = bytes; b[6] = 9; expect_message(b, "unknown command 9");
  b = bytes; b.back() ^= 0x40; expect_message(b, "checksum");
  b = bytes; b.resize(40); expect_message(b, "body bytes");
}

TEST(StepPlan, EveryBitFlipIsRejected) {
  // The checksum covers header and body, so no single flipped bit decodes to a plan.
  const auto bytes = sample_plan().serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      auto b = bytes;
      b[i] ^= static_cast<uint8_t>(1u << bit);
      EXPECT_EQ(code_of(b), ErrorCode::kCorruptData) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(StepPlan, RandomBytesNeverCrash) {
  std::mt19937_64 rng(1234);
  const auto good = sample_plan().serialize();
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<uint8_t> b;
    if (trial % 2 == 0) {
      // Pure noise, sometimes with a valid magic/version so parsing goes deeper.
      b.resize(rng() % 200);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      if (b.size() >= 8 && trial % 4 == 0) std::copy(good.begin(), good.begin() + 8, b.begin());
    } else {
      // A valid record with a few random bytes overwritten (lengths and counts included).
      b = good;
      for (int k = 0; k < 3; ++k) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    }
    try {
      StepPlan::deserialize(b);
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::kCorruptData) << e.what();
    }
  }
}

TEST(StepPlan, SerializeRejectsBadFields) {
  auto p = sample_plan();
  p.sequences[1].sampling.top_p = 0.0f;
  EXPECT_THROW(p.serialize(), Error);
  p = sample_plan();
  p.sequences[0].sampling.temperature = -1.0f;
  EXPECT_THROW(p.serialize(), Error);
  p = sample_plan();
  p.sequences[0].block_table[1] = -1;  // only the window table may hold dropped blocks
  EXPECT_THROW(p.serialize(), Error);
  p = sample_plan();
  p.sequences[1].window_block_table[0] = -2;
  EXPECT_THROW(p.serialize(), Error);
  p = sample_plan();
  p.sequences[0].start_pos = -3;
  try {
    p.serialize();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("start_pos -3"), std::string::npos) << e.what();
  }
}

TEST(StepPlan, BroadcastOnAGroupOfOne) {
  auto comm = comm::make_local_communicator("world");
  StepPlan p = sample_plan();
  broadcast_step_plan(*comm, &p);
  EXPECT_EQ(p, sample_plan());
}

}  // namespace
}  // namespace gossamer::worker
