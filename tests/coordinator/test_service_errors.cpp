// Bad input over the socket (each kind gets a structured error and the server keeps
// serving), cancellation and disconnects freeing KV blocks.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <map>
#include <stdexcept>
#include <thread>

#include <zmq.hpp>

#include "protocol/encode.h"
#include "protocol/error.h"
#include "server_process.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

std::string config_file() {
  return write_file("/tmp/gossamer-svc-test-" + std::to_string(::getpid()) + ".yaml",
                    "server:\n  max_frame_bytes: 65536\n  max_context: 256\n  max_queue: 64\n"
                    "runtime:\n  threads: 1\n  kv_block_size: 8\n  kv_blocks: 256\n");
}

// The next error reply (skipping other messages), or nullopt after `timeout`.
std::optional<protocol::ErrorReply> next_error(client::Client& c, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto m = c.poll(100ms);
    if (!m) continue;
    if (auto* e = std::get_if<protocol::ErrorReply>(&*m)) return *e;
  }
  return std::nullopt;
}

struct BadCase {
  const char* name;
  std::string frame;
  protocol::ErrorCode code;
  // The id of the terminal reply when the refused submit's id was readable; empty when the
  // reply must not be terminal (no id could be read, or not a submit: `ref` or nothing).
  std::string terminal_id = {};
};

// Cases whose frame is a submit with a readable id: their refusal ends that request.
void mark_terminal(std::vector<BadCase>& cases) {
  const std::map<std::string, std::string> ids = {
      {"missing v", "a"}, {"other version", "a"}, {"tokens not array", "t"}, {"no input", "t"},
      {"two inputs", "t"}, {"negative temperature", "t"}, {"top_p zero", "t"},
      {"huge max_tokens", "t"}, {"max_tokens zero", "t"}, {"prompt longer than context", "long"},
      {"token id outside vocab", "t"}, {"negative token id", "t"}, {"empty messages", "t"},
      {"unknown role", "t"}, {"unknown params field", "t"}, {"unknown top-level field", "t"},
      {"too many stop strings", "s"}, {"text prompt on a small-vocabulary model", "t"},
      {"reasoning_effort unknown", "t"}};
  size_t marked = 0;
  for (auto& c : cases)
    if (auto it = ids.find(c.name); it != ids.end()) c.terminal_id = it->second, ++marked;
  if (marked != ids.size()) throw std::logic_error("mark_terminal: a case name changed");
}

