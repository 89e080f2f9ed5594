#pragma once
// Limits the front door enforces while parsing. The server fills these from its config
// (serving limits, model context); the defaults are safe for a tiny model and tests.
#include <cstddef>
#include <cstdint>

namespace gossamer::protocol {

inline constexpr int kProtocolVersion = 1;
inline constexpr size_t kDefaultMaxFrameBytes = size_t{4} << 20;  // 4 MiB

struct Limits {
  size_t max_frame_bytes = kDefaultMaxFrameBytes;  // larger frames: too_large, never parsed
  int64_t max_tokens = 32768;       // upper bound for params.max_tokens (>= 1 always)
  int64_t context_length = 0;       // > 0: tokens input + max_tokens must fit (else context_length)
  int64_t vocab_size = 0;           // > 0: token ids must be < vocab_size
  size_t max_id_bytes = 256;        // request ids are keys in the request table
  size_t max_messages = 4096;
  size_t max_stop = 16;             // stop strings per request
  size_t max_stop_bytes = 256;      // bytes per stop string
  size_t max_tools = 128;
};

}  // namespace gossamer::protocol
