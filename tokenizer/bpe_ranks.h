#pragma once
// The BPE vocabulary as tiktoken sees it: token bytes <-> rank, where the rank is also the
// token id and the merge priority (lower merges first). One arena holds every token's
// bytes; an open-addressing table keyed by the bytes finds a rank in one probe on average.
// Immutable after construction, so any number of threads may read it.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::tok {

class BpeRanks {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  BpeRanks() { single_.fill(kNone); }
  // tokens[rank] = the token's bytes; empty entries (gaps in the rank space) are allowed
  // and never match. Duplicate byte strings are rejected (kCorruptData).
  explicit BpeRanks(std::vector<std::string> tokens);

  // Rank of exactly these bytes, or kNone.
  uint32_t find(std::string_view bytes) const {
    if (bytes.size() == 1) return single_[static_cast<unsigned char>(bytes[0])];
    return find_slow(bytes);
  }
  std::string_view bytes_of(uint32_t rank) const {
    const Span& s = spans_[rank];
    return {arena_.data() + s.offset, s.length};
  }
  size_t size() const { return spans_.size(); }

 private:
  struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  struct Slot {
    uint64_t hash = 0;
    uint32_t rank = kNone;
  };
  uint32_t find_slow(std::string_view bytes) const;

  std::string arena_;
  std::vector<Span> spans_;  // [rank]
  std::vector<Slot> slots_;  // power-of-two open-addressing table, load <= 0.5
  uint64_t mask_ = 0;
  std::array<uint32_t, 256> single_;  // one-byte tokens, the most frequent lookups in merges
};

// Hash used by the rank table and the piece cache.
uint64_t hash_bytes(std::string_view bytes);

}  // namespace gossamer::tok
