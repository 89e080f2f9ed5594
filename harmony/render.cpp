#include "harmony/render.h"

#include "core/error.h"
#include "harmony/tools.h"

namespace gossamer::harmony {
namespace {

// Collects the rendering as runs of plain text and special tokens, so ids can be made
// without re-scanning text for special-token strings.
class Builder {
 public:
  void special(const char* token) {
    runs_.push_back({true, text_.size(), 0});
    text_ += token;
    runs_.back().end = text_.size();
  }
  void text(const std::string& s) {
    if (s.empty()) return;
    if (runs_.empty() || runs_.back().special) runs_.push_back({false, text_.size(), 0});
    text_ += s;
    runs_.back().end = text_.size();
  }
  const std::string& str() const { return text_; }
  std::vector<uint32_t> ids(const Tokenizer& tok) const {
    std::vector<uint32_t> out;
    out.reserve(text_.size() / 3 + 16);
    for (const Run& r : runs_) {
      const std::string_view piece = std::string_view(text_).substr(r.begin, r.end - r.begin);
      if (r.special) {
        out.push_back(tok.special_id(piece));
      } else {
        tok.encode_append(piece, SpecialTokens::kAsText, out);
      }
    }
    return out;
  }

 private:
  struct Run {
    bool special;
    size_t begin, end;
  };
  std::string text_;
  std::vector<Run> runs_;
};

constexpr const char* kChannelTagError =
    "contains <|channel|> tags; pass analysis text in \"thinking\" and the final answer in \"content\"";

void check_no_channel_tags(const std::string& s, const std::string& where) {
  if (s.find("<|channel|>analysis<|message|>") != std::string::npos ||
      s.find("<|channel|>final<|message|>") != std::string::npos) {
    GOSSAMER_THROW(kInvalidArgument, "{} {}", where, kChannelTagError);
  }
}

const std::string& text_of(const ChatMessage& m) { return m.content.get_ref<const std::string&>(); }
bool has_text(const ChatMessage& m) { return m.content.is_string() && !text_of(m).empty(); }

void render_system(const ChatRequest& r, Builder& b) {
  b.special("<|start|>");
  b.text("system");
  b.special("<|message|>");
  const std::string date = r.current_date.empty() ? today_date() : r.current_date;
  std::string s = r.model_identity + "\n" + "Knowledge cutoff: 2024-06\n" + "Current date: " + date + "\n\n" +
                  "Reasoning: " + reasoning_effort_name(r.reasoning_effort) + "\n\n" +
                  "# Valid channels: analysis, commentary, final. Channel must be included for every message.";
  if (python_truthy(r.tools)) s += "\nCalls to these tools must go to the commentary channel: 'functions'.";
  b.text(s);
  b.special("<|end|>");
}

void render_developer(const std::string& instructions, const ChatRequest& r, Builder& b) {
  const bool tools = python_truthy(r.tools);
  if (instructions.empty() && !tools) return;
  b.special("<|start|>");
  b.text("developer");
  b.special("<|message|>");
  if (!instructions.empty()) b.text("# Instructions\n\n" + instructions + "\n\n");
  if (tools) b.text("# Tools\n\n" + render_tool_namespace("functions", r.tools));
  b.special("<|end|>");
}

void assistant_message(Builder& b, const char* channel, const std::string& body, const char* end) {
  b.special("<|start|>");
  b.text("assistant");
  b.special("<|channel|>");
  b.text(channel);
  b.special("<|message|>");
  b.text(body);
  b.special(end);
}

std::string tool_arguments(const Json& args, bool literal) {
  if (args.is_string() && !literal) {
    const auto& s = args.get_ref<const std::string&>();
    Json parsed = Json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) return python_json_dumps(parsed);
  }
  return python_json_dumps(args);
}

}  // namespace

static Builder build(const ChatRequest& r) {
  if (r.messages.empty()) GOSSAMER_THROW(kInvalidArgument, "no messages to render");
  Builder b;
  render_system(r, b);
  size_t first = 0;
  std::string instructions;
  if (r.messages[0].role == chat::Role::kSystem || r.messages[0].role == chat::Role::kDeveloper) {
    instructions = text_of(r.messages[0]);
    first = 1;
  }
  render_developer(instructions, r, b);

  std::optional<std::string> last_tool;
  const size_t n = r.messages.size();
  for (size_t i = first; i < n; ++i) {
    const ChatMessage& m = r.messages[i];
    const std::string where = fmt::format("messages[{}]", i);
    if (m.role == chat::Role::kUser) {
      b.special("<|start|>");
      b.text("user");
      b.special("<|message|>");
      b.text(text_of(m));
      b.special("<|end|>");
    } else if (m.role == chat::Role::kTool) {
      if (!last_tool) GOSSAMER_THROW(kInvalidArgument, "{} is a tool result, but no assistant tool call precedes it", where);
      b.special("<|start|>");
      b.text("functions." + *last_tool + " to=assistant");
      b.special("<|channel|>");
      b.text("commentary");
      b.special("<|message|>");
      b.text(python_json_dumps(m.content));
      b.special("<|end|>");
    } else if (m.role == chat::Role::kAssistant) {
      if (m.content.is_string()) check_no_channel_tags(text_of(m), where + ".content");
      if (m.thinking) check_no_channel_tags(*m.thinking, where + ".thinking");
      if (!m.tool_calls.empty()) {
        // The analysis before a tool call is kept only while no later assistant message
        // has given a final answer (the template's future_final_message).
        bool final_later = false;
        for (size_t k = i + 1; k < n; ++k) final_later |= r.messages[k].role == chat::Role::kAssistant && r.messages[k].tool_calls.empty();
        const bool thinking = m.thinking && !m.thinking->empty();
        if (has_text(m) && thinking) {
          GOSSAMER_THROW(kInvalidArgument, "{} has both content and thinking beside a tool call; put the analysis in one", where);
        }
        if (has_text(m) && !final_later) assistant_message(b, "analysis", text_of(m), "<|end|>");
        if (thinking && !final_later) assistant_message(b, "analysis", *m.thinking, "<|end|>");
        const ToolCall& call = m.tool_calls[0];
        b.special("<|start|>");
        b.text("assistant to=functions." + call.name);
        b.special("<|channel|>");
        b.text("commentary " + call.content_type.value_or("json"));
        b.special("<|message|>");
        b.text(tool_arguments(call.arguments, r.literal_string_arguments));
        b.special("<|call|>");
        last_tool = call.name;
      } else if (i + 1 == n && !r.add_generation_prompt) {
        // A finished last turn (training data): its analysis is kept and it ends in <|return|>.
        if (m.thinking) assistant_message(b, "analysis", *m.thinking, "<|end|>");
        assistant_message(b, "final", text_of(m), "<|return|>");
      } else {
        assistant_message(b, "final", text_of(m), "<|end|>");
        last_tool.reset();
      }
    } else {
      GOSSAMER_THROW(kInvalidArgument, "{}: a {} message may only come first", where, chat::role_name(m.role));
    }
  }
  if (r.add_generation_prompt) {
    b.special("<|start|>");
    b.text("assistant");
  }
  return b;
}

RenderedPrompt render(const Tokenizer& tok, const ChatRequest& request) {
  const Builder b = build(request);
  return {b.str(), b.ids(tok)};
}

std::string render_text(const ChatRequest& request) { return build(request).str(); }

}  // namespace gossamer::harmony
