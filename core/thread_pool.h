#pragma once
// A fixed pool of worker threads for data-parallel loops in CPU kernels.
// parallel_for splits [0, n) into contiguous chunks, runs them on the pool and the
// calling thread, and returns when all are done. Nested calls run inline (serially), and
// so does a call from a second outside thread while the pool is busy with another's.
//
// A decode step launches hundreds of short kernels, so the hand-off must cost far less
// than a futex wake-up (~10-30 us on a VM): after a job, workers spin on an atomic for a
// short while (GOSSAMER_POOL_SPIN_US, default 50 us; 0 sleeps at once) before sleeping on
// a condition variable, and the caller spins the same way while waiting for them.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace gossamer {

// A non-owning reference to a callable fn(begin, end): what parallel_for runs. Unlike a
// std::function it never allocates (a kernel's lambda captures more than std::function
// stores inline), so a step of many parallel kernels allocates nothing. It must not
// outlive the callable, which parallel_for guarantees (it returns after the last chunk).
class ChunkFn {
 public:
  // (enable_if, not `requires`: this header is also compiled by nvcc as C++17.)
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, ChunkFn>>>
  ChunkFn(const F& f)  // NOLINT(google-explicit-constructor): lambdas convert implicitly
      : obj_(&f), call_([](const void* o, int64_t b, int64_t e) { (*static_cast<const F*>(o))(b, e); }) {}
  void operator()(int64_t begin, int64_t end) const { call_(obj_, begin, end); }

 private:
  const void* obj_;
  void (*call_)(const void*, int64_t, int64_t);
};

class ThreadPool {
 public:
  // threads = 0 picks the number of hardware threads.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // fn(begin, end) over chunks of [0, n); at least `grain` items per chunk. An exception
  // thrown by fn is rethrown here once every chunk has finished.
  void parallel_for(int64_t n, int64_t grain, ChunkFn fn);

  // The process-wide pool used by kernels unless one is passed explicitly.
  static ThreadPool& global();
  static void set_global_threads(int threads);

 private:
  void worker_loop();
  // Claims and runs one chunk of job `generation`; false when that job has none left.
  bool run_one_chunk(uint32_t generation);
  // Spins up to spin_us_ for pred(), then returns pred().
  template <typename Pred>
  bool spin_until(const Pred& pred) const;

  std::vector<std::thread> workers_;
  int64_t spin_us_ = 50;
  std::mutex submit_mu_;  // held by the one outside thread whose job the pool runs

  // The job. Written by the submitter before it publishes ticket_; read by a thread only
  // after it has claimed a chunk of that generation (so the job cannot end meanwhile).
  const ChunkFn* job_fn_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 0;
  uint32_t generation_ = 0;  // submitter only
  // generation (32 bits) | chunk count (16 bits) | next unclaimed chunk (16 bits). One
  // word, so a chunk is claimed by a CAS that also proves the job is still the same.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<uint32_t> chunks_done_{0};
  std::mutex error_mu_;
  std::exception_ptr error_;

  std::mutex sleep_mu_;
  std::condition_variable wake_cv_, done_cv_;
  int sleepers_ = 0;             // guarded by sleep_mu_
  bool caller_waiting_ = false;  // guarded by sleep_mu_
  std::atomic<bool> stop_{false};
};

}  // namespace gossamer
