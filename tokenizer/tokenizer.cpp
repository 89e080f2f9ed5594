#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/spec.h"
#include "tokenizer/utf8.h"

namespace gossamer {

struct Tokenizer::Impl {
  explicit Impl(tok::TokenizerSpec s) : spec(std::move(s)), pre(spec.split_pattern) {
    static std::atomic<uint64_t> next_uid{1};
    uid = next_uid.fetch_add(1);
    limit = static_cast<uint32_t>(spec.ranks.size());
    for (const auto& a : spec.added) limit = std::max(limit, a.id + 1);
    added_by_id.assign(limit, -1);
    for (size_t i = 0; i < spec.added.size(); ++i) {
      const auto& a = spec.added[i];
      added_by_id[a.id] = static_cast<int32_t>(i);
      auto& firsts = a.special ? special_first : plain_first;
      firsts[static_cast<unsigned char>(a.content[0])] = true;
      by_length.push_back(i);
    }
    for (const auto& a : spec.added) (a.special ? any_special : any_plain) = true;
    for (const auto& a : spec.added) {
      const int c = static_cast<unsigned char>(a.content[0]);
      only_first = (only_first == -1 || only_first == c) ? c : -2;
    }
    if (only_first < 0) only_first = -1;
    // Longest first, so the scan takes the longest added token at the leftmost position
    // (HF matches added tokens leftmost-longest).
    std::stable_sort(by_length.begin(), by_length.end(), [&](size_t x, size_t y) {
      return spec.added[x].content.size() > spec.added[y].content.size();
    });
  }

  tok::TokenizerSpec spec;
  tok::PreTokenizer pre;
  uint64_t uid = 0;
  uint32_t limit = 0;
  std::vector<int32_t> added_by_id;  // [id] -> index into spec.added, or -1
  std::vector<size_t> by_length;     // indices into spec.added, longest content first
  std::array<bool, 256> special_first{};
  std::array<bool, 256> plain_first{};
  bool any_plain = false, any_special = false;
  int only_first = -1;  // the one first byte every added token shares ('<' for gpt-oss), or -1

  void encode_ordinary(std::string_view text, std::vector<uint32_t>& out) const;
  const tok::AddedToken* added_at(std::string_view text, size_t pos, bool specials) const;
};

namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return tok::hash_bytes(s); }
};

// Per-thread encode state. Pieces that are not whole tokens (about one in ten in prose,
// more in code and rare scripts) go through the merge loop once and are then cached.
struct EncodeScratch {
  static constexpr size_t kMaxCachedPiece = 64;     // bytes; long pieces are rare and unique
  static constexpr size_t kMaxCacheEntries = 1 << 16;

  uint64_t owner = 0;  // uid of the tokenizer this state belongs to
  std::unique_ptr<tok::PieceSplitter> splitter;
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>> cache;
  std::vector<uint32_t> cached_ids;  // cache values are [offset, count) into this

  void bind(const Tokenizer::Impl& impl) {
    if (owner == impl.uid) return;
    splitter = std::make_unique<tok::PieceSplitter>(impl.pre);
    cache.clear();
    cached_ids.clear();
    owner = impl.uid;
  }
};

EncodeScratch& scratch_for(const Tokenizer::Impl& impl) {
  thread_local EncodeScratch scratch;
  scratch.bind(impl);
  return scratch;
}

}  // namespace

void Tokenizer::Impl::encode_ordinary(std::string_view text, std::vector<uint32_t>& out) const {
  if (text.empty()) return;
  EncodeScratch& s = scratch_for(*this);
  tok::PieceSplitter& split = *s.splitter;
  split.reset(text);
  std::string_view piece;
  while (split.next(piece)) {
    if (spec.whole_piece_first) {
      const uint32_t r = spec.ranks.find(piece);
      if (r != tok::BpeRanks::kNone) {
        out.push_back(r);
        continue;
      }
    }
    if (piece.size() > EncodeScratch::kMaxCachedPiece) {
      tok::bpe_merge_piece(spec.ranks, piece, out);
      continue;
    }
    if (auto it = s.cache.find(piece); it != s.cache.end()) {
      const auto [offset, count] = it->second;
      out.insert(out.end(), s.cached_ids.begin() + offset, s.cached_ids.begin() + offset + count);
      continue;
    }
    const size_t before = out.size();
    tok::bpe_merge_piece(spec.ranks, piece, out);
    if (s.cache.size() >= EncodeScratch::kMaxCacheEntries) {
      s.cache.clear();
      s.cached_ids.clear();
    }
    const auto offset = static_cast<uint32_t>(s.cached_ids.size());
    s.cached_ids.insert(s.cached_ids.end(), out.begin() + before, out.end());
    s.cache.emplace(std::string(piece), std::make_pair(offset, static_cast<uint32_t>(out.size() - before)));
  }
}

