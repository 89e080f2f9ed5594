#pragma once
// The library side of `gossamer chat`: an interactive loop that keeps the conversation
// (OpenAI messages array) and sends all of it with every turn, so the server stays
// stateless between turns.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "protocol/client_messages.h"

namespace gossamer::client {

class Conversation {
 public:
  explicit Conversation(std::optional<std::string> system = std::nullopt);
  void add_user(std::string text);
  // The assistant's reply joins the history with its analysis as `thinking`, which the
  // server's harmony renderer may drop or keep (gpt-oss drops it after a final answer).
  void add_assistant(std::string final_text, std::string thinking,
                     std::vector<protocol::ToolCall> tool_calls = {});
  void drop_last();  // a failed turn must not stay in the history
  void reset();      // back to just the system message
  const std::vector<protocol::ChatMessage>& messages() const { return messages_; }

 private:
  std::optional<std::string> system_;
  std::vector<protocol::ChatMessage> messages_;
};

struct ChatOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";
  std::optional<std::string> system;
  protocol::Params params;
  bool show_thinking = false;
  bool prompts = true;  // print "you> " before reading each line (off when piping)
  Millis idle_timeout{60000};
  Millis total_timeout{600000};
};

// Reads one user turn per line until EOF or "/quit"; "/reset" clears the history.
// Replies stream to `out`. Server errors are printed and the turn is dropped; the loop
// goes on. Returns kExitOk, or kExitTransport when the server stops answering.
int run_chat(const ChatOptions& options, std::istream& in, std::ostream& out);

}  // namespace gossamer::client
