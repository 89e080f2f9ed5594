// Single-thread encode throughput of the gpt-oss tokenizer on a JSONL corpus (one
// {"text": ...} per line), the C++ half of bench/tokenizer/run.sh. Each text is encoded on
// its own as plain text (special-token strings spelled out, as js-tiktoken does with no
// specials allowed), best of --runs timed passes after one warm-up pass. Prints one JSON
// object: MB/s, token count and an FNV-1a hash of all ids, so the script can check that
// both implementations produced the same ids.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/timer.h"
#include "tokenizer/tokenizer.h"

namespace {

struct Args {
  std::string tokenizer, corpus;
  int runs = 3;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--tokenizer") a.tokenizer = v;
    else if (k == "--corpus") a.corpus = v;
    else if (k == "--runs") a.runs = std::stoi(v);
    else GOSSAMER_THROW(kInvalidArgument, "unknown option {}", k);
  }
  if (a.tokenizer.empty() || a.corpus.empty()) {
    GOSSAMER_THROW(kInvalidArgument, "usage: tokenizer_bench --tokenizer tokenizer.json --corpus corpus.jsonl [--runs N]");
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    gossamer::Timer load_timer;
    const auto tok = gossamer::Tokenizer::load(args.tokenizer);
    const double load_s = load_timer.seconds();

    std::vector<std::string> texts;
    size_t bytes = 0;
    std::ifstream in(args.corpus);
    if (!in) GOSSAMER_THROW(kNotFound, "corpus {} not found", args.corpus);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      texts.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
      bytes += texts.back().size();
    }

    std::vector<uint32_t> ids;
    auto pass = [&](uint64_t& hash, size_t& count) {
      hash = 1469598103934665603ull;
      count = 0;
      for (const auto& t : texts) {
        ids.clear();
        tok.encode_append(t, gossamer::SpecialTokens::kAsText, ids);
        for (uint32_t id : ids) hash = (hash ^ id) * 1099511628211ull;
        count += ids.size();
      }
    };
    uint64_t hash = 0;
    size_t tokens = 0;
    pass(hash, tokens);  // warm-up: page in the tables, fill the piece cache
    double best = 1e30;
    for (int r = 0; r < args.runs; ++r) {
      gossamer::Timer t;
      pass(hash, tokens);
      best = std::min(best, t.seconds());
    }
    nlohmann::json out = {{"impl", "gossamer"},          {"bytes", bytes},
                          {"texts", texts.size()},       {"tokens", tokens},
                          {"ids_fnv1a", fmt::format("{:016x}", hash)},
                          {"best_seconds", best},        {"mb_per_s", bytes / best / 1e6},
                          {"load_seconds", load_s},      {"runs", args.runs}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tokenizer_bench: %s\n", e.what());
    return 1;
  }
}
