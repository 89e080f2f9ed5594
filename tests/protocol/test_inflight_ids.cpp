#include <gtest/gtest.h>

#include "protocol/inflight_ids.h"
#include "protocol/server_messages.h"

using namespace gossamer::protocol;

TEST(InflightIds, DuplicatesArePerConnectionAndOnlyWhileLive) {
  InflightIds ids;
  EXPECT_FALSE(ids.begin("connA", "r1"));
  EXPECT_FALSE(ids.begin("connB", "r1"));  // same id, other connection: fine
  auto dup = ids.begin("connA", "r1");
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->code, ErrorCode::kDuplicateId);
  EXPECT_EQ(ids.size(), 2u);
  // The duplicate's error must not terminate the live request that owns the id.
  ErrorReply reply = make_error_reply(*dup);
  EXPECT_FALSE(reply.id);
  EXPECT_EQ(reply.ref, "r1");
  EXPECT_FALSE(is_terminal(ServerMessage{reply}));

  EXPECT_TRUE(ids.finish("connA", "r1"));
  EXPECT_FALSE(ids.finish("connA", "r1"));  // second terminal reply would be a bug
  EXPECT_FALSE(ids.begin("connA", "r1"));   // reuse after its terminal reply
}

TEST(InflightIds, CancelOfUnknownIdAndDisconnect) {
  InflightIds ids;
  auto err = ids.check_cancel("c", "nope");
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::kUnknownId);
  EXPECT_FALSE(make_error_reply(*err).id);  // not terminal: nothing was running
  ASSERT_FALSE(ids.begin("c", "a"));
  ASSERT_FALSE(ids.begin("c", "b"));
  EXPECT_FALSE(ids.check_cancel("c", "a"));
  auto dropped = ids.drop_connection("c");
  EXPECT_EQ(dropped, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_TRUE(ids.check_cancel("c", "a"));
}

TEST(InflightIds, RefusedSubmitReusingALiveIdDoesNotTerminateIt) {
  InflightIds ids;
  ASSERT_FALSE(ids.begin("c", "live"));
  Error bad_params{ErrorCode::kBadRequest, "params.top_k: must be >= 0", "live", "submit"};
  ErrorReply r = ids.error_reply("c", bad_params);
  EXPECT_FALSE(r.id);
  EXPECT_EQ(r.ref, "live");
  // The same refusal for an id that is not live is that request's terminal reply.
  Error other{ErrorCode::kBadRequest, "x", "fresh", "submit"};
  EXPECT_EQ(ids.error_reply("c", other).id, "fresh");
  EXPECT_EQ(ids.error_reply("other-conn", bad_params).id, "live");
}
