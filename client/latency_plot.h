#pragma once
// PNG plot of latency over time, drawn by gnuplot (a real plotting program, run as a
// subprocess). Writes <png>.dat and <png>.gp beside the PNG so the plot can be redrawn
// or restyled by hand.
#include <string>

#include "client/loadgen.h"

namespace gossamer::client {

// Throws gossamer::Error: kNotFound when gnuplot is not installed (never a fake plot),
// kIo when gnuplot fails or produces no valid PNG (its stderr is in the message),
// kInvalidArgument when there is nothing to plot.
void write_latency_plot(const LoadgenReport& report, const std::string& png_path);

// True when `path` starts with the 8-byte PNG signature.
bool has_png_signature(const std::string& path);

}  // namespace gossamer::client
