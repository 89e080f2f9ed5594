#pragma once
// An in-process front door on a real ROUTER socket with the real gpt-oss tokenizer and one
// client connected to it. Nothing drains its inbox: an accepted request just stays queued
// (the step thread is not under test); tests that need replies push them through an Outbox.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include "client/client.h"
#include "coordinator/front_door.h"
#include "coordinator/inbox.h"
#include "protocol/encode.h"
#include "tokenizer/tokenizer.h"

namespace gossamer::testing {

using namespace std::chrono_literals;

struct Door {
  coordinator::Inbox inbox;
  std::unique_ptr<coordinator::FrontDoor> door;
  std::unique_ptr<client::Client> client;

  explicit Door(coordinator::FrontDoorOptions o) {
    const char* path = std::getenv("GOSSAMER_TOKENIZER");
    if (!path) throw std::runtime_error("GOSSAMER_TOKENIZER is not set (scripts/test.sh sets it)");
    static const Tokenizer tokenizer = Tokenizer::load(path);
    o.endpoint = "tcp://127.0.0.1:*";
    door = std::make_unique<coordinator::FrontDoor>(o, tokenizer, inbox);
    door->start();
    client = std::make_unique<client::Client>(door->bound_endpoint());
  }
  ~Door() {
    client.reset();
    door->request_stop(std::chrono::milliseconds(0));
    door->join();
  }

  // The next error reply, failing the test when none comes within 5 s.
  protocol::ErrorReply next_error() {
    for (int i = 0; i < 50; ++i) {
      auto m = client->poll(100ms);
      if (!m) continue;
      if (auto* e = std::get_if<protocol::ErrorReply>(&*m)) return *e;
      ADD_FAILURE() << "unexpected reply: " << protocol::encode(*m);
    }
    ADD_FAILURE() << "no error reply within 5 s";
    return {};
  }

  // How many submits the front door handed to the step thread so far.
  size_t accepted() {
    for (auto& e : inbox.drain(std::chrono::milliseconds(200)))
      if (std::holds_alternative<coordinator::NewRequest>(e)) ++accepted_;
    return accepted_;
  }

  // Waits (up to 10 s) until at least `want` submits were handed on; returns the count.
  size_t wait_accepted(size_t want) {
    for (int i = 0; i < 50 && accepted() < want; ++i) {
    }
    return accepted_;
  }

  size_t accepted_ = 0;
};

}  // namespace gossamer::testing
