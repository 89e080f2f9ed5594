#include "worker/runtime_config.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.h"

namespace gossamer::worker {

std::chrono::milliseconds RuntimeSettings::comm_timeout() const {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(comm_timeout_s * 1000)));
}

namespace {

// ---- values: each parser takes the text and returns an error string or fills `out` ----

std::string parse_int(const std::string& text, int64_t min, int64_t max, int64_t* out) {
  const char* b = text.data();
  const char* e = b + text.size();
  int64_t v = 0;
  auto [p, ec] = std::from_chars(b, e, v);
  if (text.empty() || ec != std::errc() || p != e) return "not an integer";
  if (v < min || v > max) return "out of range";
  *out = v;
  return {};
}

std::string parse_positive_number(const std::string& text, double* out) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0)
    return "bad";
  *out = v;
  return {};
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// ---- YAML walking with key paths in every error ----------------------------------------

class Walker {
 public:
  explicit Walker(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& path,
                         const std::string& message) const {
    const YAML::Mark m = at.Mark();
    if (m.line >= 0)
      GOSSAMER_THROW(kInvalidArgument, "{}:{}: {}: {}", source_, m.line + 1, path, message);
    GOSSAMER_THROW(kInvalidArgument, "{}: {}: {}", source_, path, message);
  }

  static std::string describe(const YAML::Node& n) {
    if (!n.IsDefined() || n.IsNull()) return "nothing";
    if (n.IsScalar()) return in_quotes(n.Scalar());
    if (n.IsSequence()) return "a list";
    return "a mapping";
  }

  // Calls fn(key, value, path) for each key of the mapping `node`; unknown or repeated keys
  // are errors. A missing or empty section (`parallel:`) has no keys.
  template <typename Fn>
  void each_key(const YAML::Node& node, const std::string& path,
                const std::vector<std::string>& allowed, Fn fn) const {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) fail(node, path, "expected a mapping, got " + describe(node));
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::string key_path = path.empty() ? key : path + "." + key;
      bool known = false;
      for (const auto& a : allowed) known = known || a == key;
      if (!known) fail(it->first, key_path, "unknown key (expected one of: " + join(allowed) + ")");
      if (!seen.insert(key).second) fail(it->first, key_path, "repeated key");
      fn(key, it->second, key_path);
    }
  }

  std::string scalar(const YAML::Node& n, const std::string& path, const char* expected) const {
    if (!n.IsScalar()) fail(n, path, std::string("expected ") + expected + ", got " + describe(n));
    return n.Scalar();
  }

  int64_t integer(const YAML::Node& n, const std::string& path, int64_t min,
                  int64_t max = INT32_MAX) const {
    const char* expected = min > 0 ? "a positive integer" : "an integer >= 0";
    int64_t v = 0;
    if (!parse_int(scalar(n, path, expected), min, max, &v).empty())
      fail(n, path, std::string("expected ") + expected + ", got " + describe(n));
    return v;
  }

  double positive(const YAML::Node& n, const std::string& path) const {
    double v = 0;
    if (!parse_positive_number(scalar(n, path, "a positive number"), &v).empty())
      fail(n, path, "expected a positive number, got " + describe(n));
    return v;
  }

  double non_negative(const YAML::Node& n, const std::string& path) const {
    const std::string text = scalar(n, path, "a number >= 0");
    double v = 0;
    if (text == "0" || text == "0.0") return 0;
    if (!parse_positive_number(text, &v).empty())
      fail(n, path, "expected a number >= 0, got " + describe(n));
    return v;
  }

  bool boolean(const YAML::Node& n, const std::string& path) const {
    return choice(n, path, {"true", "false"}) == "true";
  }

  std::string choice(const YAML::Node& n, const std::string& path,
                     const std::vector<std::string>& options) const {
    const std::string what = "one of " + join(options);
    const std::string v = scalar(n, path, what.c_str());
    for (const auto& o : options)
      if (o == v) return v;
    fail(n, path, "expected " + what + ", got " + describe(n));
  }

 private:
  std::string source_;
};

const std::vector<std::string> kDispatchNames = {"allgather", "alltoall"};

void read_parallel(const Walker& w, const YAML::Node& n, ParallelSettings* p) {
  w.each_key(n, "parallel", {"tp", "dp", "ep", "pp", "moe_dispatch"},
             [&](const std::string& k, const YAML::Node& v, const std::string& path) {
               if (k == "moe_dispatch") {
                 p->moe_dispatch = w.choice(v, path, kDispatchNames);
                 return;
               }
               const int x = static_cast<int>(w.integer(v, path, 1));
               if (k == "tp") p->sizes.tp = x;
               if (k == "dp") p->sizes.dp = x;
               if (k == "ep") p->sizes.ep = x;
               if (k == "pp") p->sizes.pp = x;
             });
}

