// gossamer eval-logits: logits at every position of a token sequence, one prefill pass.
// Under mpirun every rank runs its shard and rank 0 writes the file.
#include "apps/commands.h"
#include "apps/common.h"
#include "apps/mpi_world.h"
#include "core/log.h"
#include "core/npy.h"

namespace gossamer::apps {

void add_eval_logits_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval-logits",
                                 "Write the logits at every position as float32 .npy [n_tokens, vocab]");
  auto model = std::make_shared<ModelOptions>();
  auto dumps = std::make_shared<DumpOptions>();
  auto tokens = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  model->add_to(cmd);
  dumps->add_to(cmd);
  cmd->add_option("--tokens", *tokens, "Comma-separated token ids")->required();
  cmd->add_option("--out", *out, "Output .npy file (written by rank 0)")->required();
  cmd->callback([=] {
    const auto config = model->resolve();
    const auto ids = parse_ids(*tokens);
    auto options = model->engine_options(config);
    options.max_context = std::max<int>(options.max_context, static_cast<int>(ids.size()));
    options.max_sequences = 1;
    World world = make_world(config.runtime.comm_timeout());
    run_on_all_ranks(world, [&] {
      worker::Engine engine(config.model.path, options, world.comm.get());
      if (!engine.is_coordinator()) return engine.follow();
      std::vector<worker::DumpRequest> requests;
      for (const auto& s : dumps->specs) requests.push_back(worker::DumpRequest::parse(s));
      worker::DumpSink sink(requests);
      const int64_t seq = engine.open_sequence();
      std::vector<float> logits;
      engine.feed(seq, ids, /*all_logits=*/true, logits, requests.empty() ? nullptr : &sink);
      const int64_t V = engine.config().vocab_size;
      write_npy_f32(*out, logits.data(), {static_cast<int64_t>(ids.size()), V});
      if (!requests.empty()) sink.write(dumps->dir);
      GLOG_INFO("wrote {} logits rows to {}", ids.size(), *out);
    });
  });
}

}  // namespace gossamer::apps
