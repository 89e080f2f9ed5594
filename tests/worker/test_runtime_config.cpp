// RuntimeConfig: the shipped configs parse and fit their models; bad files name the key.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "worker/runtime_config.h"

namespace gossamer::worker {
namespace {

namespace fs = std::filesystem;

std::string error_of(auto fn) {
  try {
    fn();
  } catch (const Error& e) {
    return std::string(error_code_name(e.code())) + ": " + e.what();
  }
  return "no error";
}

void expect_config_error(std::string_view yaml, const std::string& needle) {
  const std::string got = error_of([&] { RuntimeConfig::parse(yaml, "t.yaml"); });
  EXPECT_NE(got.find(needle), std::string::npos) << "yaml:\n" << yaml << "\ngot: " << got
                                                 << "\nwanted: " << needle;
  EXPECT_EQ(got.rfind("invalid_argument", 0), 0u) << got;
}

TEST(RuntimeConfig, FullFile) {
  const auto c = RuntimeConfig::parse(R"(
model: {path: /m/gpt-oss-20b, layout: hf}
parallel:
  tp: 2
  dp: 2
  ep: 4
  pp: 1
  moe_dispatch: alltoall
runtime: {threads: 3, max_batch_tokens: 1024, kv_block_size: 32, kv_blocks: 100,
          kv_window_blocks: 40, comm_timeout_s: 2.5, device: cuda, gpu_comm: staged,
          gpu_memory_fraction: 0.75, precision: fast}
server: {endpoint: "tcp://*:6000", max_queue: 9, max_frame_bytes: 1000, heartbeat_s: 1,
         curve_secret_key_file: s.key, curve_authorized_keys_file: a.keys}
cluster: {nodes: 2, ranks_per_node: 2, hostfile: hosts}
)");
  EXPECT_EQ(c.model.path, "/m/gpt-oss-20b");
  EXPECT_EQ(c.model.layout, "hf");
  EXPECT_EQ(c.parallel.sizes, (ParallelConfig{.tp = 2, .dp = 2, .ep = 4, .pp = 1}));
  EXPECT_EQ(c.parallel.moe_dispatch, "alltoall");
  EXPECT_EQ(c.runtime.threads, 3);
  EXPECT_EQ(c.runtime.max_batch_tokens, 1024);
  EXPECT_EQ(c.runtime.kv_block_size, 32);
  EXPECT_EQ(c.runtime.kv_blocks, 100);
  EXPECT_EQ(c.runtime.kv_window_blocks, 40);
  EXPECT_EQ(c.runtime.comm_timeout().count(), 2500);
  EXPECT_EQ(c.runtime.device, "cuda");
  EXPECT_EQ(c.runtime.gpu_comm, "staged");
  EXPECT_DOUBLE_EQ(c.runtime.gpu_memory_fraction, 0.75);
  EXPECT_EQ(c.runtime.precision, "fast");
  EXPECT_EQ(c.server.endpoint, "tcp://*:6000");
  EXPECT_EQ(c.server.max_queue, 9);
  EXPECT_EQ(c.server.max_frame_bytes, 1000);
  EXPECT_EQ(c.server.curve_authorized_keys_file, "a.keys");
  EXPECT_EQ(c.cluster.nodes, 2);
  EXPECT_EQ(c.cluster.hostfile, "hosts");
  c.check_world(4);
  EXPECT_NE(error_of([&] { c.check_world(8); }).find("but the job has 8"), std::string::npos);
}

TEST(RuntimeConfig, EmptyFileGivesDefaults) {
  const auto c = RuntimeConfig::parse("", "empty.yaml");
  EXPECT_EQ(c.parallel.sizes, ParallelConfig{});
  EXPECT_EQ(c.parallel.moe_dispatch, "allgather");
  EXPECT_EQ(c.runtime.comm_timeout().count(), 60000);
  EXPECT_EQ(c.model.layout, "auto");
  EXPECT_EQ(c.runtime.precision, "auto");
  const auto sections = RuntimeConfig::parse("parallel:\nruntime: {}\n");
  EXPECT_EQ(sections.parallel.sizes.tp, 1);
}

TEST(RuntimeConfig, BadValuesNameTheKey) {
  expect_config_error("parallel:\n  tp: x\n", "t.yaml:2: parallel.tp: expected a positive integer, got 'x'");
  expect_config_error("parallel: {tp: 0}", "parallel.tp: expected a positive integer, got '0'");
  expect_config_error("parallel: {ep: 2.5}", "parallel.ep: expected a positive integer, got '2.5'");
  expect_config_error("parallel:\n  pp:\n", "parallel.pp: expected a positive integer, got nothing");
  expect_config_error("parallel: {moe_dispatch: ring}",
               "parallel.moe_dispatch: expected one of allgather, alltoall, got 'ring'");
  expect_config_error("runtime: {comm_timeout_s: -1}",
               "runtime.comm_timeout_s: expected a number >= 0, got '-1'");
  expect_config_error("runtime: {comm_timeout_s: soon}",
               "runtime.comm_timeout_s: expected a number >= 0, got 'soon'");
  EXPECT_EQ(RuntimeConfig::parse("runtime: {comm_timeout_s: 0}").runtime.comm_timeout().count(), 0);
  expect_config_error("runtime: {threads: -2}", "runtime.threads: expected an integer >= 0, got '-2'");
  expect_config_error("runtime: {kv_block_size: [16]}",
               "runtime.kv_block_size: expected a positive integer, got a list");
  expect_config_error("runtime: {device: tpu}", "runtime.device: expected one of cpu, cuda, got 'tpu'");
  expect_config_error("runtime: {precision: int4}", "runtime.precision: expected one of auto, exact, fast, got 'int4'");
  expect_config_error("runtime: {gpu_comm: gloo}", "runtime.gpu_comm: expected one of nccl, staged, got 'gloo'");
  expect_config_error("runtime: {gpu_memory_fraction: 1.5}", "runtime.gpu_memory_fraction: expected a fraction in (0, 1]");
  expect_config_error("runtime: {gpu_memory_fraction: 0}", "runtime.gpu_memory_fraction");
  expect_config_error("model: {layout: gguf}", "model.layout: expected one of auto, hf, original");
  expect_config_error("server: {endpoint: localhost}", "server.endpoint: expected a ZeroMQ endpoint");
  expect_config_error("runtime: 5", "runtime: expected a mapping, got '5'");
  expect_config_error("- a\n- b\n", "expected a mapping, got a list");
}

TEST(RuntimeConfig, UnknownKeysAreErrors) {
  expect_config_error("paralel: {tp: 2}", "t.yaml:1: paralel: unknown key (expected one of: model, "
                                   "parallel, runtime, server, cluster)");
  expect_config_error("model: {path: x}\nparallel:\n  tp: 2\n  tpp: 2\n",
               "t.yaml:4: parallel.tpp: unknown key (expected one of: tp, dp, ep, pp, moe_dispatch)");
  expect_config_error("server: {port: 5}", "server.port: unknown key");
  expect_config_error("parallel: {tp: 2, tp: 4}", "parallel.tp: repeated key");
}

TEST(RuntimeConfig, BrokenYamlAndMissingFiles) {
  expect_config_error("parallel: {tp: 2\n", "t.yaml:");
  expect_config_error("parallel: {tp: 2\n", "not valid YAML");
  EXPECT_EQ(error_of([] { RuntimeConfig::load_file("/nonexistent/x.yaml"); })
                .rfind("not_found: config file /nonexistent/x.yaml", 0),
            0u);
}

TEST(ParallelSpec, ParsesAndOverrides) {
  const auto p = parse_parallel_spec("tp=2,ep=4,pp=1,dp=2");
  EXPECT_EQ(p.sizes, (ParallelConfig{.tp = 2, .dp = 2, .ep = 4, .pp = 1}));
  ParallelSettings base;
  base.sizes.dp = 4;
  base.moe_dispatch = "alltoall";
  const auto q = parse_parallel_spec("tp=2,moe_dispatch=allgather", base);
  EXPECT_EQ(q.sizes, (ParallelConfig{.tp = 2, .dp = 4, .ep = 1, .pp = 1}));
  EXPECT_EQ(q.moe_dispatch, "allgather");
  EXPECT_EQ(parse_parallel("ep=2,tp=2"), (ParallelConfig{.tp = 2, .dp = 1, .ep = 2, .pp = 1}));
  EXPECT_EQ(parse_parallel("pp=2", {.tp = 2}), (ParallelConfig{.tp = 2, .pp = 2}));

  auto c = RuntimeConfig::parse("parallel: {tp: 4, ep: 4}");
  c.apply_parallel_spec("tp=2");
  EXPECT_EQ(c.parallel.sizes, (ParallelConfig{.tp = 2, .dp = 1, .ep = 4, .pp = 1}));
}

TEST(ParallelSpec, ErrorsNameTheKey) {
  auto err = [](const char* s) { return error_of([&] { parse_parallel_spec(s); }); };
  EXPECT_NE(err("tp=x").find("--parallel 'tp=x': tp: expected a positive integer, got 'x'"),
            std::string::npos);
  EXPECT_NE(err("tp=0").find("tp: expected a positive integer, got '0'"), std::string::npos);
  EXPECT_NE(err("tq=2").find("'tq': unknown key"), std::string::npos);
  EXPECT_NE(err("tp2").find("'tp2': expected key=value"), std::string::npos);
  EXPECT_NE(err("tp=2,").find("'': expected key=value"), std::string::npos);
  EXPECT_NE(err("tp=2,tp=4").find("tp: repeated"), std::string::npos);
  EXPECT_NE(err("moe_dispatch=x").find("expected one of allgather, alltoall"), std::string::npos);
  EXPECT_NE(err("").find("empty"), std::string::npos);
  // The sizes-only form does not take moe_dispatch.
  EXPECT_NE(error_of([] { parse_parallel("tp=2,moe_dispatch=alltoall"); })
                .find("'moe_dispatch': unknown key (expected one of: tp, dp, ep, pp)"),
            std::string::npos);
}

// Every shipped config parses and its layout fits its model (dims by file name).
TEST(RuntimeConfig, ShippedConfigsAreValid) {
  const fs::path root = fs::path(GOSSAMER_TEST_DATA) / ".." / ".." / "configs";
  ASSERT_TRUE(fs::exists(root)) << root;
  const ModelDims tiny{4, 16, 4, 8, 4096}, b20{24, 64, 8, 32, 201088}, b120{36, 64, 8, 128, 201088};
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    ++files;
    const RuntimeConfig c = RuntimeConfig::load_file(entry.path());
    const std::string name = entry.path().string();
    const ModelDims& dims = name.find("120b") != std::string::npos || name.find("cluster") != std::string::npos
                                ? b120
                            : name.find("20b") != std::string::npos ? b20
                                                                    : tiny;
    const int world = c.parallel.sizes.world_size();
    EXPECT_NO_THROW(c.check_world(world));
    EXPECT_NO_THROW(Mapping(world, world - 1, c.parallel.sizes, dims));
  }
  EXPECT_GE(files, 24);
}

}  // namespace
}  // namespace gossamer::worker