void read_runtime(const Walker& w, const YAML::Node& n, RuntimeSettings* r) {
  w.each_key(n, "runtime",
             {"threads", "max_batch_tokens", "kv_block_size", "kv_blocks", "kv_window_blocks",
              "comm_timeout_s", "device", "gpu_comm", "gpu_memory_fraction", "precision"},
             [&](const std::string& k, const YAML::Node& v, const std::string& path) {
               if (k == "threads") r->threads = static_cast<int>(w.integer(v, path, 0, 4096));
               if (k == "max_batch_tokens") r->max_batch_tokens = w.integer(v, path, 1);
               if (k == "kv_block_size") r->kv_block_size = static_cast<int>(w.integer(v, path, 1, 4096));
               if (k == "kv_blocks") r->kv_blocks = w.integer(v, path, 0, INT32_MAX);
               if (k == "kv_window_blocks") r->kv_window_blocks = w.integer(v, path, 0, INT32_MAX);
               if (k == "comm_timeout_s") r->comm_timeout_s = w.non_negative(v, path);
               if (k == "device") r->device = w.choice(v, path, {"cpu", "cuda"});
               if (k == "gpu_comm") r->gpu_comm = w.choice(v, path, {"nccl", "staged"});
               if (k == "precision") r->precision = w.choice(v, path, {"auto", "exact", "fast"});
               if (k == "gpu_memory_fraction") {
                 r->gpu_memory_fraction = w.positive(v, path);
                 if (r->gpu_memory_fraction > 1) w.fail(v, path, "expected a fraction in (0, 1]");
               }
             });
}

void read_server(const Walker& w, const YAML::Node& n, ServerSettings* s) {
  w.each_key(n, "server",
             {"endpoint", "max_queue", "max_frame_bytes", "heartbeat_s", "max_context",
              "max_running", "default_max_tokens", "max_tokens", "curve_secret_key_file",
              "curve_authorized_keys_file", "max_inflight_per_connection", "send_hwm", "insecure"},
             [&](const std::string& k, const YAML::Node& v, const std::string& path) {
               if (k == "endpoint") {
                 s->endpoint = w.scalar(v, path, "a ZeroMQ endpoint");
                 if (s->endpoint.find("://") == std::string::npos)
                   w.fail(v, path, "expected a ZeroMQ endpoint like tcp://*:5555, got " +
                                       in_quotes(s->endpoint));
               }
               if (k == "max_queue") s->max_queue = static_cast<int>(w.integer(v, path, 1));
               if (k == "max_frame_bytes") s->max_frame_bytes = w.integer(v, path, 1, INT64_MAX);
               if (k == "heartbeat_s") s->heartbeat_s = w.positive(v, path);
               if (k == "max_context") s->max_context = static_cast<int>(w.integer(v, path, 2, 1 << 24));
               if (k == "max_running") s->max_running = static_cast<int>(w.integer(v, path, 1, 1 << 20));
               if (k == "default_max_tokens") s->default_max_tokens = w.integer(v, path, 1, 1 << 24);
               if (k == "max_tokens") s->max_tokens = w.integer(v, path, 1, 1 << 24);
               if (k == "max_inflight_per_connection") s->max_inflight_per_connection = w.integer(v, path, 1, 1 << 24);
               if (k == "send_hwm") s->send_hwm = static_cast<int>(w.integer(v, path, 1, 1 << 24));
               if (k == "insecure") s->insecure = w.boolean(v, path);
               if (k == "curve_secret_key_file") s->curve_secret_key_file = w.scalar(v, path, "a path");
               if (k == "curve_authorized_keys_file")
                 s->curve_authorized_keys_file = w.scalar(v, path, "a path");
             });
}

void read_cluster(const Walker& w, const YAML::Node& n, ClusterSettings* c) {
  w.each_key(n, "cluster", {"nodes", "ranks_per_node", "hostfile"},
             [&](const std::string& k, const YAML::Node& v, const std::string& path) {
               if (k == "nodes") c->nodes = static_cast<int>(w.integer(v, path, 1));
               if (k == "ranks_per_node") c->ranks_per_node = static_cast<int>(w.integer(v, path, 0));
               if (k == "hostfile") c->hostfile = w.scalar(v, path, "a path");
             });
}

}  // namespace

