// Every collective of the MPI backend against an expectation computed locally from the
// same formulas each rank used to fill its send buffer. Data are small dyadic values, so
// float sums are exact in any order and results compare with ==.
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm_mpi_check.h"
#include "core/error.h"

namespace gossamer::comm::test {
namespace {

// The value rank r contributes at element i (exact in f32 for the sizes used).
float value(int r, size_t i) { return 0.5f * static_cast<float>(r + 1) + 0.25f * static_cast<float>(i % 1024); }

std::vector<size_t> prefix(const std::vector<size_t>& counts) {
  std::vector<size_t> out(counts.size(), 0);
  for (size_t i = 1; i < counts.size(); ++i) out[i] = out[i - 1] + counts[i - 1];
  return out;
}

void check_all_reduce(Communicator& c, Checker& t) {
  const int n = c.size();
  for (size_t count : {size_t{0}, size_t{1}, size_t{1000}, size_t{70000}}) {
    std::vector<float> data(count);
    for (size_t i = 0; i < count; ++i) data[i] = value(c.rank(), i);
    c.all_reduce_sum(data.data(), count, Device::kCPU);
    bool ok = true;
    for (size_t i = 0; i < count; ++i) {
      float want = 0;
      for (int r = 0; r < n; ++r) want += value(r, i);
      ok = ok && data[i] == want;
    }
    t.expect(ok, fmt::format("all_reduce_sum of {} f32", count));
  }
  // Integer max and min (as used for agreeing on step ids or padded sizes).
  std::vector<int64_t> mx(5), mn(5);
  for (int i = 0; i < 5; ++i) mx[i] = mn[i] = int64_t{c.rank()} * 1000000000000ll - i;
  c.all_reduce(mx.data(), 5, DType::kI64, ReduceOp::kMax, Device::kCPU);
  c.all_reduce(mn.data(), 5, DType::kI64, ReduceOp::kMin, Device::kCPU);
  bool ok = true;
  for (int i = 0; i < 5; ++i) ok = ok && mx[i] == int64_t{n - 1} * 1000000000000ll - i && mn[i] == -i;
  t.expect(ok, "all_reduce max/min of i64");
  std::vector<int32_t> ones(3, 1);
  c.all_reduce(ones.data(), 3, DType::kI32, ReduceOp::kSum, Device::kCPU);
  t.expect(ones == std::vector<int32_t>(3, n), "all_reduce sum of i32");
}

void check_all_gather(Communicator& c, Checker& t) {
  const int n = c.size();
  const size_t count = 3;
  std::vector<float> send(count), recv(count * n, -1.f);
  for (size_t i = 0; i < count; ++i) send[i] = value(c.rank(), i);
  c.all_gather(send.data(), count, recv.data(), DType::kF32, Device::kCPU);
  bool ok = true;
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i) ok = ok && recv[r * count + i] == value(r, i);
  t.expect(ok, "all_gather of 3 f32 per rank");

  // In place: this rank's block of recv is the send buffer.
  std::vector<int32_t> ids(4 * n, -1);
  for (int i = 0; i < 4; ++i) ids[c.rank() * 4 + i] = c.rank() * 10 + i;
  c.all_gather(ids.data() + c.rank() * 4, 4, ids.data(), DType::kI32, Device::kCPU);
  ok = true;
  for (int r = 0; r < n; ++r)
    for (int i = 0; i < 4; ++i) ok = ok && ids[r * 4 + i] == r * 10 + i;
  t.expect(ok, "all_gather in place of 4 i32 per rank");
}

void check_all_gatherv(Communicator& c, Checker& t) {
  const int n = c.size();
  // Uneven counts with zeros: rank r sends (3 r) mod 5 elements (0, 3, 1, 4 for 4 ranks).
  std::vector<size_t> counts(n);
  for (int r = 0; r < n; ++r) counts[r] = static_cast<size_t>(3 * r % 5);
  const size_t mine = counts[c.rank()];
  std::vector<float> send(mine);
  for (size_t i = 0; i < mine; ++i) send[i] = value(c.rank(), i + 7);

  const auto packed = prefix(counts);
  const size_t total = std::accumulate(counts.begin(), counts.end(), size_t{0});
  std::vector<float> recv(total, -1.f);
  c.all_gatherv(send.data(), mine, recv.data(), counts, {}, DType::kF32, Device::kCPU);
  bool ok = true;
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < counts[r]; ++i) ok = ok && recv[packed[r] + i] == value(r, i + 7);
  t.expect(ok, "all_gatherv packed, uneven counts with zeros");

