// ZeroMQ CURVE on the front door: `gossamer keygen` key pairs, `gossamer serve` with a
// server key and an allow-list. A listed client key gets answers (directly and through the
// gateway); an unknown key, or no CURVE at all, gets nothing.
#include <gtest/gtest.h>

#include <fstream>

#include "gateway/upstream.h"
#include "gateway_fixture.h"
#include "protocol/curve_keys.h"
#include "tests/coordinator/server_process.h"

namespace gossamer::testing {
namespace {

using namespace std::chrono_literals;

std::string read_endpoint(const std::string& file, std::chrono::seconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  std::string endpoint;
  while (std::chrono::steady_clock::now() < end) {
    std::ifstream f(file);
    if (f >> endpoint) return endpoint;
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

TEST(Curve, ListedKeyWorksUnknownKeyGetsNothing) {
  const std::string dir = "/tmp/gossamer-curve-test-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  for (const char* who : {"server", "client", "stranger"})
    ASSERT_EQ(std::system((std::string(GOSSAMER_BINARY) + " keygen " + dir + "/" + who + " > /dev/null").c_str()), 0);
  const std::string client_secret = protocol::read_curve_key(dir + "/client.key");
  const std::string client_public = protocol::read_curve_key(dir + "/client.pub");
  EXPECT_EQ(protocol::curve_public_of(client_secret), client_public);
  const std::string server_public = protocol::read_curve_key(dir + "/server.pub");
  std::ofstream(dir + "/allowed") << "# the gateway\n" << client_public << "\n";

  ServerProcess server(0, "--model " + tiny_model() + " --threads 1 --curve-secret-key-file " + dir +
                              "/server.key --curve-authorized-keys-file " + dir + "/allowed", 21);
  const std::string endpoint = read_endpoint(server.pid_file() + ".endpoint", 60s);
  ASSERT_FALSE(endpoint.empty()) << server.log();

  gateway::UpstreamOptions listed{endpoint, server_public, client_public, client_secret};
  gateway::Upstream ok(listed);
  std::optional<protocol::HealthReply> h;
  for (int i = 0; i < 50 && !h; ++i) h = ok.health(200ms);
  ASSERT_TRUE(h) << server.log();
  EXPECT_EQ(h->status, "ok");

  const std::string stranger_secret = protocol::read_curve_key(dir + "/stranger.key");
  gateway::Upstream unknown({endpoint, server_public, protocol::curve_public_of(stranger_secret), stranger_secret});
  EXPECT_FALSE(unknown.health(1500ms)) << "an unknown client key was answered";
  gateway::Upstream plain({endpoint, "", "", ""});
  EXPECT_FALSE(plain.health(500ms)) << "a client without CURVE was answered";
  EXPECT_NE(server.log().find("refused a CURVE client"), std::string::npos) << server.log();

  // The gateway as a listed CURVE client.
  gateway::GatewayOptions o;
  o.upstream = listed;
  HttpGateway gw(o);
  EXPECT_EQ(gw.http->Get("/health")->status, 200);
  auto res = gw.post("/v1/completions", {{"prompt", {1, 2, 3}}, {"max_tokens", 3}, {"temperature", 0}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  server.stop(10s);
  std::system(("rm -rf " + dir).c_str());
}

// `serve --http` with CURVE (its in-process gateway gets a key of its own) and the
// `gateway` verb with key files: both reach the front door.
TEST(Curve, ServeHttpAndTheGatewayVerbConnectWithKeys) {
  const std::string dir = "/tmp/gossamer-curve-test2-" + std::to_string(::getpid());
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  for (const char* who : {"server", "client"})
    ASSERT_EQ(std::system((std::string(GOSSAMER_BINARY) + " keygen " + dir + "/" + who + " > /dev/null").c_str()), 0);
  std::ofstream(dir + "/allowed") << protocol::read_curve_key(dir + "/client.pub") << "\n";
  ServerProcess server(0, "--model " + tiny_model() + " --threads 1 --curve-secret-key-file " + dir +
                              "/server.key --curve-authorized-keys-file " + dir + "/allowed --http 127.0.0.1:0 --http-port-file " +
                              dir + "/http.port", 22);
  const std::string endpoint = read_endpoint(server.pid_file() + ".endpoint", 60s);
  ASSERT_FALSE(endpoint.empty()) << server.log();
  const std::string in_process_port = read_endpoint(dir + "/http.port", 30s);
  ASSERT_FALSE(in_process_port.empty()) << server.log();

  const pid_t gateway = ::fork();
  if (gateway == 0) {
    const std::string cmd = "exec " + std::string(GOSSAMER_BINARY) + " gateway --upstream " + endpoint +
                            " --listen 127.0.0.1:0 --port-file " + dir + "/gw.port --upstream-server-key " + dir +
                            "/server.pub --upstream-client-key " + dir + "/client.key > " + dir + "/gw.log 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string gateway_port = read_endpoint(dir + "/gw.port", 30s);
  for (const std::string& port : {in_process_port, gateway_port}) {
    ASSERT_FALSE(port.empty());
    httplib::Client http("127.0.0.1", std::stoi(port));
    int status = 0;
    for (int i = 0; i < 50 && status != 200; ++i) {
      auto res = http.Get("/health");
      status = res ? res->status : 0;
      if (status != 200) std::this_thread::sleep_for(100ms);
    }
    EXPECT_EQ(status, 200) << "port " << port << "\n" << server.log();
  }
  ::kill(gateway, SIGTERM);
  int st = 0;
  ::waitpid(gateway, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "gateway exit status " << st;
  server.stop(10s);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace gossamer::testing
