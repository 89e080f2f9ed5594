#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/error.h"

namespace gossamer {

void configure_logging(const std::string& level, int rank) {
  // Logs go to stderr so that stdout stays machine-readable (ids, JSON).
  auto logger = spdlog::stderr_color_mt("gossamer");
  spdlog::set_default_logger(logger);
  std::string pattern = "[%H:%M:%S.%e] [%^%l%$] ";
  if (rank >= 0) pattern += fmt::format("[rank {}] ", rank);
  spdlog::set_pattern(pattern + "%v");
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    GOSSAMER_THROW(kInvalidArgument, "unknown log level '{}'", level);
  spdlog::set_level(lvl);
}

}  // namespace gossamer
