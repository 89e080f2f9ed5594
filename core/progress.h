#pragma once
// Progress of a long operation (writing a synthetic checkpoint, touching weights).
// On a terminal (isatty(stderr)) it redraws one bar line, at most ~10 times a second;
// otherwise (logs, CI) it stays silent until finish() writes one summary log line, so
// redirected output never fills with carriage returns.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/timer.h"

namespace gossamer {

class Progress {
 public:
  enum class Unit { kBytes, kItems };
  // total may be 0 (unknown). quiet = true prints nothing at all (tests, library callers).
  Progress(std::string label, uint64_t total, Unit unit = Unit::kBytes, bool quiet = false);
  ~Progress();  // finishes if the caller did not
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Thread-safe: worker threads may report their own parts.
  void advance(uint64_t n);
  // Prints the final line (bar completed, or the one log line). Idempotent.
  void finish();
  uint64_t done() const { return done_.load(); }
  double seconds() const { return timer_.seconds(); }

  // "1.50 GB", "812 KB", "17 B": decimal units, as disk sizes are usually quoted.
  static std::string human_bytes(double bytes);

 private:
  void draw(bool final);
  std::string amount(double v) const;

  std::string label_;
  uint64_t total_;
  Unit unit_;
  bool quiet_, tty_;
  std::atomic<uint64_t> done_{0};
  std::mutex mu_;
  double last_draw_ = -1.0;
  bool finished_ = false;
  Timer timer_;
};

}  // namespace gossamer
