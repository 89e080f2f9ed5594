// config.json from arbitrary bytes (model/config.h): both formats (HF and the original
// gpt-oss one) through ModelConfig::load_file, the path Checkpoint::open takes. Property:
// no crash, refusals are named errors, and a config that loads passes its own validation.
#include "fuzz/fuzz_support.h"
#include "model/config.h"

using namespace gossamer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fuzz::scratch_dir() / "config.json";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_named_errors([&] {
    model::ModelConfig c = model::ModelConfig::load_file(path);
    c.validate("fuzzed config.json (re-validated)");
  });
  return 0;
}
