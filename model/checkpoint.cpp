// Checkpoint::open: finds the layout, parses the config and every safetensors header,
// and checks the index against the shards. Tensor bytes stay in the mmaps.
#include "model/checkpoint.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "model/safetensors.h"
#include "model/tensor_names.h"

namespace gossamer::model {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";

// "hf", "original" or "" for a config.json, without validating it (validation happens
// when the layout's parser reads it, with better messages).
std::string config_kind(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  if (j.contains("num_local_experts") || j.contains("model_type")) return "hf";
  if (j.contains("num_experts")) return "original";
  return "";
}

bool has_hf_weights(const fs::path& dir) {
  return fs::exists(dir / kIndexName) || fs::exists(dir / kSingleName);
}

// The index maps tensor name -> shard file name. Returns shard -> tensors, shards sorted.
std::map<std::string, std::vector<std::string>> read_index(const fs::path& index_path) {
  const std::string p = index_path.string();
  std::ifstream in(index_path, std::ios::binary);
  if (!in) GOSSAMER_THROW(kIo, "{}: cannot read the index", p);
  std::stringstream ss;
  ss << in.rdbuf();
  json j;
  try {
    j = json::parse(ss.str());
  } catch (const json::exception& e) {
    GOSSAMER_THROW(kCorruptData, "{}: index is not valid JSON: {}", p, e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    GOSSAMER_THROW(kCorruptData, "{}: index has no 'weight_map' object", p);
  std::map<std::string, std::vector<std::string>> shards;
  for (auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string())
      GOSSAMER_THROW(kCorruptData, "{}: weight_map entry for tensor {} is {}, not a file name", p, tensor, file.dump());
    std::string f = file.get<std::string>();
    fs::path fp(f);
    // Shards live beside the index; a path that climbs out is a broken or hostile index.
    if (f.empty() || fp.is_absolute() || fp.has_parent_path())
      GOSSAMER_THROW(kCorruptData, "{}: weight_map entry for tensor {} names \"{}\", not a file beside the index",
                     p, tensor, f);
    shards[f].push_back(tensor);
  }
  if (shards.empty()) GOSSAMER_THROW(kCorruptData, "{}: weight_map is empty", p);
  return shards;
}

}  // namespace

Checkpoint::~Checkpoint() = default;

std::shared_ptr<Checkpoint> Checkpoint::open(const fs::path& dir, CheckpointLayout layout) {
  if (!fs::is_directory(dir)) GOSSAMER_THROW(kNotFound, "{}: not a directory", dir.string());
  std::shared_ptr<Checkpoint> c(new Checkpoint());
  c->dir_ = dir;

  // The original layout lives in dir/original/, or dir itself holds original/config.json's
  // contents (someone pointed us at the subfolder).
  auto original_root = [&]() -> fs::path {
    if (fs::exists(dir / "original" / "config.json")) return dir / "original";
    if (config_kind(dir / "config.json") == "original") return dir;
    return {};
  };

  if (layout == CheckpointLayout::kAuto) {
    std::string kind = config_kind(dir / "config.json");
    if (kind == "hf" && has_hf_weights(dir)) layout = CheckpointLayout::kHF;
    else if (!original_root().empty()) layout = CheckpointLayout::kOriginal;
    else if (fs::exists(dir / "config.json")) layout = CheckpointLayout::kHF;  // let it fail with detail
    else GOSSAMER_THROW(kNotFound, "{}: no config.json and no original/config.json: not a model directory",
                        dir.string());
  }
  c->layout_ = layout;
  if (layout == CheckpointLayout::kHF) {
    c->open_hf(dir);
  } else {
    fs::path root = original_root();
    if (root.empty())
      GOSSAMER_THROW(kNotFound, "{}: no original/config.json (original layout requested)", dir.string());
    c->open_original(root);
  }
  return c;
}

void Checkpoint::open_hf(const fs::path& dir) {
  config_path_ = dir / "config.json";
  if (!fs::exists(config_path_)) GOSSAMER_THROW(kNotFound, "{}: missing (HF layout)", config_path_.string());
  if (config_kind(config_path_) == "original")
    GOSSAMER_THROW(kInvalidArgument, "{}: an original-layout config, but the HF layout was requested",
                   config_path_.string());
  config_ = ModelConfig::load_file(config_path_);

  if (fs::exists(dir / kIndexName)) {
    source_path_ = dir / kIndexName;
    auto shards = read_index(source_path_);
    for (auto& [file, names] : shards) {
      fs::path fp = dir / file;
      // Non-throwing: a name the file system cannot even look up (longer than NAME_MAX,
      // found by fuzz/fuzz_shard_index.cpp) is a broken index, not a std::filesystem_error.
      std::error_code ec;
      const bool exists = fs::exists(fp, ec);
      if (ec)
        GOSSAMER_THROW(kCorruptData, "{}: shard \"{}\" (holding tensor {}) cannot be looked up: {}",
                       source_path_.string(), file.size() > 80 ? file.substr(0, 80) + "..." : file, names.front(),
                       ec.message());
      if (!exists)
        GOSSAMER_THROW(kNotFound, "{}: shard {} (holding tensor {}) does not exist", source_path_.string(),
                       fp.string(), names.front());
      files_.push_back(SafetensorsFile::open(fp));
      add_file_tensors(files_.size() - 1, &names);
    }
  } else if (fs::exists(dir / kSingleName)) {
    source_path_ = dir / kSingleName;
    files_.push_back(SafetensorsFile::open(source_path_));
    add_file_tensors(0, nullptr);
  } else {
    GOSSAMER_THROW(kNotFound, "{}: neither {} nor {} found", dir.string(), kIndexName, kSingleName);
  }
}

void Checkpoint::open_original(const fs::path& root) {
  config_path_ = root / "config.json";
  json j;
  {
    std::ifstream in(config_path_, std::ios::binary);
    if (!in) GOSSAMER_THROW(kNotFound, "{}: cannot open", config_path_.string());
    std::stringstream ss;
    ss << in.rdbuf();
    try {
      j = json::parse(ss.str());
    } catch (const json::exception& e) {
      GOSSAMER_THROW(kInvalidArgument, "{}: not valid JSON: {}", config_path_.string(), e.what());
    }
  }
  config_ = ModelConfig::from_original_json(j, config_path_.string());
  // The original config has no token ids; take them from the HF files beside it if present.
  fs::path parent = root.parent_path();
  for (const fs::path& p : {parent / "config.json", parent / "generation_config.json"}) {
    if (!fs::exists(p) || config_kind(p) == "original") continue;
    std::ifstream in(p, std::ios::binary);
    json g = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!g.is_object()) continue;
    auto add = [&](const json& e) {
      if (!e.is_number_integer()) return;
      int id = e.get<int>();
      if (id >= 0 && id < config_.vocab_size &&
          std::find(config_.eos_token_ids.begin(), config_.eos_token_ids.end(), id) == config_.eos_token_ids.end())
        config_.eos_token_ids.push_back(id);
    };
    if (g.contains("eos_token_id")) {
      if (g["eos_token_id"].is_array()) for (const auto& e : g["eos_token_id"]) add(e);
      else add(g["eos_token_id"]);
    }
    if (config_.pad_token_id < 0 && g.contains("pad_token_id") && g["pad_token_id"].is_number_integer() &&
        g["pad_token_id"].get<int64_t>() < config_.vocab_size)
      config_.pad_token_id = g["pad_token_id"].get<int>();
  }
  source_path_ = root / kSingleName;
  if (!fs::exists(source_path_)) GOSSAMER_THROW(kNotFound, "{}: missing (original layout)", source_path_.string());
  files_.push_back(SafetensorsFile::open(source_path_));
  add_file_tensors(0, nullptr);
}

