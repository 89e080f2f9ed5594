#include "tokenizer/bpe_merge.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::tok {
namespace {

constexpr uint32_t kNone = BpeRanks::kNone;
constexpr size_t kSmallPiece = 128;

uint32_t rank_of(const BpeRanks& ranks, std::string_view piece, size_t begin, size_t end) {
  return ranks.find(piece.substr(begin, end - begin));
}

void emit(const BpeRanks& ranks, std::string_view piece, size_t begin, size_t end,
          std::vector<uint32_t>& out) {
  const uint32_t r = rank_of(ranks, piece, begin, end);
  if (r == kNone) {
    GOSSAMER_THROW(kCorruptData, "tokenizer vocabulary lacks byte 0x{:02X}: not a byte-level BPE",
                   static_cast<unsigned char>(piece[begin]));
  }
  out.push_back(r);
}

// tiktoken's _byte_pair_merge: parts[i].rank is the rank of merging part i with part i+1.
void merge_small(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  struct Part {
    uint32_t start;
    uint32_t rank;
  };
  Part parts[kSmallPiece + 1];
  const size_t n = piece.size();
  size_t len = n + 1;
  for (size_t i = 0; i + 1 < n; ++i) parts[i] = {static_cast<uint32_t>(i), rank_of(ranks, piece, i, i + 2)};
  parts[n - 1] = {static_cast<uint32_t>(n - 1), kNone};
  parts[n] = {static_cast<uint32_t>(n), kNone};
  // Rank of merging parts i and i+1 once part i+1 has absorbed part i+2.
  auto rank_after = [&](size_t i) {
    return i + 3 < len ? rank_of(ranks, piece, parts[i].start, parts[i + 3].start) : kNone;
  };
  while (len > 2) {
    uint32_t best = kNone;
    size_t at = 0;
    for (size_t i = 0; i + 1 < len; ++i) {
      if (parts[i].rank < best) {
        best = parts[i].rank;
        at = i;
      }
    }
    if (best == kNone) break;
    if (at > 0) parts[at - 1].rank = rank_after(at - 1);
    parts[at].rank = rank_after(at);
    for (size_t k = at + 1; k + 1 < len; ++k) parts[k] = parts[k + 1];
    --len;
  }
  for (size_t i = 0; i + 1 < len; ++i) emit(ranks, piece, parts[i].start, parts[i + 1].start, out);
}

// The same merge order with a min-heap over (rank, start) and a linked list of parts;
// stale heap entries are recognised by their end offset no longer matching. Keys are
// packed into one integer (rank high, start low) so the heap compares single words.
void merge_large(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  const size_t n = piece.size();
  GOSSAMER_CHECK(n < 0xFFFFFFFFull, "piece of {} bytes is too long", n);
  std::vector<uint32_t> next(n), prev(n);  // indexed by a part's start byte
  for (size_t i = 0; i < n; ++i) {
    next[i] = static_cast<uint32_t>(i + 1);
    prev[i] = static_cast<uint32_t>(i == 0 ? kNone : i - 1);
  }
  struct Entry {
    uint64_t key;  // rank << 32 | start
    uint32_t end;  // the pair spans [start, end) when the entry was made
  };
  auto later = [](const Entry& a, const Entry& b) { return a.key > b.key; };
  std::vector<Entry> heap;
  heap.reserve(n);
  // Pair (i, next[i]) spans [i, next[next[i]]).
  auto make = [&](uint32_t i, bool push) {
    if (i == kNone || next[i] >= n) return;
    const uint32_t end = next[next[i]];
    const uint32_t r = rank_of(ranks, piece, i, end);
    if (r == kNone) return;
    heap.push_back({(static_cast<uint64_t>(r) << 32) | i, end});
    if (push) std::push_heap(heap.begin(), heap.end(), later);
  };
  for (uint32_t i = 0; i + 1 < n; ++i) make(i, false);
  std::make_heap(heap.begin(), heap.end(), later);
  std::vector<bool> alive(n, true);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), later);
    const Entry e = heap.back();
    heap.pop_back();
    const auto start = static_cast<uint32_t>(e.key & 0xFFFFFFFFu);
    if (!alive[start] || next[start] >= n || next[next[start]] != e.end) continue;
    const uint32_t j = next[start];
    alive[j] = false;
    next[start] = next[j];
    if (next[j] < n) prev[next[j]] = start;
    make(prev[start], true);
    make(start, true);
  }
  for (uint32_t i = 0; i < n; i = next[i]) emit(ranks, piece, i, next[i], out);
}

}  // namespace

void bpe_merge_scan(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  GOSSAMER_CHECK(piece.size() <= kSmallPiece, "scan loop is for pieces of at most {} bytes", kSmallPiece);
  if (piece.size() == 1) return emit(ranks, piece, 0, 1, out);
  if (!piece.empty()) merge_small(ranks, piece, out);
}

void bpe_merge_heap(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  if (piece.size() == 1) return emit(ranks, piece, 0, 1, out);
  if (!piece.empty()) merge_large(ranks, piece, out);
}

void bpe_merge_piece(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out) {
  if (piece.empty()) return;
  if (piece.size() == 1) {
    emit(ranks, piece, 0, 1, out);
    return;
  }
  if (piece.size() <= kSmallPiece) {
    merge_small(ranks, piece, out);
  } else {
    merge_large(ranks, piece, out);
  }
}

}  // namespace gossamer::tok