RuntimeConfig RuntimeConfig::parse(std::string_view yaml, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    GOSSAMER_THROW(kInvalidArgument, "{}:{}: not valid YAML: {}", source, e.mark.line + 1, e.msg);
  }
  const Walker w(source);
  RuntimeConfig c;
  w.each_key(root, "", {"model", "parallel", "runtime", "server", "cluster"},
             [&](const std::string& k, const YAML::Node& v, const std::string& path) {
               if (k == "model")
                 w.each_key(v, path, {"path", "layout"},
                            [&](const std::string& mk, const YAML::Node& mv, const std::string& mp) {
                              if (mk == "path") c.model.path = w.scalar(mv, mp, "a directory");
                              if (mk == "layout")
                                c.model.layout = w.choice(mv, mp, {"auto", "hf", "original"});
                            });
               if (k == "parallel") read_parallel(w, v, &c.parallel);
               if (k == "runtime") read_runtime(w, v, &c.runtime);
               if (k == "server") read_server(w, v, &c.server);
               if (k == "cluster") read_cluster(w, v, &c.cluster);
             });
  return c;
}

RuntimeConfig RuntimeConfig::load_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) GOSSAMER_THROW(kNotFound, "config file {} cannot be opened", path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

void RuntimeConfig::apply_parallel_spec(std::string_view spec) {
  parallel = parse_parallel_spec(spec, parallel);
}

void RuntimeConfig::check_world(int world_size) const {
  const auto& p = parallel.sizes;
  if (p.world_size() != world_size)
    GOSSAMER_THROW(kInvalidArgument,
                   "parallel: tp × dp × pp = {} × {} × {} = {} ranks, but the job has {}", p.tp,
                   p.dp, p.pp, p.world_size(), world_size);
  if (cluster.ranks_per_node > 0 && cluster.nodes * cluster.ranks_per_node != world_size)
    GOSSAMER_THROW(kInvalidArgument,
                   "cluster: nodes × ranks_per_node = {} × {} = {} ranks, but the job has {}",
                   cluster.nodes, cluster.ranks_per_node, cluster.nodes * cluster.ranks_per_node,
                   world_size);
}

namespace {

[[noreturn]] void spec_error(const std::string& spec, const std::string& what) {
  GOSSAMER_THROW(kInvalidArgument, "--parallel '{}': {}", spec, what);
}

// Shared by parse_parallel and parse_parallel_spec; `dispatch` null = key not allowed.
void parse_spec(std::string_view spec, ParallelConfig* sizes, std::string* dispatch) {
  const std::string all(spec);
  const std::string keys = dispatch ? "tp, dp, ep, pp, moe_dispatch" : "tp, dp, ep, pp";
  if (spec.empty()) spec_error(all, "empty (expected e.g. tp=2,ep=2)");
  std::set<std::string> seen;
  size_t at = 0;
  while (at <= all.size()) {
    const size_t comma = std::min(all.find(',', at), all.size());
    const std::string item = all.substr(at, comma - at);
    at = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) spec_error(all, in_quotes(item) + ": expected key=value");
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!seen.insert(key).second) spec_error(all, key + ": repeated");
    if (key == "moe_dispatch" && dispatch) {
      if (value != "allgather" && value != "alltoall")
        spec_error(all, "moe_dispatch: expected one of allgather, alltoall, got " + in_quotes(value));
      *dispatch = value;
      continue;
    }
    int* slot = key == "tp" ? &sizes->tp
              : key == "dp" ? &sizes->dp
              : key == "ep" ? &sizes->ep
              : key == "pp" ? &sizes->pp
                            : nullptr;
    if (slot == nullptr)
      spec_error(all, in_quotes(key) + ": unknown key (expected one of: " + keys + ")");
    int64_t v = 0;
    if (!parse_int(value, 1, INT32_MAX, &v).empty())
      spec_error(all, key + ": expected a positive integer, got " + in_quotes(value));
    *slot = static_cast<int>(v);
  }
}

}  // namespace

ParallelConfig parse_parallel(std::string_view spec, ParallelConfig base) {
  parse_spec(spec, &base, nullptr);
  return base;
}

ParallelSettings parse_parallel_spec(std::string_view spec, ParallelSettings base) {
  parse_spec(spec, &base.sizes, &base.moe_dispatch);
  return base;
}

}  // namespace gossamer::worker
