#pragma once
// Byte-pair merging of one pre-tokenized piece, tiktoken style: repeatedly merge the
// adjacent pair whose concatenation has the lowest rank (leftmost on ties) until no
// adjacent pair forms a token. For gpt-oss the HF merge list is ordered by the rank of the
// merged token (checked when the tokenizer loads), so this equals HF's merge loop.
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_ranks.h"

namespace gossamer::tok {

// Appends the ranks of `piece` to `out`. Every single byte must be a token (byte-level BPE
// guarantees it); a missing byte throws kCorruptData. Short pieces use an O(n^2) scan over
// a stack array (fastest for the few-byte pieces of real text); long ones a heap, so a
// 10 MB piece costs O(n log n), not O(n^2).
void bpe_merge_piece(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out);

// The two loops on their own, for tests that check they agree (scan: at most 128 bytes).
void bpe_merge_scan(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out);
void bpe_merge_heap(const BpeRanks& ranks, std::string_view piece, std::vector<uint32_t>& out);

}  // namespace gossamer::tok
