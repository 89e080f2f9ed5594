#include "tokenizer/locate.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/error.h"

namespace gossamer {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCacheRelative = ".cache/tokenizer-gptoss/tokenizer.json";

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Looks for the cached copy in `start` and each of its parents.
std::string find_upward(fs::path start, std::vector<std::string>& tried) {
  std::error_code ec;
  start = fs::weakly_canonical(start, ec);
  for (fs::path dir = start; !dir.empty(); dir = dir.parent_path()) {
    const fs::path candidate = dir / kCacheRelative;
    if (is_file(candidate)) return candidate.string();
    if (dir == dir.parent_path()) break;
  }
  tried.push_back(start.string() + " and its parents (" + kCacheRelative + ")");
  return {};
}

}  // namespace

std::string locate_tokenizer(const TokenizerSearch& search) {
  std::vector<std::string> tried;
  if (!search.explicit_path.empty()) {
    fs::path p = search.explicit_path;
    std::error_code ec;
    if (fs::is_directory(p, ec)) p /= "tokenizer.json";
    if (is_file(p)) return p.string();
    // An explicit path that does not exist is a mistake to report, not to paper over.
    GOSSAMER_THROW(kNotFound, "tokenizer {} not found", p.string());
  }
  if (!search.model_dir.empty()) {
    const fs::path p = fs::path(search.model_dir) / "tokenizer.json";
    if (is_file(p)) return p.string();
    tried.push_back(p.string());
  }
  if (const char* env = std::getenv("GOSSAMER_TOKENIZER"); env != nullptr && *env != '\0') {
    if (is_file(env)) return env;
    tried.push_back(std::string(env) + " ($GOSSAMER_TOKENIZER)");
  }
  std::error_code ec;
  if (auto found = find_upward(fs::current_path(ec), tried); !found.empty()) return found;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    if (auto found = find_upward(exe.parent_path(), tried); !found.empty()) return found;
  }
  std::string list;
  for (const auto& t : tried) list += "\n  " + t;
  GOSSAMER_THROW(kNotFound,
                 "no tokenizer.json found; pass --tokenizer PATH or --model DIR, or run scripts/setup.sh "
                 "to fetch it. Looked in:{}",
                 list);
}

}  // namespace gossamer
