// A .safetensors file from arbitrary bytes (model/safetensors.h): the 8-byte header
// length, the JSON header, the offsets against the data section. Properties: no crash,
// refusals are named errors, and every entry of a file that opens lies inside the file
// (reading each tensor's first and last byte must stay inside the mapping).
#include "fuzz/fuzz_support.h"
#include "model/safetensors.h"

using namespace gossamer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = fuzz::scratch_dir() / "fuzz.safetensors";
  fuzz::write_file(path, fuzz::as_text(data, size));
  fuzz::expect_named_errors([&] {
    auto f = model::SafetensorsFile::open(path);
    const uint64_t data_size = f->file_size() - 8 - f->header_size();
    volatile uint8_t sink = 0;
    for (const auto& e : f->entries()) {
      if (e.begin > e.end || e.end > data_size)
        fuzz::finding("entry outside the data section", e.name);
      if (e.nbytes() > 0) sink = sink + f->data(e)[0] + f->data(e)[e.nbytes() - 1];
      if (f->find(e.name) == nullptr) fuzz::finding("entry not found by name", e.name);
    }
    (void)sink;
  });
  return 0;
}
