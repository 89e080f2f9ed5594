#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace gossamer::kernels::cpu {

void add_inplace(ThreadPool& pool, float* y /*[n]*/, const float* x /*[n]*/, int64_t n);
void axpy(ThreadPool& pool, float* y /*[n]*/, float a, const float* x /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cpu