  // Explicit displacements with 2-element gaps that must stay untouched.
  std::vector<size_t> displs(n);
  for (int r = 0; r < n; ++r) displs[r] = packed[r] + 2 * static_cast<size_t>(r) + 1;
  std::vector<float> gapped(total + 2 * n + 1, -1.f);
  c.all_gatherv(send.data(), mine, gapped.data(), counts, displs, DType::kF32, Device::kCPU);
  std::vector<float> want(gapped.size(), -1.f);
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < counts[r]; ++i) want[displs[r] + i] = value(r, i + 7);
  t.expect(gapped == want, "all_gatherv with displacements and gaps");
}

void check_reduce_scatter(Communicator& c, Checker& t) {
  const int n = c.size();
  // Block sizes r mod 3 (0, 1, 2, 0): zero-sized blocks included.
  std::vector<size_t> counts(n);
  for (int r = 0; r < n; ++r) counts[r] = static_cast<size_t>(r % 3) + (n == 1 ? 2 : 0);
  const auto offs = prefix(counts);
  const size_t total = std::accumulate(counts.begin(), counts.end(), size_t{0});
  std::vector<float> send(total);
  for (size_t j = 0; j < total; ++j) send[j] = value(c.rank(), j);
  std::vector<float> recv(counts[c.rank()], -1.f);
  c.reduce_scatter_sum(send.data(), recv.data(), counts, Device::kCPU);
  bool ok = true;
  for (size_t j = 0; j < counts[c.rank()]; ++j) {
    float want = 0;
    for (int r = 0; r < n; ++r) want += value(r, offs[c.rank()] + j);
    ok = ok && recv[j] == want;
  }
  t.expect(ok, "reduce_scatter_sum with uneven and zero blocks");
}

// What rank `src` sends to rank `dst`: (src + 2 dst) mod 4 elements, each naming both.
size_t a2a_count(int src, int dst) { return static_cast<size_t>((src + 2 * dst) % 4); }
int32_t a2a_value(int src, int dst, size_t j) { return 1000 * src + 100 * dst + static_cast<int32_t>(j); }

void check_all_to_all_v(Communicator& c, Checker& t) {
  const int n = c.size(), me = c.rank();
  std::vector<size_t> sc(n), rc(n);
  for (int p = 0; p < n; ++p) {
    sc[p] = a2a_count(me, p);
    rc[p] = a2a_count(p, me);
  }
  // Counts exchanged the way dispatch does it: all_to_all of i64, then all_to_all_v.
  std::vector<int64_t> sc64(sc.begin(), sc.end()), rc64(n, -1);
  c.all_to_all(sc64.data(), 1, rc64.data(), DType::kI64, Device::kCPU);
  t.expect(std::vector<int64_t>(rc.begin(), rc.end()) == rc64, "all_to_all of i64 counts");

  const auto sd = prefix(sc), rd = prefix(rc);
  std::vector<int32_t> send(std::accumulate(sc.begin(), sc.end(), size_t{0}));
  for (int p = 0; p < n; ++p)
    for (size_t j = 0; j < sc[p]; ++j) send[sd[p] + j] = a2a_value(me, p, j);
  std::vector<int32_t> recv(std::accumulate(rc.begin(), rc.end(), size_t{0}), -1);
  c.all_to_all_v(send.data(), sc, {}, recv.data(), rc, {}, DType::kI32, Device::kCPU);
  std::vector<int32_t> want(recv.size());
  for (int p = 0; p < n; ++p)
    for (size_t j = 0; j < rc[p]; ++j) want[rd[p] + j] = a2a_value(p, me, j);
  t.expect(recv == want, "all_to_all_v packed, uneven counts with zeros");

  // Displacements in reverse peer order (peer n-1 first), as a combine might lay them out.
  std::vector<size_t> rdr(n);
  size_t at = 0;
  for (int p = n - 1; p >= 0; --p) { rdr[p] = at; at += rc[p]; }
  std::vector<int32_t> recv2(at, -1), want2(at);
  c.all_to_all_v(send.data(), sc, sd, recv2.data(), rc, rdr, DType::kI32, Device::kCPU);
  for (int p = 0; p < n; ++p)
    for (size_t j = 0; j < rc[p]; ++j) want2[rdr[p] + j] = a2a_value(p, me, j);
  t.expect(recv2 == want2, "all_to_all_v with reversed displacements");

  // Everything to one rank (all tokens routed to rank 0's experts).
  std::vector<size_t> sc1(n, 0), rc1(n, 0);
  sc1[0] = 5;
  if (me == 0) std::fill(rc1.begin(), rc1.end(), 5);
  std::vector<float> s1(5, static_cast<float>(me)), r1(me == 0 ? 5 * n : 0);
  c.all_to_all_v(s1.data(), sc1, {}, r1.data(), rc1, {}, DType::kF32, Device::kCPU);
  bool ok = true;
  for (size_t i = 0; i < r1.size(); ++i) ok = ok && r1[i] == static_cast<float>(i / 5);
  t.expect(ok, "all_to_all_v with every token sent to rank 0");
}

