// run_submit and run_chat, the functions the CLI verbs wrap, against the fixture.
#include <gtest/gtest.h>

#include <sstream>

#include "client/chat.h"
#include "client/submit.h"
#include "core/error.h"
#include "fixture_server.h"

using namespace gossamer;
using namespace gossamer::client;

TEST(RunSubmit, PrintsTheStreamedFinalText) {
  test::FixtureServer server;
  SubmitOptions o;
  o.endpoint = server.endpoint();
  o.prompt = "hello streaming world";
  std::ostringstream out, err;
  EXPECT_EQ(run_submit(o, out, err), kExitOk) << err.str();
  EXPECT_EQ(out.str(), "hello streaming world\n");
  o.show_thinking = true;
  std::ostringstream out2, err2;
  EXPECT_EQ(run_submit(o, out2, err2), kExitOk);
  EXPECT_EQ(err2.str(), "Echo the input.");
}

TEST(RunSubmit, JsonModePrintsOneDocument) {
  test::FixtureServer server;
  SubmitOptions o;
  o.endpoint = server.endpoint();
  o.messages_json = R"([{"role":"system","content":"s"},{"role":"user","content":"one two three"}])";
  o.params.max_tokens = 2;
  o.json = true;
  std::ostringstream out, err;
  EXPECT_EQ(run_submit(o, out, err), kExitOk) << err.str();
  nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["output"]["final"], "one two");
  EXPECT_EQ(j["finish_reason"], "length");
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);  // 3 analysis + 2 final
  EXPECT_TRUE(j["timings"].contains("client_ttft_ms"));
}

TEST(RunSubmit, NonStreamRequestPrintsTheWholeText) {
  test::FixtureServer server;
  SubmitOptions o;
  o.endpoint = server.endpoint();
  o.prompt = "all at once";
  o.params.stream = false;
  std::ostringstream out, err;
  EXPECT_EQ(run_submit(o, out, err), kExitOk) << err.str();
  EXPECT_EQ(out.str(), "all at once\n");
}

TEST(RunSubmit, InvalidRequestIsCaughtLocallyWithTheServersWords) {
  SubmitOptions o;
  o.endpoint = "tcp://127.0.0.1:1";  // never contacted
  o.messages_json = R"([{"role":"wizard","content":"x"}])";
  std::ostringstream out, err;
  EXPECT_EQ(run_submit(o, out, err), kExitUsage);
  EXPECT_NE(err.str().find("messages[0].role"), std::string::npos) << err.str();
  SubmitOptions latin1;
  latin1.prompt = "caf\xE9";
  EXPECT_EQ(run_submit(latin1, out, err), kExitUsage);
  EXPECT_NE(err.str().find("UTF-8"), std::string::npos) << err.str();
  SubmitOptions none;
  EXPECT_EQ(run_submit(none, out, err), kExitUsage);
}

TEST(RunSubmit, ServerErrorAndTimeoutGiveDistinctExitCodes) {
  test::FixtureServerOptions fo;
  fo.limits.max_tokens = 10;
  test::FixtureServer strict(fo);
  SubmitOptions o;
  o.endpoint = strict.endpoint();
  o.prompt = "x";
  o.params.max_tokens = 11;  // valid locally, above this server's limit
  std::ostringstream out, err;
  EXPECT_EQ(run_submit(o, out, err), kExitServerError);
  EXPECT_NE(err.str().find("bad_request"), std::string::npos) << err.str();

  fo.silent = true;
  test::FixtureServer silent(fo);
  o.endpoint = silent.endpoint();
  o.params.max_tokens = 1;
  o.idle_timeout = Millis(150);
  std::ostringstream out2, err2;
  EXPECT_EQ(run_submit(o, out2, err2), kExitTransport);
  EXPECT_NE(err2.str().find("no reply"), std::string::npos) << err2.str();
}

TEST(Chat, KeepsTheConversationAcrossTurns) {
  test::FixtureServer server;
  ChatOptions o;
  o.endpoint = server.endpoint();
  o.system = "be kind";
  o.prompts = false;
  std::istringstream in("first question\nsecond question\n/reset\nthird\n/quit\nnever sent\n");
  std::ostringstream out;
  EXPECT_EQ(run_chat(o, in, out), kExitOk);
  EXPECT_EQ(out.str(), "first question\nsecond question\n(conversation cleared)\nthird\n");
  // After /reset the history is [system, user]; before it, the 2nd turn sent
  // [system, user, assistant, user]. The fixture remembers the last one.
  EXPECT_EQ(server.last_message_count(), 2);
  EXPECT_EQ(server.submits_seen(), 3);
}

TEST(Chat, ConversationHistoryShape) {
  Conversation c("sys");
  c.add_user("hi");
  c.add_assistant("hello", "they greeted me");
  c.add_user("bye");
  ASSERT_EQ(c.messages().size(), 4u);
  EXPECT_EQ(c.messages()[2].role, protocol::Role::kAssistant);
  EXPECT_EQ(c.messages()[2].thinking, "they greeted me");
  c.drop_last();
  EXPECT_EQ(c.messages().size(), 3u);
  c.reset();
  EXPECT_EQ(c.messages().size(), 1u);
  c.drop_last();  // never drops the system message
  EXPECT_EQ(c.messages().size(), 1u);
}

TEST(RunSubmit, TokenListFlag) {
  EXPECT_EQ(parse_token_list("1,2, 3"), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(parse_token_list("0"), (std::vector<int32_t>{0}));
  EXPECT_THROW(parse_token_list("1,,2"), Error);
  EXPECT_THROW(parse_token_list("-1"), Error);
  EXPECT_THROW(parse_token_list("a"), Error);
  EXPECT_THROW(parse_token_list(""), Error);
}
