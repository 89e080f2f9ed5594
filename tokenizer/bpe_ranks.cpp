#include "tokenizer/bpe_ranks.h"

#include <cstring>

#include "core/error.h"

namespace gossamer::tok {

uint64_t hash_bytes(std::string_view bytes) {
  // A multiply-xorshift hash over 8-byte words: pieces are short (a few bytes), so the
  // cost is one or two multiplies; quality is plenty for a table at load 0.5.
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = n * kMul;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

BpeRanks::BpeRanks(std::vector<std::string> tokens) {
  single_.fill(kNone);
  size_t total = 0;
  for (const auto& t : tokens) total += t.size();
  GOSSAMER_CHECK(total < 0xFFFFFFFFull, "vocabulary bytes exceed 4 GiB");
  arena_.reserve(total);
  spans_.resize(tokens.size());
  size_t cap = 16;
  while (cap < tokens.size() * 2) cap <<= 1;
  slots_.assign(cap, Slot{});
  mask_ = cap - 1;
  for (size_t r = 0; r < tokens.size(); ++r) {
    const std::string& t = tokens[r];
    spans_[r] = {static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(t.size())};
    arena_ += t;
    if (t.empty()) continue;
    if (find_slow(t) != kNone) {
      GOSSAMER_THROW(kCorruptData, "tokenizer vocabulary holds the same bytes twice (rank {})", r);
    }
    const uint64_t h = hash_bytes(t);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].rank == kNone) {
        slots_[i] = {h, static_cast<uint32_t>(r)};
        break;
      }
    }
    if (t.size() == 1) single_[static_cast<unsigned char>(t[0])] = static_cast<uint32_t>(r);
  }
}

uint32_t BpeRanks::find_slow(std::string_view bytes) const {
  if (slots_.empty()) return kNone;
  const uint64_t h = hash_bytes(bytes);
  for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.rank == kNone) return kNone;
    if (s.hash == h) {
      const Span& sp = spans_[s.rank];
      if (sp.length == bytes.size() && std::memcmp(arena_.data() + sp.offset, bytes.data(), sp.length) == 0)
        return s.rank;
    }
  }
}

}  // namespace gossamer::tok
