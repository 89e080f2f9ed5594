// Back-pressure rules of the front door (docs/PROTOCOL.md, "Back-pressure"): a connection
// holds at most max_inflight_per_connection requests (the next is refused `overloaded`,
// terminal, with its id), and a client that stops reading is dropped once its queue of
// replies reaches send_hwm: its requests are cancelled (ConnectionGone reaches the step
// thread, which frees their KV), while a client that reads keeps getting its replies.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "front_door_fixture.h"
#include "protocol/server_messages.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

coordinator::FrontDoorOptions backpressure_options() {
  coordinator::FrontDoorOptions o;
  o.limits.context_length = 64;
  o.model_vocab = 201088;
  return o;
}

std::string submit_frame(const std::string& id) {
  return protocol::encode(protocol::ClientMessage(token_submit(id, {1, 2, 3}, 4)));
}

TEST(FrontDoorBackPressure, RequestsPastThePerConnectionCapAreOverloadedWithTheirId) {
  auto o = backpressure_options();
  o.max_inflight_per_connection = 3;
  Door d(o);
  for (int i = 0; i < 3; ++i) d.client->send_raw(submit_frame("r" + std::to_string(i)));
  EXPECT_EQ(d.wait_accepted(3), 3u);
  d.client->send_raw(submit_frame("r3"));
  const auto e = d.next_error();
  EXPECT_EQ(e.code, protocol::ErrorCode::kOverloaded) << e.message;
  EXPECT_EQ(e.id.value_or("<none>"), "r3") << "the refusal ends r3: terminal, with its id";
  EXPECT_TRUE(protocol::is_terminal(protocol::ServerMessage(e)));
  EXPECT_EQ(d.accepted(), 3u);
  // Another connection has its own budget.
  client::Client other(d.door->bound_endpoint());
  other.send_raw(submit_frame("r0"));
  EXPECT_EQ(d.wait_accepted(4), 4u);
}

TEST(FrontDoorBackPressure, AClientThatStopsReadingIsDroppedAndItsRequestsCancelled) {
  auto o = backpressure_options();
  o.send_hwm = 16;
  Door d(o);
  // The reader: a second connection whose replies are read as they come.
  client::Client reader(d.door->bound_endpoint());
  d.client->send_raw(submit_frame("slow"));
  reader.send_raw(submit_frame("fast"));
  std::string slow_connection, fast_connection;
  for (int i = 0; i < 50 && (slow_connection.empty() || fast_connection.empty()); ++i)
    for (auto& ev : d.inbox.drain(100ms))
      if (auto* r = std::get_if<coordinator::NewRequest>(&ev))
        (r->request->id == "slow" ? slow_connection : fast_connection) = r->request->connection;
  ASSERT_FALSE(slow_connection.empty());
  ASSERT_FALSE(fast_connection.empty());

  // The step thread's side: 16 KB deltas to both; the slow client never reads, the reader
  // reads each one as it comes.
  auto outbox = d.door->make_outbox();
  protocol::Delta delta;
  delta.text = std::string(16 << 10, 'a');
  bool gone = false;
  int64_t fast_received = 0, sent = 0;
  for (; sent < 20000 && !gone; ++sent) {
    delta.seq = sent;
    delta.id = "slow";
    outbox->send(slow_connection, protocol::ServerMessage(delta));
    delta.id = "fast";
    outbox->send(fast_connection, protocol::ServerMessage(delta));
    // The reader keeps up: it has this delta before the next one is sent.
    for (int i = 0; i < 100 && fast_received <= sent; ++i)
      if (auto m = reader.poll(10ms)) fast_received += std::holds_alternative<protocol::Delta>(*m);
    if (sent % 50 == 49)
      for (auto& ev : d.inbox.drain(1ms))
        if (auto* g = std::get_if<coordinator::ConnectionGone>(&ev)) {
          EXPECT_EQ(g->connection, slow_connection);
          ASSERT_EQ(g->ids.size(), 1u);
          EXPECT_EQ(g->ids[0], "slow");
          gone = true;
        }
  }
  EXPECT_TRUE(gone) << "a client that read nothing for " << sent << " replies of 16 KB was never dropped";
  EXPECT_EQ(fast_received, sent) << "the reader lost replies";
}

}  // namespace
}  // namespace gossamer::testing
