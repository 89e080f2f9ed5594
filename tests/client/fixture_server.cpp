#include "fixture_server.h"

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "protocol/encode.h"
#include "protocol/inflight_ids.h"
#include "protocol/parse.h"

namespace gossamer::test {
namespace {

using namespace gossamer::protocol;

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// What the fixture "generates" from: the prompt, the last user turn, or a token count.
std::string source_text(const Submit& s) {
  if (s.prompt) return *s.prompt;
  if (s.tokens) return "tokens " + std::to_string(s.tokens->size());
  for (auto it = s.messages->rbegin(); it != s.messages->rend(); ++it)
    if (it->role == Role::kUser) return it->content;
  return "nothing";
}

// One connection's view of the fixture: sends [identity][payload].
struct Replier {
  zmq::socket_t& router;
  const std::string& identity;
  void operator()(const ServerMessage& m) const {
    const std::string payload = encode(m);
    try {
      router.send(zmq::buffer(identity), zmq::send_flags::sndmore);
      router.send(zmq::buffer(payload), zmq::send_flags::none);
    } catch (const zmq::error_t&) {
      // EHOSTUNREACH: the client left. A real server cancels its requests; the fixture
      // just drops the reply.
    }
  }
};

}  // namespace

FixtureServer::FixtureServer(FixtureServerOptions options)
    : options_(options), context_(1), router_(context_, zmq::socket_type::router) {
  router_.set(zmq::sockopt::linger, 0);
  router_.set(zmq::sockopt::router_mandatory, 1);  // failed sends are errors, not silent drops
  router_.set(zmq::sockopt::sndhwm, 0);            // the fixture never waits on a slow reader
  router_.set(zmq::sockopt::sndtimeo, 1000);
  router_.bind("tcp://127.0.0.1:*");
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { serve(); });
}

FixtureServer::~FixtureServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FixtureServer::serve() {
  InflightIds ids;
  std::map<std::string, std::set<std::string>> held;  // connection -> ids waiting for cancel
  const auto started = std::chrono::steady_clock::now();
  long completed = 0;
  while (!stop_) {
    zmq::pollitem_t item{router_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(20)) == 0) continue;
    std::vector<zmq::message_t> parts;
    do {
      parts.emplace_back();
      if (!router_.recv(parts.back(), zmq::recv_flags::dontwait)) return;
    } while (parts.back().more());
    const std::string identity = parts[0].to_string();
    const Replier reply{router_, identity};
    if (options_.silent) continue;
    if (parts.size() != 2) {
      reply(ErrorReply{ErrorCode::kBadRequest, "expected exactly one frame per message", {}, {}});
      continue;
    }
    Result<ClientMessage> parsed = parse_client_message(parts[1].to_string_view(), options_.limits);
    if (!parsed.ok()) {
      reply(ids.error_reply(identity, parsed.error()));
      continue;
    }
    ClientMessage& msg = parsed.value();
    if (auto* h = std::get_if<HealthRequest>(&msg)) {
      const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      reply(HealthReply{h->id, "ok", 1, up, "fixture"});
    } else if (auto* st = std::get_if<StatsRequest>(&msg)) {
      reply(StatsReply{st->id, 0, static_cast<int64_t>(ids.size()), completed, 0, 0, 0, {}});
    } else if (auto* c = std::get_if<Cancel>(&msg)) {
      if (auto err = ids.check_cancel(identity, c->id)) {
        reply(make_error_reply(*err));
      } else if (held[identity].erase(c->id) > 0) {
        ids.finish(identity, c->id);
        reply(Done{c->id, FinishReason::kCancelled, {}, {}, {}});
      }
    } else {
      Submit& s = std::get<Submit>(msg);
      const long n = ++submits_;
      if (submitters_.insert(identity).second) ++submitting_connections_;
      if (s.messages) last_message_count_ = static_cast<long>(s.messages->size());
      if (auto err = ids.begin(identity, s.id)) {
        reply(make_error_reply(*err));
        continue;
      }
      reply(Accepted{s.id, 0});
      if (s.prompt && *s.prompt == "hold") {  // stays in flight until cancelled
        held[identity].insert(s.id);
        continue;
      }
      const std::vector<std::string> words = split_words(source_text(s));
      const size_t limit = static_cast<size_t>(s.params.max_tokens.value_or(16));
      const size_t n_out = std::min(limit, words.size());
      const std::vector<std::string> thoughts = {"Echo ", "the ", "input."};
      Output out;
      int64_t seq = 0;
      auto emit = [&](Channel ch, const std::string& text, std::string& whole) {
        whole += text;
        if (s.params.stream) reply(Delta{s.id, seq, ch, text, {static_cast<int32_t>(seq)}, {}});
        ++seq;
      };
      for (const std::string& t : thoughts) emit(Channel::kAnalysis, t, out.analysis);
      for (size_t i = 0; i < n_out; ++i)
        emit(Channel::kFinal, words[i] + (i + 1 < n_out ? " " : ""), out.final);
      Done done{s.id, n_out < words.size() ? FinishReason::kLength : FinishReason::kStop,
                Usage{static_cast<int64_t>(words.size()), seq, {}}, Timings{0, 0, 0}, {}};
      if (!s.params.stream) done.output = out;
      ids.finish(identity, s.id);
      ++completed;
      const int drop = options_.drop_terminal_every, dup = options_.duplicate_terminal_every;
      if (drop > 0 && n % drop == 0) continue;
      reply(done);
      if (dup > 0 && n % dup == 0) reply(done);
    }
  }
}

}  // namespace gossamer::test