void check_broadcast(Communicator& c, Checker& t) {
  const int root = c.size() - 1;
  std::string text = "hidden states travel; plans are broadcast";
  std::vector<char> buf(text.size(), 0);
  if (c.rank() == root) std::memcpy(buf.data(), text.data(), text.size());
  c.broadcast(buf.data(), buf.size(), root, Device::kCPU);
  t.expect(std::string(buf.begin(), buf.end()) == text, "broadcast of bytes from the last rank");
}

void check_ring(Communicator& c, Checker& t) {
  const int n = c.size(), me = c.rank();
  if (n < 2) return;
  // 100k floats: past the eager limit, so send completes only once the peer receives.
  // Even ranks send first and odd ranks receive first, so the ring cannot deadlock.
  const size_t count = 100000;
  std::vector<float> out(count), in(count, -1.f);
  for (size_t i = 0; i < count; ++i) out[i] = value(me, i);
  const int next = (me + 1) % n, prev = (me + n - 1) % n;
  if (me % 2 == 0) {
    c.send(out.data(), count, DType::kF32, next, 3, Device::kCPU);
    c.recv(in.data(), count, DType::kF32, prev, 3, Device::kCPU);
  } else {
    c.recv(in.data(), count, DType::kF32, prev, 3, Device::kCPU);
    c.send(out.data(), count, DType::kF32, next, 3, Device::kCPU);
  }
  bool ok = true;
  for (size_t i = 0; i < count; ++i) ok = ok && in[i] == value(prev, i);
  t.expect(ok, "send/recv ring of 100000 f32");
  // Bytes with a different tag.
  uint8_t token = static_cast<uint8_t>(me), got = 255;
  if (me % 2 == 0) {
    c.send(&token, 1, DType::kU8, next, 7, Device::kCPU);
    c.recv(&got, 1, DType::kU8, prev, 7, Device::kCPU);
  } else {
    c.recv(&got, 1, DType::kU8, prev, 7, Device::kCPU);
    c.send(&token, 1, DType::kU8, next, 7, Device::kCPU);
  }
  t.expect(got == prev, "send/recv ring of one byte");
}

void check_argument_errors(Communicator& c, Checker& t) {
  if (c.size() < 2) return;
  float x = 1;
  auto code = [&](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::kInternal;
  };
  t.expect(code([&] { c.all_reduce_sum(&x, 1, Device::kCUDA); }) == ErrorCode::kUnsupported,
           "a cuda buffer on the mpi backend is kUnsupported");
  t.expect(code([&] { c.send(&x, 1, DType::kF32, c.rank(), 0, Device::kCPU); }) ==
               ErrorCode::kInvalidArgument,
           "send to oneself is kInvalidArgument");
  std::vector<size_t> wrong(static_cast<size_t>(c.size()) + 1, 1);
  t.expect(code([&] { c.reduce_scatter_sum(&x, &x, wrong, Device::kCPU); }) ==
               ErrorCode::kInvalidArgument,
           "counts of the wrong length are kInvalidArgument");
  // None of these reached MPI, so the group still works.
  c.barrier();
  t.expect(true, "barrier after rejected calls");
}

}  // namespace

void check_collectives(Communicator& c, Checker& t) {
  check_all_reduce(c, t);
  check_all_gather(c, t);
  check_all_gatherv(c, t);
  check_reduce_scatter(c, t);
  check_all_to_all_v(c, t);
  check_broadcast(c, t);
  check_ring(c, t);
  check_argument_errors(c, t);
}

}  // namespace gossamer::comm::test
