#pragma once
// A stand-in front door for gateway tests: a real ZeroMQ ROUTER socket that answers each
// submit with the protocol messages a script returns for it (docs/PROTOCOL.md), answers
// health and stats, and records the cancels it receives. It lets the tests drive the
// gateway through what a real model rarely emits on demand (reasoning, tool calls in
// pieces, every error code) and check the OpenAI objects that come out.
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "protocol/encode.h"
#include "protocol/parse.h"

namespace gossamer::testing {

struct Script {
  std::vector<protocol::ServerMessage> replies;  // sent at once, in order
  // > 0: afterwards one more final-channel delta every `drip` until the request is
  // cancelled, then done with finish_reason "cancelled" (a long generation).
  std::chrono::milliseconds drip{0};
};

class ScriptedFrontDoor {
 public:
  using ScriptFn = std::function<Script(const protocol::Submit&)>;

  explicit ScriptedFrontDoor(ScriptFn script) : script_(std::move(script)) {
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] { loop(); });
  }
  ~ScriptedFrontDoor() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }
  std::vector<std::string> cancels() const {
    std::lock_guard lock(mu_);
    return cancels_;
  }
  std::vector<protocol::Submit> submits() const {
    std::lock_guard lock(mu_);
    return submits_;
  }

 private:
  struct Dripping {
    std::string identity, id;
    int64_t seq = 0;
    std::chrono::steady_clock::time_point next;
    std::chrono::milliseconds every;
  };

  void send(const std::string& identity, const protocol::ServerMessage& m) {
    const std::string frame = protocol::encode(m);
    socket_.send(zmq::buffer(identity), zmq::send_flags::sndmore);
    socket_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

  void on_frame(const std::string& identity, std::string_view payload) {
    auto parsed = protocol::parse_client_message(payload);
    if (!parsed.ok()) return send(identity, protocol::make_error_reply(parsed.error()));
    auto& msg = parsed.value();
    if (auto* s = std::get_if<protocol::Submit>(&msg)) {
      {
        std::lock_guard lock(mu_);
        submits_.push_back(*s);
      }
      Script script = script_(*s);
      int64_t seq = 0;
      for (auto m : script.replies) {
        if (auto* d = std::get_if<protocol::Delta>(&m)) seq = d->seq + 1;
        std::visit([&](auto& x) { if constexpr (requires { x.id = s->id; }) x.id = s->id; }, m);
        send(identity, m);
      }
      if (script.drip.count() > 0)
        dripping_.push_back({identity, s->id, seq, std::chrono::steady_clock::now(), script.drip});
    } else if (auto* c = std::get_if<protocol::Cancel>(&msg)) {
      {
        std::lock_guard lock(mu_);
        cancels_.push_back(c->id);
      }
      for (auto it = dripping_.begin(); it != dripping_.end(); ++it) {
        if (it->id != c->id || it->identity != identity) continue;
        protocol::Done done;
        done.id = c->id;
        done.finish_reason = protocol::FinishReason::kCancelled;
        send(identity, done);
        dripping_.erase(it);
        break;
      }
    } else if (auto* h = std::get_if<protocol::HealthRequest>(&msg)) {
      protocol::HealthReply r;
      r.id = h->id;
      r.model = "scripted-model";
      send(identity, r);
    } else if (auto* st = std::get_if<protocol::StatsRequest>(&msg)) {
      protocol::StatsReply r;
      r.id = st->id;
      r.running = static_cast<int64_t>(dripping_.size());
      send(identity, r);
    }
  }

  void loop() {
    while (!stop_.load()) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(10));
      if (item.revents & ZMQ_POLLIN) {
        zmq::message_t identity, payload;
        (void)socket_.recv(identity);
        (void)socket_.recv(payload);
        on_frame(identity.to_string(), payload.to_string_view());
      }
      const auto now = std::chrono::steady_clock::now();
      for (auto& d : dripping_) {
        if (now < d.next) continue;
        protocol::Delta delta;
        delta.id = d.id;
        delta.seq = d.seq++;
        delta.text = "tick ";
        send(d.identity, delta);
        d.next = now + d.every;
      }
    }
  }

  ScriptFn script_;
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::router};
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> cancels_;
  std::vector<protocol::Submit> submits_;
  std::vector<Dripping> dripping_;
  std::thread thread_;
};

}  // namespace gossamer::testing
