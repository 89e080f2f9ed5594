// Bad frames over a real socket: each gets a structured error and the server (here the
// fixture, which uses the real parser) keeps serving the same connection.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/stream.h"
#include "fixture_server.h"

using namespace gossamer;
using namespace gossamer::client;

TEST(BadFrames, EachGetsItsErrorAndTheConnectionKeepsWorking) {
  test::FixtureServerOptions o;
  o.limits.max_frame_bytes = 1024;
  test::FixtureServer server(o);
  Client client(server.endpoint());
  const std::vector<std::pair<std::string, protocol::ErrorCode>> cases = {
      {"not json", protocol::ErrorCode::kBadJson},
      {R"({"v":1,"type":"launch"})", protocol::ErrorCode::kUnknownType},
      {R"({"v":9,"type":"health"})", protocol::ErrorCode::kUnsupportedVersion},
      {"{\"v\":1,\"type\":\"submit\",\"id\":\"a\",\"prompt\":\"\xFF\"}", protocol::ErrorCode::kInvalidUtf8},
      {R"({"v":1,"type":"submit","id":"b","prompt":"x","params":{"top_p":2}})", protocol::ErrorCode::kBadRequest},
      {std::string(2000, ' '), protocol::ErrorCode::kTooLarge},
  };
  for (const auto& [frame, code] : cases) {
    client.send_raw(frame);
    auto m = client.poll(Millis(2000));
    ASSERT_TRUE(m) << "no reply to: " << frame.substr(0, 60);
    const auto* e = std::get_if<protocol::ErrorReply>(&*m);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, code) << e->message;
  }
  protocol::Submit s;
  s.prompt = "still alive";
  StreamResult r = collect_stream(client, client.submit(s));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.final, "still alive");
}
