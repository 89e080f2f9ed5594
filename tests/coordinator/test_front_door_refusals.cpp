// Every way the front door refuses a submit ends the request with exactly one terminal
// reply carrying `id` (docs/PROTOCOL.md, "Exactly one terminal reply"), and the id is free
// again afterwards; refusals that must not end a request carry `ref` instead. The front door
// runs in-process on a real ROUTER socket, with the real gpt-oss tokenizer; nothing drains
// its inbox, so an accepted request just stays queued (the step thread is not under test).
#include <gtest/gtest.h>

#include <cstdlib>

#include "front_door_fixture.h"
#include "protocol/encode.h"
#include "protocol/server_messages.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

coordinator::FrontDoorOptions refusal_options() {
  coordinator::FrontDoorOptions o;
  o.limits.context_length = 64;
  o.model_vocab = 201088;
  return o;
}

// A refusal that ends request `id`: terminal, carries the id, and the id can be used again
// at once (the front door no longer holds it in flight).
void expect_terminal_and_id_free(Door& d, const std::string& id, protocol::ErrorCode code) {
  const auto e = d.next_error();
  EXPECT_EQ(protocol::error_code_string(e.code), std::string(protocol::error_code_string(code))) << e.message;
  EXPECT_EQ(e.id.value_or("<none>"), id) << e.message;
  EXPECT_FALSE(e.ref.has_value());
  EXPECT_TRUE(protocol::is_terminal(protocol::ServerMessage(e)));
  EXPECT_EQ(e.message.find("json.exception"), std::string::npos) << e.message;
  const size_t before = d.accepted();
  d.client->send_raw(protocol::encode(protocol::ClientMessage(token_submit(id, {1, 2, 3}, 4))));
  EXPECT_EQ(d.wait_accepted(before + 1), before + 1) << id << " was still held in flight after its terminal reply";
}

TEST(FrontDoorRefusals, TextPromptOutsideTheModelVocabularyIsTerminal) {
  auto o = refusal_options();
  o.model_vocab = 4096;  // the tiny test model: the harmony header's ids are >= 200000
  Door d(o);
  d.client->send_raw(R"({"v":1,"type":"submit","id":"text","prompt":"hello"})");
  expect_terminal_and_id_free(d, "text", protocol::ErrorCode::kBadRequest);
}

TEST(FrontDoorRefusals, TokenPromptLongerThanTheContextIsTerminal) {
  Door d(refusal_options());
  std::vector<int32_t> tokens(64, 7);
  d.client->send_raw(protocol::encode(protocol::ClientMessage(token_submit("long", tokens, 4))));
  expect_terminal_and_id_free(d, "long", protocol::ErrorCode::kContextLength);
}

TEST(FrontDoorRefusals, RenderedTextPromptLongerThanTheContextIsTerminal) {
  Door d(refusal_options());
  const std::string words(400, 'x');
  d.client->send_raw(R"({"v":1,"type":"submit","id":"chat","prompt":")" + words + R"("})");
  expect_terminal_and_id_free(d, "chat", protocol::ErrorCode::kContextLength);
}

TEST(FrontDoorRefusals, SubmitWhileShuttingDownIsTerminal) {
  Door d(refusal_options());
  d.door->request_stop(std::chrono::milliseconds(5000));  // stays up to flush for 5 s
  d.client->send_raw(protocol::encode(protocol::ClientMessage(token_submit("late", {1}, 4))));
  const auto e = d.next_error();
  EXPECT_EQ(e.code, protocol::ErrorCode::kShuttingDown);
  EXPECT_EQ(e.id.value_or("<none>"), "late");
  EXPECT_FALSE(e.ref.has_value());
  EXPECT_EQ(d.accepted(), 0u);
}

TEST(FrontDoorRefusals, BadParametersWithAReadableIdAreTerminal) {
  Door d(refusal_options());
  d.client->send_raw(R"({"v":1,"type":"submit","id":"p","tokens":[1],"params":{"top_p":0}})");
  expect_terminal_and_id_free(d, "p", protocol::ErrorCode::kBadRequest);
  d.client->send_raw(R"({"v":2,"type":"submit","id":"v","tokens":[1]})");
  expect_terminal_and_id_free(d, "v", protocol::ErrorCode::kUnsupportedVersion);
}

TEST(FrontDoorRefusals, DuplicateIdGoesToRefAndTheLiveRequestKeepsItsId) {
  Door d(refusal_options());
  d.client->send_raw(protocol::encode(protocol::ClientMessage(token_submit("dup", {1, 2}, 4))));
  EXPECT_EQ(d.accepted(), 1u);
  d.client->send_raw(protocol::encode(protocol::ClientMessage(token_submit("dup", {1, 2}, 4))));
  auto e = d.next_error();
  EXPECT_EQ(e.code, protocol::ErrorCode::kDuplicateId);
  EXPECT_FALSE(e.id.has_value());
  EXPECT_EQ(e.ref.value_or(""), "dup");
  // A refused submit that reuses the live id for something else wrong: also `ref`.
  d.client->send_raw(R"({"v":1,"type":"submit","id":"dup","prompt":")" + std::string(400, 'x') + R"("})");
  e = d.next_error();
  EXPECT_FALSE(e.id.has_value()) << protocol::error_code_string(e.code);
  EXPECT_EQ(d.accepted(), 1u);
}

TEST(FrontDoorRefusals, EmptyIdIsNeverTerminal) {
  Door d(refusal_options());
  d.client->send_raw(R"({"v":1,"type":"submit","id":"","tokens":[1]})");
  const auto e = d.next_error();
  EXPECT_EQ(e.code, protocol::ErrorCode::kBadRequest);
  EXPECT_FALSE(e.id.has_value()) << "an empty id names no request";
  EXPECT_EQ(e.ref.value_or("<none>"), "");
  EXPECT_FALSE(protocol::is_terminal(protocol::ServerMessage(e)));
}

TEST(FrontDoorRefusals, JsonLibraryInternalsStayOutOfMessages) {
  Door d(refusal_options());
  for (const char* frame : {"hello", R"({"v":1,"type":"submit","id":"n","tokens":[1e999]})",
                            R"({"v":1,"type":"health"} x)"}) {
    d.client->send_raw(frame);
    const auto e = d.next_error();
    EXPECT_FALSE(e.message.empty()) << frame;
    EXPECT_EQ(e.message.find("json.exception"), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace gossamer::testing
