#include "tokenizer/spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/bytelevel.h"

namespace gossamer::tok {
namespace {

using nlohmann::json;

const json& member(const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key)) {
    GOSSAMER_THROW(kCorruptData, "{}: missing \"{}\"", where, key);
  }
  return obj.at(key);
}

bool flag(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

// Accepts Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)]: the layout every
// tiktoken-converted tokenizer (gpt-oss, Llama 3, ...) uses.
void read_pre_tokenizer(const json& pre, TokenizerSpec& spec) {
  const std::string& src = spec.source;
  if (!pre.is_object()) GOSSAMER_THROW(kUnsupported, "{}: no pre_tokenizer; only byte-level BPE is supported", src);
  std::vector<json> steps;
  if (pre.value("type", "") == "Sequence") {
    for (const auto& s : member(pre, "pretokenizers", src)) steps.push_back(s);
  } else {
    steps.push_back(pre);
  }
  bool byte_level = false;
  for (const auto& s : steps) {
    const std::string type = s.value("type", "");
    if (type == "Split") {
      if (!spec.split_pattern.empty()) GOSSAMER_THROW(kUnsupported, "{}: more than one Split pre-tokenizer", src);
      const json& pat = member(s, "pattern", src);
      if (!pat.contains("Regex")) GOSSAMER_THROW(kUnsupported, "{}: Split pattern is not a regex", src);
      if (s.value("behavior", "") != "Isolated" || flag(s, "invert")) {
        GOSSAMER_THROW(kUnsupported, "{}: Split behavior must be Isolated (not inverted)", src);
      }
      spec.split_pattern = pat.at("Regex").get<std::string>();
    } else if (type == "ByteLevel") {
      if (flag(s, "add_prefix_space") || flag(s, "use_regex")) {
        GOSSAMER_THROW(kUnsupported, "{}: ByteLevel pre-tokenizer with add_prefix_space/use_regex", src);
      }
      byte_level = true;
    } else {
      GOSSAMER_THROW(kUnsupported, "{}: pre-tokenizer \"{}\" is not supported", src, type);
    }
  }
  if (!byte_level || spec.split_pattern.empty()) {
    GOSSAMER_THROW(kUnsupported, "{}: expected a Split regex followed by ByteLevel", src);
  }
}

std::vector<std::string> read_vocab(const json& model, const std::string& src) {
  const json& vocab = member(model, "vocab", src);
  if (!vocab.is_object()) GOSSAMER_THROW(kCorruptData, "{}: model.vocab is not an object", src);
  std::vector<std::string> ranks;
  for (const auto& [text, id_json] : vocab.items()) {
    if (!id_json.is_number_unsigned()) GOSSAMER_THROW(kCorruptData, "{}: vocab id of {} is not an id", src, text);
    const auto id = id_json.get<uint64_t>();
    if (id >= (1u << 24)) GOSSAMER_THROW(kCorruptData, "{}: vocab id {} is implausibly large", src, id);
    auto bytes = bytelevel_decode(text);
    if (!bytes || bytes->empty()) {
      GOSSAMER_THROW(kUnsupported, "{}: vocab entry {} ({}) is not byte-level", src, id, text);
    }
    if (id >= ranks.size()) ranks.resize(id + 1);
    if (!ranks[id].empty()) GOSSAMER_THROW(kCorruptData, "{}: vocab id {} appears twice", src, id);
    ranks[id] = std::move(*bytes);
  }
  return ranks;
}

// Our merge loop ranks a pair by the id of the merged token. That equals HF's loop (rank =
// position in the merge list) exactly when the list is ordered by merged-token id, which
// is how tiktoken-converted files are written; anything else is refused.
void check_merge_order(const json& model, const BpeRanks& ranks, const std::string& src) {
  auto it = model.find("merges");
  if (it == model.end() || !it->is_array()) return;
  uint32_t prev = 0;
  size_t index = 0;
  for (const auto& m : *it) {
    std::string a, b;
    if (m.is_array() && m.size() == 2) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos) GOSSAMER_THROW(kCorruptData, "{}: merge {} is malformed", src, index);
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else {
      GOSSAMER_THROW(kCorruptData, "{}: merge {} is malformed", src, index);
    }
    auto merged = bytelevel_decode(a + b);
    const uint32_t r = merged ? ranks.find(*merged) : BpeRanks::kNone;
    if (r == BpeRanks::kNone) GOSSAMER_THROW(kCorruptData, "{}: merge {} makes no vocabulary token", src, index);
    if (r < prev) {
      GOSSAMER_THROW(kUnsupported, "{}: merges are not ordered by token id (merge {}); rank-based BPE would differ",
                     src, index);
    }
    prev = r;
    ++index;
  }
}

void read_added_tokens(const json& root, TokenizerSpec& spec) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  for (const auto& t : *it) {
    AddedToken a;
    a.id = member(t, "id", spec.source).get<uint32_t>();
    a.content = member(t, "content", spec.source).get<std::string>();
    a.special = t.value("special", false);
    if (a.content.empty()) GOSSAMER_THROW(kCorruptData, "{}: added token {} is empty", spec.source, a.id);
    if (flag(t, "lstrip") || flag(t, "rstrip") || flag(t, "single_word")) {
      GOSSAMER_THROW(kUnsupported, "{}: added token {} uses lstrip/rstrip/single_word", spec.source, a.content);
    }
    spec.added.push_back(std::move(a));
  }
  std::sort(spec.added.begin(), spec.added.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
}

}  // namespace

TokenizerSpec parse_tokenizer_spec(std::string_view json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    GOSSAMER_THROW(kCorruptData, "{}: not valid JSON: {}", source, e.what());
  }
  TokenizerSpec spec;
  spec.source = source;
  try {
    if (auto n = root.find("normalizer"); n != root.end() && !n->is_null()) {
      GOSSAMER_THROW(kUnsupported, "{}: normalizers are not supported", source);
    }
    const json& model = member(root, "model", source);
    if (model.value("type", "") != "BPE") GOSSAMER_THROW(kUnsupported, "{}: model type is not BPE", source);
    if (flag(model, "byte_fallback")) GOSSAMER_THROW(kUnsupported, "{}: byte_fallback BPE", source);
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix", "dropout"}) {
      if (auto f = model.find(k); f != model.end() && !f->is_null() && !(f->is_string() && f->get<std::string>().empty())) {
        GOSSAMER_THROW(kUnsupported, "{}: BPE option {} is not supported", source, k);
      }
    }
    spec.whole_piece_first = flag(model, "ignore_merges");
    read_pre_tokenizer(root.value("pre_tokenizer", json()), spec);
    spec.ranks = BpeRanks(read_vocab(model, source));
    check_merge_order(model, spec.ranks, source);
    read_added_tokens(root, spec);
  } catch (const json::exception& e) {
    GOSSAMER_THROW(kCorruptData, "{}: unexpected structure: {}", source, e.what());
  }
  return spec;
}

TokenizerSpec load_tokenizer_spec(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) GOSSAMER_THROW(kNotFound, "tokenizer file {} not found", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) GOSSAMER_THROW(kIo, "cannot open tokenizer file {}", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) GOSSAMER_THROW(kIo, "cannot read tokenizer file {}", path);
  return parse_tokenizer_spec(buf.str(), path);
}

}  // namespace gossamer::tok