std::vector<BadCase> bad_cases() {
  using C = protocol::ErrorCode;
  std::string many_stops = R"({"v":1,"type":"submit","id":"s","tokens":[1],"params":{"stop":[)";
  for (int i = 0; i < 17; ++i) many_stops += std::string(i ? "," : "") + "\"x" + std::to_string(i) + "\"";
  many_stops += "]}}";
  std::string long_prompt = R"({"v":1,"type":"submit","id":"long","tokens":[)";
  for (int i = 0; i < 300; ++i) long_prompt += std::string(i ? "," : "") + "7";
  long_prompt += "]}";
  std::string deep = R"({"v":1,"type":"submit","id":"deep","tokens":[1],"params":{"tools":)";
  for (int i = 0; i < 80; ++i) deep += "[";
  for (int i = 0; i < 80; ++i) deep += "]";
  deep += "}}";
  return {
      {"not json", "hello", C::kBadJson},
      {"empty frame", "", C::kBadJson},
      {"trailing garbage", R"({"v":1,"type":"health"} x)", C::kBadJson},
      {"NaN literal", R"({"v":1,"type":"submit","id":"n","tokens":[1],"params":{"temperature":NaN}})", C::kBadJson},
      {"array, not object", "[1,2,3]", C::kBadRequest},
      {"missing v", R"({"type":"submit","id":"a","tokens":[1]})", C::kBadRequest},
      {"v not integer", R"({"v":"1","type":"health"})", C::kBadRequest},
      {"other version", R"({"v":2,"type":"submit","id":"a","tokens":[1]})", C::kUnsupportedVersion},
      {"missing type", R"({"v":1})", C::kBadRequest},
      {"unknown type", R"({"v":1,"type":"launch"})", C::kUnknownType},
      {"missing id", R"({"v":1,"type":"submit","tokens":[1]})", C::kBadRequest},
      {"id not string", R"({"v":1,"type":"submit","id":12,"tokens":[1]})", C::kBadRequest},
      {"tokens not array", R"({"v":1,"type":"submit","id":"t","tokens":"1,2"})", C::kBadRequest},
      {"no input", R"({"v":1,"type":"submit","id":"t"})", C::kBadRequest},
      {"two inputs", R"({"v":1,"type":"submit","id":"t","tokens":[1],"prompt":"hi"})", C::kBadRequest},
      {"negative temperature", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"temperature":-1}})", C::kBadRequest},
      {"top_p zero", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"top_p":0}})", C::kBadRequest},
      {"huge max_tokens", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"max_tokens":1000000000}})", C::kBadRequest},
      {"max_tokens zero", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"max_tokens":0}})", C::kBadRequest},
      {"prompt longer than context", long_prompt, C::kContextLength},
      {"token id outside vocab", R"({"v":1,"type":"submit","id":"t","tokens":[5000]})", C::kBadRequest},
      {"negative token id", R"({"v":1,"type":"submit","id":"t","tokens":[-3]})", C::kBadRequest},
      {"empty messages", R"({"v":1,"type":"submit","id":"t","messages":[]})", C::kBadRequest},
      {"unknown role", R"({"v":1,"type":"submit","id":"t","messages":[{"role":"wizard","content":"x"}]})", C::kBadRequest},
      {"unknown params field", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"temp":1}})", C::kBadRequest},
      {"unknown top-level field", R"({"v":1,"type":"submit","id":"t","tokens":[1],"extra":1})", C::kBadRequest},
      {"duplicate key", R"({"v":1,"type":"submit","id":"t","id":"u","tokens":[1]})", C::kBadRequest},
      {"too many stop strings", many_stops, C::kBadRequest},
      {"nesting too deep", deep, C::kBadRequest},
      {"invalid UTF-8", std::string("{\"v\":1,\"type\":\"submit\",\"id\":\"t\",\"prompt\":\"\xff\xfe\"}"), C::kInvalidUtf8},
      {"oversized frame", std::string(100000, ' '), C::kTooLarge},
      {"cancel of unknown id", R"({"v":1,"type":"cancel","id":"nobody"})", C::kUnknownId},
      // The tiny model's 4096 ids cannot hold the harmony-rendered prompt.
      {"text prompt on a small-vocabulary model", R"({"v":1,"type":"submit","id":"t","prompt":"hi"})", C::kBadRequest},
      {"reasoning_effort unknown", R"({"v":1,"type":"submit","id":"t","tokens":[1],"params":{"reasoning_effort":"max"}})", C::kBadRequest},
  };
}

TEST(ServiceErrors, BadInputSuiteGetsStructuredErrorsAndServingGoesOn) {
  ServerProcess server(0, "--model " + tiny_model() + " --config " + config_file(), 3);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  // A request that runs through the whole suite: it must finish normally.
  client::Client busy(server.endpoint());
  const std::string long_id = busy.submit(token_submit("runner", {1, 2, 3}, 200));

  auto cases = bad_cases();
  ASSERT_GE(cases.size(), 25u);
  mark_terminal(cases);
  for (const auto& bc : cases) {
    c.send_raw(bc.frame);
    auto e = next_error(c, 5s);
    ASSERT_TRUE(e.has_value()) << bc.name << ": no error reply";
    EXPECT_EQ(protocol::error_code_string(e->code), std::string(protocol::error_code_string(bc.code)))
        << bc.name << ": " << e->message;
    EXPECT_FALSE(e->message.empty()) << bc.name;
    EXPECT_EQ(e->message.find("json.exception"), std::string::npos) << bc.name << ": " << e->message;
    if (!bc.terminal_id.empty()) {
      EXPECT_EQ(e->id.value_or("<none>"), bc.terminal_id) << bc.name << ": must end the request";
      EXPECT_FALSE(e->ref.has_value()) << bc.name;
    } else {
      EXPECT_FALSE(e->id.has_value()) << bc.name << ": must not look like a terminal reply";
    }
  }
  // A multi-part message, from a raw DEALER.
  {
    zmq::context_t ctx;
    zmq::socket_t raw(ctx, zmq::socket_type::dealer);
    raw.set(zmq::sockopt::linger, 0);
    raw.set(zmq::sockopt::rcvtimeo, 5000);
    raw.connect(server.endpoint());
    const std::string part = R"({"v":1,"type":"health"})";
    raw.send(zmq::buffer(part), zmq::send_flags::sndmore);
    raw.send(zmq::buffer(part), zmq::send_flags::none);
    zmq::message_t reply;
    ASSERT_TRUE(raw.recv(reply));
    EXPECT_NE(reply.to_string().find("bad_request"), std::string::npos) << reply.to_string();
  }
  // Duplicate id: the second submit is refused with `ref`, the first goes on.
  client::Client d(server.endpoint());
  d.submit(token_submit("dup", {4, 5, 6}, 30));
  d.send_raw(protocol::encode(protocol::ClientMessage(token_submit("dup", {4, 5, 6}, 30))));
  bool saw_dup = false, saw_done = false;
  for (int i = 0; i < 400 && !(saw_dup && saw_done); ++i) {
    auto m = d.poll(100ms);
    if (!m) continue;
    if (auto* e = std::get_if<protocol::ErrorReply>(&*m)) {
      EXPECT_EQ(e->code, protocol::ErrorCode::kDuplicateId);
      EXPECT_FALSE(e->id.has_value());
      EXPECT_EQ(e->ref.value_or(""), "dup");
      saw_dup = true;
    }
    if (std::get_if<protocol::Done>(&*m)) saw_done = true;
  }
  EXPECT_TRUE(saw_dup);
  EXPECT_TRUE(saw_done);

  client::StreamOptions o;
  o.idle_timeout = 30s;
  auto r = client::collect_stream(busy, long_id, o);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.seq_gap);
  auto good = run_one(c, token_submit("after", {9, 9, 9}, 5));
  EXPECT_TRUE(good.ok());
  auto h = c.health(5s);
  EXPECT_EQ(h.status, "ok");
}

