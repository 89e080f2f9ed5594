#pragma once
// Typed errors with context. Library code throws gossamer::Error (or returns a value);
// it never exits or aborts on bad input. Apps and the front door turn errors into
// messages and exit codes / structured replies.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace gossamer {

enum class ErrorCode {
  kInvalidArgument,  // caller passed something malformed
  kNotFound,         // file, tensor or key missing
  kCorruptData,      // a file whose bytes contradict its own header / the config
  kUnsupported,      // valid input we do not handle (yet)
  kIo,               // the OS refused (open, mmap, read, write)
  kComm,             // a collective failed or timed out, a peer died
  kInternal,         // a bug in Gossamer
};

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// GOSSAMER_THROW(kNotFound, "tensor {} missing in {}", name, file)
#define GOSSAMER_THROW(code, ...) \
  throw ::gossamer::Error(::gossamer::ErrorCode::code, ::fmt::format(__VA_ARGS__))

// Internal invariant: a failure is a bug, reported as kInternal with the source location.
#define GOSSAMER_CHECK(cond, ...)                                                         \
  do {                                                                                    \
    if (!(cond))                                                                          \
      throw ::gossamer::Error(::gossamer::ErrorCode::kInternal,                           \
                              ::fmt::format("{}:{}: check `{}` failed: {}", __FILE__,     \
                                            __LINE__, #cond, ::fmt::format(__VA_ARGS__))); \
  } while (0)

}  // namespace gossamer
