// Inputs fuzz/fuzz_protocol.cpp found, kept as plain tests so the normal suite guards them.
#include <gtest/gtest.h>

#include "protocol/parse.h"

using namespace gossamer::protocol;

// A number no double holds, in a frame from the server: a refused frame with a named
// code, not the `internal` the client library's catch-all gave (the fuzzer's input first,
// then the same fault inside a well-formed message).
TEST(FuzzRegressions, ServerFrameWithOverflowingNumberIsBadRequest) {
  for (const char* frame : {"211111111E2222{\"v\": 1}", R"({"v":1,"type":"accepted","id":"x","n":1e999})"}) {
    auto m = parse_server_message(frame);
    ASSERT_FALSE(m.ok()) << frame;
    EXPECT_EQ(m.error().code, ErrorCode::kBadRequest) << frame << ": " << m.error().message;
    EXPECT_NE(m.error().message.find("out of range"), std::string::npos) << m.error().message;
  }
}

TEST(FuzzRegressions, ClientFrameWithOverflowingNumberIsBadRequest) {
  auto m = parse_client_message("211111111E2222{\"v\": 1}");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, ErrorCode::kBadRequest) << m.error().message;
}
