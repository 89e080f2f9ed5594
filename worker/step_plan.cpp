#include "worker/step_plan.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#include "comm/communicator.h"
#include "core/error.h"

namespace gossamer::worker {

// The wire format is little-endian and written with memcpy of host values.
static_assert(std::endian::native == std::endian::little, "StepPlan assumes a little-endian host");

const char* step_command_name(StepCommand c) {
  switch (c) {
    case StepCommand::kRun: return "run";
    case StepCommand::kIdle: return "idle";
    case StepCommand::kShutdown: return "shutdown";
  }
  return "?";
}

namespace {

constexpr uint8_t kWantLogits = 1, kIsPrefill = 2;

constexpr size_t kBodyBytesAt = 20;  // offset of the u64 body_bytes in the header
constexpr size_t kChecksumAt = 28;  // offset of the u64 checksum in the header

// FNV-1a 64 over the whole record except the checksum field, so that a flipped bit
// anywhere (command, step, lengths, body) is caught.
uint64_t checksum_of(std::span<const uint8_t> record) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < record.size(); ++i) {
    if (i >= kChecksumAt && i < kChecksumAt + 8) continue;
    h = (h ^ record[i]) * 0x100000001b3ull;
  }
  return h;
}

// Appends to `out`; within its capacity no allocation.
class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& o) : out(o) {}
  template <typename T>
  void put(T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  void put_ids(const std::vector<int32_t>& ids) {
    put(static_cast<uint32_t>(ids.size()));
    const size_t at = out.size();
    out.resize(at + ids.size() * sizeof(int32_t));
    if (!ids.empty()) std::memcpy(out.data() + at, ids.data(), ids.size() * sizeof(int32_t));
  }
  std::vector<uint8_t>& out;
};

// Every read checks the remaining length first; errors say what was being read and where.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : bytes_(b) {}
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  // Into `ids`, reusing its capacity.
  void get_ids(std::vector<int32_t>& ids, const char* what) {
    const uint32_t n = get<uint32_t>(what);
    need(uint64_t{n} * sizeof(int32_t), what);  // before allocating: n may be garbage
    ids.resize(n);
    if (n) std::memcpy(ids.data(), bytes_.data() + at_, n * sizeof(int32_t));
    at_ += n * sizeof(int32_t);
  }
  size_t offset() const { return at_; }
  size_t remaining() const { return bytes_.size() - at_; }

 private:
  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      GOSSAMER_THROW(kCorruptData, "step plan: truncated at byte {} reading {} ({} bytes "
                     "needed, {} left)", at_, what, n, remaining());
  }
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
};

// Returns an empty string when the sequence is valid, else the reason.
std::string sequence_problem(const SequencePlan& s) {
  if (s.seq_id < 0) return fmt::format("seq_id {} is negative", s.seq_id);
  if (s.start_pos < 0) return fmt::format("start_pos {} is negative", s.start_pos);
  for (int32_t b : s.block_table)
    if (b < 0) return fmt::format("block_table holds a negative block id {}", b);
  for (int32_t b : s.window_block_table)
    if (b < -1) return fmt::format("window_block_table holds block id {} (below -1)", b);
  const auto& p = s.sampling;
  if (!std::isfinite(p.temperature) || p.temperature < 0)
    return fmt::format("temperature {} is not a finite value >= 0", p.temperature);
  if (p.top_k < 0) return fmt::format("top_k {} is negative", p.top_k);
  if (!(p.top_p > 0 && p.top_p <= 1)) return fmt::format("top_p {} is outside (0, 1]", p.top_p);
  return {};
}

}  // namespace

int64_t StepPlan::num_tokens() const {
  int64_t n = 0;
  for (const auto& s : sequences) n += static_cast<int64_t>(s.token_ids.size());
  return n;
}

std::vector<uint8_t> StepPlan::serialize() const {
  std::vector<uint8_t> out;
  serialize_into(&out);
  return out;
}

void StepPlan::serialize_into(std::vector<uint8_t>* record) const {
  record->clear();
  Writer out(*record);
  out.put(kMagic);
  out.put(kVersion);
  out.put(static_cast<uint8_t>(command));
  out.put(uint8_t{0});
  out.put(step);
  out.put(static_cast<uint32_t>(sequences.size()));
  out.put(uint64_t{0});  // body_bytes, filled below
  out.put(uint64_t{0});  // checksum, filled below
  for (size_t i = 0; i < sequences.size(); ++i) {
    const SequencePlan& s = sequences[i];
    if (auto problem = sequence_problem(s); !problem.empty())
      GOSSAMER_THROW(kInvalidArgument, "step plan {}: sequence {} (index {}): {}", step,
                     s.seq_id, i, problem);
    out.put(s.seq_id);
    out.put(s.start_pos);
    out.put_ids(s.token_ids);
    out.put_ids(s.block_table);
    out.put_ids(s.window_block_table);
    out.put(s.sampling.temperature);
    out.put(s.sampling.top_k);
    out.put(s.sampling.top_p);
    out.put(s.sampling.seed);
    out.put(static_cast<uint8_t>((s.want_logits ? kWantLogits : 0) |
                                 (s.is_prefill ? kIsPrefill : 0)));
  }
  const uint64_t body_bytes = record->size() - kHeaderBytes;
  std::memcpy(record->data() + kBodyBytesAt, &body_bytes, sizeof(body_bytes));
  const uint64_t sum = checksum_of(*record);
  std::memcpy(record->data() + kChecksumAt, &sum, sizeof(sum));
}