const tok::AddedToken* Tokenizer::Impl::added_at(std::string_view text, size_t pos, bool specials) const {
  const auto c = static_cast<unsigned char>(text[pos]);
  if (!plain_first[c] && !(specials && special_first[c])) return nullptr;
  const std::string_view rest = text.substr(pos);
  for (size_t i : by_length) {
    const tok::AddedToken& a = spec.added[i];
    if (a.special && !specials) continue;
    if (rest.size() >= a.content.size() && std::memcmp(rest.data(), a.content.data(), a.content.size()) == 0) return &a;
  }
  return nullptr;
}

Tokenizer Tokenizer::load(const std::string& path) {
  return Tokenizer(std::make_shared<const Impl>(tok::load_tokenizer_spec(path)));
}

Tokenizer Tokenizer::from_json(std::string_view json_text, const std::string& source) {
  return Tokenizer(std::make_shared<const Impl>(tok::parse_tokenizer_spec(json_text, source)));
}

std::vector<uint32_t> Tokenizer::encode(std::string_view text, SpecialTokens specials) const {
  std::vector<uint32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_append(text, specials, out);
  return out;
}

void Tokenizer::encode_append(std::string_view text, SpecialTokens specials, std::vector<uint32_t>& out) const {
  tok::require_valid_utf8(text, "text to encode");
  const Impl& im = *impl_;
  const bool with_specials = specials == SpecialTokens::kRecognise;
  if (!im.any_plain && !(with_specials && im.any_special)) {
    im.encode_ordinary(text, out);
    return;
  }
  // Added tokens split the text first; the pieces between them are encoded on their own,
  // exactly as HF does (so " <|channel|>" is " " then <|channel|>).
  size_t segment = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (im.only_first >= 0) {  // jump to the next candidate instead of testing every byte
      const void* hit = std::memchr(text.data() + pos, im.only_first, text.size() - pos);
      if (hit == nullptr) break;
      pos = static_cast<size_t>(static_cast<const char*>(hit) - text.data());
    }
    const tok::AddedToken* a = im.added_at(text, pos, with_specials);
    if (a == nullptr) {
      ++pos;
      continue;
    }
    im.encode_ordinary(text.substr(segment, pos - segment), out);
    out.push_back(a->id);
    pos += a->content.size();
    segment = pos;
  }
  im.encode_ordinary(text.substr(segment), out);
}

void Tokenizer::append_bytes(uint32_t id, std::string& out) const {
  const Impl& im = *impl_;
  if (id < im.limit && im.added_by_id[id] >= 0) {
    out += im.spec.added[static_cast<size_t>(im.added_by_id[id])].content;
    return;
  }
  if (id < im.spec.ranks.size()) {
    const std::string_view b = im.spec.ranks.bytes_of(id);
    if (!b.empty()) {
      out.append(b.data(), b.size());
      return;
    }
  }
  GOSSAMER_THROW(kInvalidArgument, "token id {} is not defined by tokenizer {}", id, im.spec.source);
}

std::string Tokenizer::decode(std::span<const uint32_t> ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (uint32_t id : ids) append_bytes(id, out);
  return out;
}

std::string Tokenizer::decode_text(std::span<const uint32_t> ids) const { return tok::to_valid_utf8(decode(ids)); }

bool Tokenizer::contains(uint32_t id) const {
  const Impl& im = *impl_;
  if (id >= im.limit) return false;
  return im.added_by_id[id] >= 0 || (id < im.spec.ranks.size() && !im.spec.ranks.bytes_of(id).empty());
}

bool Tokenizer::is_special(uint32_t id) const {
  const Impl& im = *impl_;
  return id < im.limit && im.added_by_id[id] >= 0 && im.spec.added[static_cast<size_t>(im.added_by_id[id])].special;
}

std::optional<uint32_t> Tokenizer::find_token(std::string_view text) const {
  for (const auto& a : impl_->spec.added) {
    if (a.content == text) return a.id;
  }
  const uint32_t r = text.empty() ? tok::BpeRanks::kNone : impl_->spec.ranks.find(text);
  if (r == tok::BpeRanks::kNone) return std::nullopt;
  return r;
}

uint32_t Tokenizer::special_id(std::string_view content) const {
  for (const auto& a : impl_->spec.added) {
    if (a.content == content) return a.id;
  }
  GOSSAMER_THROW(kNotFound, "tokenizer {} has no special token {}", impl_->spec.source, content);
}

uint32_t Tokenizer::id_limit() const { return impl_->limit; }

const std::string& Tokenizer::source() const { return impl_->spec.source; }

}  // namespace gossamer
