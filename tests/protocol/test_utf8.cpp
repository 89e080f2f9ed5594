#include <gtest/gtest.h>

#include "protocol/utf8.h"

using gossamer::protocol::find_invalid_utf8;
using gossamer::protocol::is_valid_utf8;

TEST(Utf8, AcceptsWellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));               // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));               // €
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));           // U+1F600
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));           // U+10FFFF, the last one
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBD"));               // U+FFFD
}

TEST(Utf8, RejectsMalformedAtTheRightOffset) {
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);               // lone continuation
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);             // overlong '/'
  EXPECT_EQ(find_invalid_utf8("\xC1\xBF"), 0u);             // overlong
  EXPECT_EQ(find_invalid_utf8("\xE0\x80\xAF"), 0u);         // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xF0\x80\x80\xAF"), 0u);     // overlong 4-byte
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);        // surrogate U+D800
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);     // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("\xF5\x80\x80\x80"), 0u);     // invalid lead
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
  EXPECT_EQ(find_invalid_utf8("ok\xE2\x82"), 2u);           // truncated at end
  EXPECT_EQ(find_invalid_utf8("\xE2\x28\xA1"), 0u);         // bad continuation
}
