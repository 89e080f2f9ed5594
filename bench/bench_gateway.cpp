// What the HTTP gateway itself adds, without a model: one scripted front door
// (tests/gateway/scripted_front_door.h) that answers every submit at once with 32 deltas,
// asked N times in a row straight over ZeroMQ (client::Client) and N times through an
// in-process gateway over HTTP (cpp-httplib's client, SSE). Both clients are C++, so the
// difference is the gateway: HTTP parsing, the OpenAI mapping, the extra socket hop.
//   bench_gateway [N=300]  -> prints a table, writes bench/results/gateway_micro.json
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <vector>

#include "client/client.h"
#include "gateway/gateway.h"
#include "tests/gateway/scripted_front_door.h"

namespace {

using namespace gossamer;
using Clock = std::chrono::steady_clock;
constexpr int kTokens = 32;

testing::Script answer(const protocol::Submit&) {
  testing::Script sc;
  sc.replies.push_back(protocol::Accepted{"", 0});
  for (int i = 0; i < kTokens; ++i) {
    protocol::Delta d;
    d.seq = i;
    d.text = "tok ";
    d.token_ids = {i};
    sc.replies.push_back(d);
  }
  protocol::Done done;
  done.usage = {8, kTokens, 0};
  sc.replies.push_back(done);
  return sc;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

struct Sample {
  std::vector<double> first, total;
};

Sample direct(const std::string& endpoint, int n) {
  client::Client c(endpoint);
  Sample s;
  for (int i = 0; i < n; ++i) {
    protocol::Submit sub;
    sub.tokens = std::vector<int32_t>{1, 2, 3, 4, 5, 6, 7, 8};
    sub.params.max_tokens = kTokens;
    const auto t0 = Clock::now();
    const std::string id = c.submit(sub);
    bool first = true;
    while (true) {
      auto m = c.poll_for(id, std::chrono::milliseconds(5000));
      if (!m) throw std::runtime_error("direct: no reply");
      if (first && std::holds_alternative<protocol::Delta>(*m)) {
        s.first.push_back(ms(Clock::now() - t0));
        first = false;
      }
      if (protocol::is_terminal(*m)) break;
    }
    s.total.push_back(ms(Clock::now() - t0));
  }
  return s;
}

Sample through_gateway(int port, int n) {
  httplib::Client http("127.0.0.1", port);
  http.set_tcp_nodelay(true);
  const std::string body = R"({"prompt": [1,2,3,4,5,6,7,8], "max_tokens": 32, "stream": true})";
  Sample s;
  for (int i = 0; i < n; ++i) {
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body;
    const auto t0 = Clock::now();
    bool first = true;
    std::string got;
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      got.append(data, len);
      if (first && got.find("\"text\":\"tok") != std::string::npos) {
        s.first.push_back(ms(Clock::now() - t0));
        first = false;
      }
      return true;
    };
    httplib::Response res;
    httplib::Error error;
    if (!http.send(req, res, error) || got.find("data: [DONE]") == std::string::npos)
      throw std::runtime_error("gateway: request failed");
    s.total.push_back(ms(Clock::now() - t0));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 300;
  testing::ScriptedFrontDoor door(answer);
  gateway::GatewayOptions o;
  o.listen = "127.0.0.1:0";
  o.upstream.endpoint = door.endpoint();
  gateway::Gateway gw(o);
  gw.start();
  direct(door.endpoint(), 20);  // warm-up both paths
  through_gateway(gw.port(), 20);
  Sample d, g;
  for (int round = 0; round < 3; ++round) {  // alternate, so machine load hits both alike
    Sample a = direct(door.endpoint(), n / 3), b = through_gateway(gw.port(), n / 3);
    d.first.insert(d.first.end(), a.first.begin(), a.first.end());
    d.total.insert(d.total.end(), a.total.begin(), a.total.end());
    g.first.insert(g.first.end(), b.first.begin(), b.first.end());
    g.total.insert(g.total.end(), b.total.begin(), b.total.end());
  }
  nlohmann::json j = {{"requests_each", d.total.size()}, {"tokens_per_request", kTokens}};
  std::printf("%-28s %10s %10s %10s %10s\n", "", "first p50", "first p99", "total p50", "total p99");
  for (auto [name, s] : {std::pair<const char*, Sample*>{"direct ZeroMQ (ms)", &d}, {"through the gateway (ms)", &g}}) {
    std::printf("%-28s %10.3f %10.3f %10.3f %10.3f\n", name, quantile(s->first, 0.5), quantile(s->first, 0.99),
                quantile(s->total, 0.5), quantile(s->total, 0.99));
    j[name == std::string("direct ZeroMQ (ms)") ? "direct" : "gateway"] = {
        {"first_p50_ms", quantile(s->first, 0.5)}, {"first_p99_ms", quantile(s->first, 0.99)},
        {"total_p50_ms", quantile(s->total, 0.5)}, {"total_p99_ms", quantile(s->total, 0.99)}};
  }
  const double added_first = quantile(g.first, 0.5) - quantile(d.first, 0.5);
  const double added_per_token = (quantile(g.total, 0.5) - quantile(d.total, 0.5)) / kTokens;
  std::printf("added by the gateway: %.3f ms to the first token (p50), %.1f us per streamed token\n", added_first,
              added_per_token * 1000);
  j["added_first_p50_ms"] = added_first;
  j["added_per_token_us"] = added_per_token * 1000;
  std::ofstream("bench/results/gateway_micro.json") << j.dump(2) << "\n";
  gw.stop();
  return 0;
}
