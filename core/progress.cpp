#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "core/log.h"

namespace gossamer {

Progress::Progress(std::string label, uint64_t total, Unit unit, bool quiet)
    : label_(std::move(label)), total_(total), unit_(unit), quiet_(quiet),
      tty_(!quiet && isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
    // A destructor must not throw; losing the last progress line is harmless.
  }
}

std::string Progress::human_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 4) {
    bytes /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} {}", bytes, units[u]) : fmt::format("{:.2f} {}", bytes, units[u]);
}

std::string Progress::amount(double v) const {
  return unit_ == Unit::kBytes ? human_bytes(v) : fmt::format("{:.0f}", v);
}

void Progress::advance(uint64_t n) {
  done_.fetch_add(n);
  if (!tty_) return;
  std::unique_lock lock(mu_, std::try_to_lock);  // a busy printer is no reason to wait
  if (!lock.owns_lock() || finished_) return;
  double now = timer_.seconds();
  if (now - last_draw_ < 0.1) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (quiet_) return;
  if (tty_) {
    draw(true);
    return;
  }
  double s = timer_.seconds();
  double d = static_cast<double>(done_.load());
  if (unit_ == Unit::kBytes)
    GLOG_INFO("{}: {} in {:.1f} s ({}/s)", label_, human_bytes(d), s, human_bytes(s > 0 ? d / s : 0));
  else
    GLOG_INFO("{}: {:.0f} in {:.1f} s", label_, d, s);
}

// Called with mu_ held.
void Progress::draw(bool final) {
  constexpr int kWidth = 30;
  double d = static_cast<double>(done_.load());
  double s = timer_.seconds();
  std::string line = "\r" + label_ + " ";
  if (total_ > 0) {
    double frac = std::min(1.0, d / static_cast<double>(total_));
    int filled = static_cast<int>(frac * kWidth);
    line += "[" + std::string(static_cast<size_t>(filled), '#') +
            std::string(static_cast<size_t>(kWidth - filled), '.') + "] ";
    line += fmt::format("{:3.0f}% {}/{}", frac * 100.0, amount(d), amount(static_cast<double>(total_)));
    if (!final && d > 0 && s > 0.5)
      line += fmt::format(" ETA {:.0f} s", s * (static_cast<double>(total_) - d) / d);
  } else {
    line += amount(d);
  }
  if (unit_ == Unit::kBytes && s > 0) line += fmt::format(" {}/s", human_bytes(d / s));
  if (final) line += fmt::format(" done in {:.1f} s", s);
  line += "\x1b[K";  // clear the rest of a longer previous line
  if (final) line += "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace gossamer