// Registers the tensors of files_[file_index]: all of them, or only `only` (from the
// index), each of which must be in the file's header.
void Checkpoint::add_file_tensors(size_t file_index, const std::vector<std::string>* only) {
  const SafetensorsFile& f = *files_[file_index];
  auto add = [&](const SafetensorsEntry& e) {
    if (by_name_.count(e.name))
      GOSSAMER_THROW(kCorruptData, "{}: tensor {} also appears in {}", f.path().string(), e.name,
                     tensors_[by_name_[e.name]].file.string());
    TensorInfo t;
    t.name = e.name;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.file = f.path();
    t.data = f.data(e);
    t.nbytes = e.nbytes();
    by_name_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  };
  if (!only) {
    for (const auto& e : f.entries()) add(e);
    return;
  }
  std::vector<const SafetensorsEntry*> listed;
  for (const auto& name : *only) {
    const SafetensorsEntry* e = f.find(name);
    if (!e)
      GOSSAMER_THROW(kCorruptData, "{}: tensor {} is listed in {} but missing from the file", f.path().string(),
                     name, source_path_.string());
    listed.push_back(e);
  }
  std::sort(listed.begin(), listed.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
  for (auto* e : listed) add(*e);
  if (listed.size() < f.entries().size())
    GLOG_WARN("{}: {} tensors are not in {} and are ignored", f.path().string(),
              f.entries().size() - listed.size(), source_path_.string());
}

const TensorInfo* Checkpoint::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& Checkpoint::get(const std::string& name) const {
  const TensorInfo* t = find(name);
  if (!t)
    GOSSAMER_THROW(kNotFound, "tensor {} not found in {} ({} layout)", name, source_path_.string(),
                   layout_name(layout_));
  return *t;
}

std::vector<fs::path> Checkpoint::files() const {
  std::vector<fs::path> out;
  for (const auto& f : files_) out.push_back(f->path());
  return out;
}

void Checkpoint::check_files_unchanged() const {
  for (const auto& f : files_) f->check_unchanged();
}

uint64_t Checkpoint::total_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

}  // namespace gossamer::model
