#pragma once
// A validated submit becomes a Request: its prompt rendered with the harmony chat format
// and tokenized (messages, prompt) or taken as is (tokens), its params resolved against
// the server's defaults. Runs on the front door thread (CPU work, never the model).
#include <memory>
#include <random>

#include "coordinator/request.h"
#include "tokenizer/tokenizer.h"
#include "protocol/client_messages.h"
#include "protocol/error.h"
#include "protocol/limits.h"

namespace gossamer::coordinator {

struct BuildLimits {
  protocol::Limits limits;           // context_length = max tokens per sequence
  int64_t default_max_tokens = 512;
  int64_t model_vocab = 0;
};

// The request, or the error that is its terminal reply (bad_request, context_length).
protocol::Result<std::unique_ptr<Request>> build_request(const std::string& connection,
                                                         const protocol::Submit& s,
                                                         const Tokenizer& tok,
                                                         const BuildLimits& limits,
                                                         std::mt19937_64& rng);

}  // namespace gossamer::coordinator
