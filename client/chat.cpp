#include "client/chat.h"

#include <istream>
#include <ostream>

#include "client/stream.h"
#include "client/submit.h"
#include "core/error.h"

namespace gossamer::client {

Conversation::Conversation(std::optional<std::string> system) : system_(std::move(system)) { reset(); }

void Conversation::add_user(std::string text) {
  messages_.push_back({protocol::Role::kUser, std::move(text), {}, {}, {}, {}});
}

void Conversation::add_assistant(std::string final_text, std::string thinking,
                                 std::vector<protocol::ToolCall> tool_calls) {
  protocol::ChatMessage m{protocol::Role::kAssistant, std::move(final_text), {}, std::move(tool_calls), {}, {}};
  if (!thinking.empty()) m.thinking = std::move(thinking);
  messages_.push_back(std::move(m));
}

void Conversation::drop_last() {
  if (!messages_.empty() && !(system_ && messages_.size() == 1)) messages_.pop_back();
}

void Conversation::reset() {
  messages_.clear();
  if (system_) messages_.push_back({protocol::Role::kSystem, *system_, {}, {}, {}, {}});
}

int run_chat(const ChatOptions& options, std::istream& in, std::ostream& out) {
  Conversation conversation(options.system);
  // The conversation goes on after a refused turn (the user can rephrase), but a script
  // piping turns in learns from the exit code that one of them failed.
  bool a_turn_failed = false;
  try {
    Client client(options.endpoint);
    std::string line;
    while (true) {
      if (options.prompts) out << "you> " << std::flush;
      if (!std::getline(in, line)) break;
      if (line == "/quit" || line == "/exit") break;
      if (line == "/reset") {
        conversation.reset();
        out << "(conversation cleared)\n";
        continue;
      }
      if (line.empty()) continue;
      conversation.add_user(line);
      protocol::Submit s;
      s.messages = conversation.messages();
      s.params = options.params;
      s.params.stream = true;
      const std::string id = client.submit(std::move(s));
      StreamOptions so;
      so.idle_timeout = options.idle_timeout;
      so.total_timeout = options.total_timeout;
      if (options.prompts) out << "assistant> " << std::flush;
      so.on_delta = [&](const protocol::Delta& d) {
        if (d.channel == protocol::Channel::kFinal || options.show_thinking) out << d.text << std::flush;
      };
      StreamResult r = collect_stream(client, id, so);
      out << "\n";
      if (r.error) {
        out << "error [" << protocol::error_code_string(r.error->code) << "]: " << r.error->message << "\n";
        conversation.drop_last();
        a_turn_failed = true;
        continue;
      }
      std::vector<protocol::ToolCall> calls;
      for (const auto& c : r.tool_calls) {
        protocol::ToolCall call;
        call.name = c.name;
        call.arguments = c.arguments;
        calls.push_back(std::move(call));
      }
      conversation.add_assistant(r.final, r.analysis, std::move(calls));
    }
  } catch (const Error& e) {
    out << "\nchat: " << e.what() << "\n";
    return kExitTransport;
  }
  return a_turn_failed ? kExitServerError : kExitOk;
}

}  // namespace gossamer::client
