// `stats` while a step runs for seconds (a long prefill): answered at once by the front door
// from the snapshot taken as the step began (coordinator/stats_board.h), and between steps
// by the step thread from its live counters.
#include <gtest/gtest.h>

#include <thread>

#include "server_process.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

using namespace std::chrono_literals;

TEST(ServiceStats, AnsweredAtOnceDuringALongStep) {
  const std::string model = synth_deep_model("stats");
  ASSERT_FALSE(model.empty()) << "gossamer synth failed";
  ServerProcess server(0, "--model " + model + " --threads 1 --max-context 4096 --kv-blocks 600 " +
                              "--max-batch-tokens 4096", 21);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  client::Client admin(server.endpoint());
  const std::string id = c.submit(token_submit("long-prefill", long_prefill_prompt(), 4));
  auto accepted = c.poll_for(id, 30s);
  ASSERT_TRUE(accepted && std::holds_alternative<protocol::Accepted>(*accepted)) << server.log();
  std::this_thread::sleep_for(300ms);  // the one-step prefill of 3000 tokens is running

  const auto asked = std::chrono::steady_clock::now();
  const protocol::StatsReply during = admin.stats(5s);
  const double answer_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  EXPECT_LT(answer_s, 0.5) << "stats waited for the step";
  EXPECT_EQ(during.running, 1);
  EXPECT_EQ(during.completed, 0);
  EXPECT_GT(during.kv_blocks_used, 0);
  ASSERT_TRUE(during.extra.contains("step_running_ms")) << during.extra.dump();
  EXPECT_GT(during.extra["step_running_ms"].get<double>(), 200.0);

  client::StreamOptions o;
  o.idle_timeout = 120s;
  auto r = client::collect_stream(c, id, o);
  ASSERT_FALSE(r.error.has_value()) << r.error->message;
  // Proof that the stats came while the step ran: the request ended well after it.
  const double done_after_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  EXPECT_GT(done_after_s, 0.5) << "the step was too short to test anything";

  // Between steps the live counters answer: a client that saw `done` sees it completed.
  const protocol::StatsReply after = admin.stats(5s);
  EXPECT_EQ(after.running, 0);
  EXPECT_EQ(after.completed, 1);
  EXPECT_EQ(after.kv_blocks_used, 0);
  EXPECT_FALSE(after.extra.contains("step_running_ms"));
  std::system(("rm -rf " + model).c_str());
}

}  // namespace
}  // namespace gossamer::testing
