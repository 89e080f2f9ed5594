#include "core/thread_pool.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

namespace gossamer {
namespace {
thread_local bool t_inside_pool = false;
std::unique_ptr<ThreadPool> g_pool;
int g_pool_threads = 0;
std::mutex g_pool_mu;

constexpr uint64_t kMaxChunks = 0xffff;
uint32_t ticket_generation(uint64_t t) { return uint32_t(t >> 32); }
uint32_t ticket_chunks(uint64_t t) { return uint32_t(t >> 16) & 0xffff; }
uint32_t ticket_next(uint64_t t) { return uint32_t(t) & 0xffff; }

int64_t spin_micros_from_env() {
  const char* v = std::getenv("GOSSAMER_POOL_SPIN_US");
  return v && *v ? std::max<int64_t>(0, std::atoll(v)) : 50;
}
}  // namespace

ThreadPool::ThreadPool(int threads) : spin_us_(spin_micros_from_env()) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    wake_cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
}

ThreadPool& ThreadPool::global() {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(g_pool_threads);
  return *g_pool;
}

void ThreadPool::set_global_threads(int threads) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_pool_threads = threads;
  g_pool.reset();
}

template <typename Pred>
bool ThreadPool::spin_until(const Pred& pred) const {
  if (pred()) return true;
  if (spin_us_ <= 0) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::microseconds(spin_us_);
  for (;;) {
    // Check often, read the clock rarely: `pause` is tens of cycles, now() more.
    for (int i = 0; i < 16; ++i) {
      _mm_pause();
      if (pred()) return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return pred();
  }
}

bool ThreadPool::run_one_chunk(uint32_t generation) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if (ticket_generation(t) != generation || ticket_next(t) >= ticket_chunks(t)) return false;
    // acq_rel: the claim synchronises with the submitter's publishing store (the job
    // fields below are then visible and stay put until this chunk is counted done).
    if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) break;
  }
  const uint32_t chunks = ticket_chunks(t);
  const int64_t c = ticket_next(t), n = job_n_, chunk = job_chunk_;
  try {
    (*job_fn_)(c * chunk, std::min(n, (c + 1) * chunk));
  } catch (...) {
    std::lock_guard<std::mutex> lock(error_mu_);
    if (!error_) error_ = std::current_exception();
  }
  if (chunks_done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
    // The last chunk: wake the submitter if it went to sleep. It checks chunks_done_
    // under sleep_mu_ before sleeping, so taking the lock here cannot miss it.
    std::lock_guard<std::mutex> lock(sleep_mu_);
    if (caller_waiting_) done_cv_.notify_one();
  }
  return true;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, ChunkFn fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t max_chunks = std::max<int64_t>(1, n / grain);
  int64_t chunks = std::min<int64_t>({max_chunks, static_cast<int64_t>(size()) * 4, int64_t(kMaxChunks)});
  if (chunks <= 1 || workers_.empty() || t_inside_pool) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> submit(submit_mu_, std::try_to_lock);
  if (!submit.owns_lock()) {  // another thread's job is running: do this one here
    fn(0, n);
    return;
  }
  const int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  job_fn_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  error_ = nullptr;
  chunks_done_.store(0, std::memory_order_relaxed);
  const uint32_t generation = ++generation_;
  ticket_.store((uint64_t(generation) << 32) | (uint64_t(chunks) << 16), std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(sleep_mu_);
    if (sleepers_ > 0) wake_cv_.notify_all();
  }
  // The caller works too.
  t_inside_pool = true;
  while (run_one_chunk(generation)) {
  }
  t_inside_pool = false;
  const auto all_done = [&] { return chunks_done_.load(std::memory_order_acquire) == uint32_t(chunks); };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(sleep_mu_);
    caller_waiting_ = true;
    done_cv_.wait(lock, all_done);
    caller_waiting_ = false;
  }
  job_fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::worker_loop() {
  t_inside_pool = true;
  uint32_t seen = 0;
  const auto new_job = [&] {
    return stop_.load(std::memory_order_relaxed) ||
           ticket_generation(ticket_.load(std::memory_order_acquire)) != seen;
  };
  for (;;) {
    if (!spin_until(new_job)) {
      std::unique_lock<std::mutex> lock(sleep_mu_);
      ++sleepers_;
      wake_cv_.wait(lock, new_job);
      --sleepers_;
    }
    if (stop_.load()) return;
    seen = ticket_generation(ticket_.load(std::memory_order_acquire));
    while (run_one_chunk(seen)) {
    }
  }
}

}  // namespace gossamer