// Waits until stats satisfy `pred`; the last stats seen.
template <class Pred>
protocol::StatsReply wait_stats(client::Client& c, Pred pred, std::chrono::seconds deadline = 10s) {
  protocol::StatsReply s;
  const auto end = std::chrono::steady_clock::now() + deadline;
  do {
    s = c.stats(5s);
    if (pred(s)) return s;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < end);
  return s;
}

TEST(ServiceErrors, CancelAndDisconnectFreeKvBlocksWhileOthersContinue) {
  ServerProcess server(0, "--model " + tiny_model() + " --config " + config_file(), 4);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client admin(server.endpoint());
  client::Client a(server.endpoint()), b(server.endpoint());
  // Distinct prompts, so no block is shared through the prefix cache.
  const std::string ida = a.submit(token_submit("long-a", {1, 2, 3, 4, 5, 6, 7, 8, 9}, 240));
  const std::string idb = b.submit(token_submit("long-b", {11, 12, 13, 14, 15, 16, 17, 18, 19}, 240));
  auto gone = std::make_unique<client::Client>(server.endpoint());
  gone->submit(token_submit("long-gone", {21, 22, 23, 24, 25, 26, 27, 28, 29}, 240));
  // Let every sequence grow past 150 tokens (~20 blocks of 8 each).
  int got = 0;
  while (got < 150) {
    auto m = a.poll_for(ida, 10s);
    ASSERT_TRUE(m.has_value());
    if (std::holds_alternative<protocol::Delta>(*m)) got += static_cast<int>(std::get<protocol::Delta>(*m).token_ids.size());
  }
  auto busy = wait_stats(admin, [](auto& s) { return s.running == 3; });
  ASSERT_EQ(busy.running, 3);
  const int64_t one_sequence_max = (9 + 240 + 7) / 8;  // blocks of one whole sequence
  EXPECT_GT(busy.kv_blocks_used, one_sequence_max);
  // The sliding-window layers (window 8) hold only what a query still sees: a decode sees
  // at most 2 blocks of 8, so 3 sequences of 150+ tokens hold a handful, not 60.
  EXPECT_GT(busy.extra.value("kv_window_blocks_total", 0), 0);
  EXPECT_GE(busy.extra.value("kv_window_blocks_used", -1), 3);
  EXPECT_LE(busy.extra.value("kv_window_blocks_used", -1), 3 * 3);

  // The disconnected client's request is dropped at the next send to it.
  gone.reset();
  auto two = wait_stats(admin, [](auto& s) { return s.running == 2; });
  EXPECT_EQ(two.running, 2);

  a.cancel(ida);
  client::StreamOptions o;
  o.idle_timeout = 10s;
  auto ra = client::collect_stream(a, ida, o);
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(protocol::finish_reason_string(ra.done->finish_reason), std::string("cancelled"));
  auto one = wait_stats(admin, [](auto& s) { return s.running == 1; });
  EXPECT_EQ(one.running, 1);
  EXPECT_LE(one.kv_blocks_used, one_sequence_max);  // only b's blocks are held

  // b was never disturbed: it finishes with its full length.
  auto rb = client::collect_stream(b, idb, o);
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb.done->usage.completion_tokens, 240);
  EXPECT_FALSE(rb.seq_gap);
  auto idle = wait_stats(admin, [](auto& s) { return s.running == 0 && s.kv_blocks_used == 0; });
  EXPECT_EQ(idle.kv_blocks_used, 0);
  EXPECT_EQ(idle.extra.value("kv_window_blocks_used", -1), 0);
  EXPECT_EQ(idle.running, 0);
  EXPECT_GE(idle.extra.value("cancelled", 0), 2);
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