StepPlan StepPlan::deserialize(std::span<const uint8_t> bytes) {
  StepPlan plan;
  deserialize_into(bytes, &plan);
  return plan;
}

void StepPlan::deserialize_into(std::span<const uint8_t> bytes, StepPlan* plan,
                                std::vector<SequencePlan>* spare) {
  Reader r(bytes);
  if (r.get<uint32_t>("magic") != kMagic)
    GOSSAMER_THROW(kCorruptData, "step plan: bad magic (not a StepPlan record)");
  if (const auto v = r.get<uint16_t>("version"); v != kVersion)
    GOSSAMER_THROW(kCorruptData, "step plan: version {} (this build reads {})", v, kVersion);
  const auto cmd = r.get<uint8_t>("command");
  if (cmd < 1 || cmd > 3) GOSSAMER_THROW(kCorruptData, "step plan: unknown command {}", cmd);
  if (r.get<uint8_t>("reserved") != 0)
    GOSSAMER_THROW(kCorruptData, "step plan: reserved header byte is not zero");
  const auto step = r.get<uint64_t>("step");
  const auto n_seq = r.get<uint32_t>("n_sequences");
  const auto body_bytes = r.get<uint64_t>("body_bytes");
  const auto checksum = r.get<uint64_t>("checksum");
  if (body_bytes != r.remaining())
    GOSSAMER_THROW(kCorruptData, "step plan {}: header says {} body bytes, buffer has {}",
                   step, body_bytes, r.remaining());
  if (checksum_of(bytes) != checksum)
    GOSSAMER_THROW(kCorruptData, "step plan {}: checksum mismatch", step);
  // The smallest sequence record is 49 bytes; bound the count before reserving.
  constexpr uint64_t kMinSequenceBytes = 8 + 8 + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 1;
  if (uint64_t{n_seq} * kMinSequenceBytes > body_bytes)
    GOSSAMER_THROW(kCorruptData, "step plan {}: {} sequences cannot fit in {} bytes",
                   step, n_seq, body_bytes);
  plan->command = static_cast<StepCommand>(cmd);
  plan->step = step;
  // Sequence records are reused, their vectors' capacity with them: surplus ones go to
  // `spare` and come back from it when a later plan has more sequences.
  auto& seqs = plan->sequences;
  while (seqs.size() > n_seq) {
    if (spare) spare->push_back(std::move(seqs.back()));
    seqs.pop_back();
  }
  seqs.reserve(n_seq);
  while (seqs.size() < n_seq) {
    if (spare && !spare->empty()) {
      seqs.push_back(std::move(spare->back()));
      spare->pop_back();
    } else {
      seqs.emplace_back();
    }
  }
  for (uint32_t i = 0; i < n_seq; ++i) {
    SequencePlan& s = seqs[i];
    s.seq_id = r.get<int64_t>("seq_id");
    s.start_pos = r.get<int64_t>("start_pos");
    r.get_ids(s.token_ids, "token_ids");
    r.get_ids(s.block_table, "block_table");
    r.get_ids(s.window_block_table, "window_block_table");
    s.sampling.temperature = r.get<float>("temperature");
    s.sampling.top_k = r.get<int32_t>("top_k");
    s.sampling.top_p = r.get<float>("top_p");
    s.sampling.seed = r.get<uint64_t>("seed");
    const auto flags = r.get<uint8_t>("flags");
    if (flags & ~(kWantLogits | kIsPrefill))
      GOSSAMER_THROW(kCorruptData, "step plan {}: sequence index {}: unknown flags {:#x}",
                     step, i, flags);
    s.want_logits = flags & kWantLogits;
    s.is_prefill = flags & kIsPrefill;
    if (auto problem = sequence_problem(s); !problem.empty())
      GOSSAMER_THROW(kCorruptData, "step plan {}: sequence index {}: {}", step, i,
                     problem);
  }
  if (r.remaining() != 0)
    GOSSAMER_THROW(kCorruptData, "step plan {}: {} trailing bytes", step, r.remaining());
}

void broadcast_step_plan(comm::Communicator& comm, StepPlan* plan, int root) {
  PlanBuffers buffers;
  broadcast_step_plan(comm, plan, root, &buffers);
}

void broadcast_step_plan(comm::Communicator& comm, StepPlan* plan, int root, PlanBuffers* buffers) {
  if (comm.size() == 1) return;  // the plan is already where it runs
  auto& bytes = buffers->bytes;
  uint64_t length = 0;
  if (comm.rank() == root) {
    plan->serialize_into(&bytes);
    length = bytes.size();
  }
  comm.broadcast(&length, sizeof(length), root, Device::kCPU);
  if (length > StepPlan::kMaxBytes)
    GOSSAMER_THROW(kCorruptData, "step plan broadcast on '{}': length {} exceeds {}",
                   comm.name(), length, StepPlan::kMaxBytes);
  bytes.resize(length);
  comm.broadcast(bytes.data(), length, root, Device::kCPU);
  if (comm.rank() != root) StepPlan::deserialize_into(bytes, plan, &buffers->spare);
}

}  // namespace gossamer::worker
