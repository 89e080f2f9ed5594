// `gossamer tokenize` and `gossamer detokenize`: the gpt-oss tokenizer on the command line.
//   gossamer tokenize --tokenizer tokenizer.json --text "Hello"      -> {"ids": [13225]}
//   gossamer tokenize --jsonl in.jsonl  (one {"text": ...} per line)  -> one {"ids": [...]} per line
//   gossamer detokenize --ids 13225,2375                              -> Hello world
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/locate.h"

namespace gossamer::apps {
namespace {

struct TokenizeArgs {
  std::string tokenizer, model, text, jsonl;
  bool text_given = false;
  bool plain = false;
  std::string ids;
  bool json_out = false;
};

Tokenizer load_tokenizer(const TokenizeArgs& a) { return Tokenizer::load(locate_tokenizer({a.tokenizer, a.model})); }

void add_location_options(CLI::App* cmd, TokenizeArgs& a) {
  cmd->add_option("--tokenizer", a.tokenizer, "tokenizer.json (or a folder holding one); overrides --model");
  cmd->add_option("--model", a.model, "model directory whose tokenizer.json to use");
}

std::string ids_json(const std::vector<uint32_t>& ids) { return nlohmann::json{{"ids", ids}}.dump(); }

void run_tokenize(const TokenizeArgs& a) {
  if (a.text_given == !a.jsonl.empty()) GOSSAMER_THROW(kInvalidArgument, "give exactly one of --text and --jsonl");
  const Tokenizer tok = load_tokenizer(a);
  const SpecialTokens mode = a.plain ? SpecialTokens::kAsText : SpecialTokens::kRecognise;
  if (a.text_given) {
    std::printf("%s\n", ids_json(tok.encode(a.text, mode)).c_str());
    return;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (a.jsonl != "-") {
    file.open(a.jsonl, std::ios::binary);
    if (!file) GOSSAMER_THROW(kNotFound, "cannot open {}", a.jsonl);
    in = &file;
  }
  std::string line;
  std::vector<uint32_t> ids;
  for (size_t n = 1; std::getline(*in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      GOSSAMER_THROW(kInvalidArgument, "{} line {}: not JSON: {}", a.jsonl, n, e.what());
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
      GOSSAMER_THROW(kInvalidArgument, "{} line {}: expected an object with a string \"text\"", a.jsonl, n);
    }
    ids.clear();
    tok.encode_append(j["text"].get_ref<const std::string&>(), mode, ids);
    std::fputs(ids_json(ids).c_str(), stdout);
    std::fputc('\n', stdout);
  }
}

std::vector<uint32_t> parse_ids(const std::string& list) {
  std::vector<uint32_t> ids;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string item = list.substr(pos, comma - pos);
    item.erase(0, item.find_first_not_of(" \t[]"));
    item.erase(item.find_last_not_of(" \t[]") + 1);
    if (!item.empty()) {
      size_t used = 0;
      unsigned long long v = 0;
      try {
        v = std::stoull(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size() || item[0] == '-' || v > 0xFFFFFFFFull) {
        GOSSAMER_THROW(kInvalidArgument, "--ids: \"{}\" is not a token id", item);
      }
      ids.push_back(static_cast<uint32_t>(v));
    }
    pos = comma + 1;
  }
  return ids;
}

void run_detokenize(const TokenizeArgs& a) {
  const Tokenizer tok = load_tokenizer(a);
  const auto ids = parse_ids(a.ids);
  if (a.json_out) {
    // JSON needs valid UTF-8: ids that cut a character show U+FFFD there.
    std::printf("%s\n", nlohmann::json{{"text", tok.decode_text(ids)}}.dump().c_str());
  } else {
    const std::string bytes = tok.decode(ids);  // the exact bytes, as encoded
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    std::fputc('\n', stdout);
  }
}

}  // namespace

void add_tokenize_commands(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* tok = app.add_subcommand("tokenize", "Encode text into gpt-oss token ids");
  add_location_options(tok, *args);
  tok->add_option_function<std::string>("--text", [args](const std::string& t) {
    args->text = t;
    args->text_given = true;
  }, "text to encode");
  tok->add_option("--jsonl", args->jsonl, "file with one {\"text\": ...} per line ('-' = stdin); prints one {\"ids\": [...]} per line");
  tok->add_flag("--plain", args->plain, "treat special-token text like <|start|> as plain text");
  tok->callback([args] { run_tokenize(*args); });

  auto* detok = app.add_subcommand("detokenize", "Decode gpt-oss token ids into text");
  add_location_options(detok, *args);
  detok->add_option("--ids", args->ids, "comma-separated ids, e.g. 13225,2375")->required();
  detok->add_flag("--json", args->json_out, "print {\"text\": ...} instead of the raw text");
  detok->callback([args] { run_detokenize(*args); });
}

}  // namespace gossamer::apps