TEST(ServiceErrors, BeyondTheQueueLimitRequestsGetOverloadedAndEveryIdOneTerminal) {
  ServerProcess server(0, "--model " + tiny_model() + " --threads 1 --max-queue 2 --max-running 1", 8);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(c.submit(token_submit("q" + std::to_string(i), {1, 2, 3 + i}, 30)));
  int done = 0, overloaded = 0;
  for (const auto& id : ids) {
    client::StreamOptions o;
    o.idle_timeout = 30s;
    auto r = client::collect_stream(c, id, o);
    if (r.ok()) ++done;
    else if (r.error && r.error->code == protocol::ErrorCode::kOverloaded) ++overloaded;
    else ADD_FAILURE() << id << ": " << (r.error ? r.error->message : "?");
  }
  EXPECT_EQ(done + overloaded, 12);
  EXPECT_GE(overloaded, 1);
  EXPECT_GE(done, 2);  // at least the two the queue holds (more when one started first)
  EXPECT_FALSE(c.poll(300ms).has_value());  // nothing after the terminals
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

struct Run {
  int exit_code = -1;
  std::string output;
  double seconds = 0;
};

// Runs `gossamer ARGS` (a 60 s `timeout` guards against a hang; exit 124 means it hung),
// with `input` as its standard input, capturing stdout and stderr.
Run run_cli(const std::string& args, const std::string& input = "") {
  Run r;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string cmd = "echo '" + input + "' | timeout 60 " + std::string(GOSSAMER_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// A text prompt the tiny model's 4096-id vocabulary cannot hold is refused after the front
// door registered the id: the refusal must be terminal, so the CLI clients end at once.
TEST(ServiceErrors, CliClientsPrintARefusalAtOnceAndExitNonZero) {
  ServerProcess server(0, "--model " + tiny_model() + " --config " + config_file(), 9);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  const std::string ep = " --endpoint " + server.endpoint();

  auto submit = run_cli("submit" + ep + " --prompt hello");
  EXPECT_NE(submit.exit_code, 0) << submit.output;
  EXPECT_NE(submit.exit_code, 124) << "submit hung until the timeout: " << submit.output;
  EXPECT_LT(submit.seconds, 10) << submit.output;
  EXPECT_NE(submit.output.find("bad_request"), std::string::npos) << submit.output;

  auto loadgen = run_cli("loadgen" + ep + " -n 6 -c 3 --prompt-len fixed:4 --output-len fixed:4");
  EXPECT_NE(loadgen.exit_code, 0) << loadgen.output;
  EXPECT_NE(loadgen.exit_code, 124) << "loadgen hung until the timeout: " << loadgen.output;
  EXPECT_LT(loadgen.seconds, 20) << loadgen.output;
  EXPECT_NE(loadgen.output.find("6 request(s) were refused or failed"), std::string::npos) << loadgen.output;
  EXPECT_NE(loadgen.output.find("bad_request"), std::string::npos) << loadgen.output;

  // chat renders its turns as harmony text too; its stdin ends after one line.
  auto chat = run_cli("chat" + ep, "hello");
  EXPECT_NE(chat.exit_code, 0) << chat.output;
  EXPECT_NE(chat.exit_code, 124) << "chat hung until the timeout: " << chat.output;
  EXPECT_LT(chat.seconds, 10) << chat.output;
  EXPECT_NE(chat.output.find("error [bad_request]"), std::string::npos) << chat.output;

  // The same clients with token prompts succeed (exit 0): the server kept serving.
  auto ok = run_cli("submit" + ep + " --tokens 1,2,3 --max-tokens 3 --temperature 0");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto ok_load = run_cli("loadgen" + ep + " -n 6 -c 3 --token-prompts 4096 --prompt-len fixed:4 --output-len fixed:4");
  EXPECT_EQ(ok_load.exit_code, 0) << ok_load.output;
}

}  // namespace
}  // namespace gossamer::testing
