#pragma once
// Logging goes through spdlog. One logger, configured once by the app (level, rank tag).
#include <string>

#include <spdlog/spdlog.h>

namespace gossamer {

// Sets the global pattern ("[rank N]" when rank >= 0) and level ("trace".."off").
void configure_logging(const std::string& level, int rank = -1);

}  // namespace gossamer

#define GLOG_DEBUG(...) ::spdlog::debug(__VA_ARGS__)
#define GLOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define GLOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define GLOG_ERROR(...) ::spdlog::error(__VA_ARGS__)
