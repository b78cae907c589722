#include "codecs/picture_id_rewriter.hpp"

#include <algorithm>

#include "codecs/vp8.hpp"
#include "codecs/vp9.hpp"

namespace strata::codecs {
namespace {

constexpr int64_t kPictureIdSpace = int64_t(1) << 15;

uint16_t to_15bit(int64_t v) { return uint16_t(((v % kPictureIdSpace) + kPictureIdSpace) % kPictureIdSpace); }

bool rewrites_picture_ids(Codec codec) { return codec == Codec::kVp8 || codec == Codec::kVp9; }

}  // namespace

PictureIdRewriter::PictureIdRewriter(Codec codec) : codec_(codec) {}

std::optional<PictureIdRewriter::InputIds> PictureIdRewriter::read_ids(ByteSpan payload) const {
  InputIds ids;
  if (codec_ == Codec::kVp8) {
    const auto d = parse_vp8(payload);
    if (!d) return std::nullopt;
    ids.has_picture_id = d->has_picture_id;
    ids.picture_id = d->picture_id;
    ids.bits = d->picture_id_15bit ? 15 : 7;
    if (d->has_tl0picidx) ids.tl0picidx = d->tl0picidx;
  } else if (codec_ == Codec::kVp9) {
    const auto d = parse_vp9(payload);
    if (!d) return std::nullopt;
    ids.has_picture_id = d->has_picture_id;
    ids.picture_id = d->picture_id;
    ids.bits = d->picture_id_15bit ? 15 : 7;
    if (d->has_tl0picidx) ids.tl0picidx = d->tl0picidx;
  }
  return ids;
}

bool PictureIdRewriter::rewrite(uint8_t* payload, size_t len, bool switched_source) {
  if (!rewrites_picture_ids(codec_)) {
    ++counters_.passed_through;
    return true;
  }
  if (payload == nullptr) {
    ++counters_.malformed;
    return false;
  }
  const auto ids = read_ids(ByteSpan(payload, len));
  if (!ids) {
    ++counters_.malformed;
    return false;
  }
  if (switched_source) pending_switch_ = true;
  if (!ids->has_picture_id) {
    ++counters_.passed_through;
    return true;
  }
  if (pending_switch_) start_new_source(*ids);

  const int64_t x = unwrap(ids->picture_id, ids->bits);
  int64_t offset = 0;
  if (const Entry* e = find(x)) {
    // Another packet of a known picture. (A picture earlier dropped and now forwarded
    // keeps the id it was reserved; it may repeat the next picture's id.)
    offset = e->offset;
  } else if (auto o = offset_for_new(x)) {
    offset = *o;
    insert(x, offset, false);
  } else {
    ++counters_.too_old;
    return false;
  }
  const uint16_t out = to_15bit(x + offset);
  const auto tl0 = output_tl0(*ids);
  newest_input_ = std::max(newest_input_, x);
  if (!have_forwarded_ || x >= newest_forwarded_) {
    have_forwarded_ = true;
    newest_forwarded_ = x;
    have_last_out_ = true;
    last_out_picture_id_ = out;
    if (tl0) {
      have_last_out_tl0_ = true;
      last_out_tl0_ = *tl0;
    }
  }
  write(payload, len, out, tl0);
  ++counters_.rewritten;
  return true;
}

void PictureIdRewriter::drop_picture(ByteSpan payload) {
  if (!rewrites_picture_ids(codec_) || pending_switch_) return;
  const auto ids = read_ids(payload);
  if (!ids || !ids->has_picture_id) return;
  const int64_t x = unwrap(ids->picture_id, ids->bits);
  if (find(x)) return;  // already counted, or (partly) forwarded
  const auto offset = offset_for_new(x);
  if (!offset) return;  // older than the history: nothing to adjust
  insert(x, *offset, true);
  ++counters_.dropped_pictures;
  newest_input_ = std::max(newest_input_, x);
  // Only a picture newer than every forwarded one can still be skipped without a gap.
  if (have_forwarded_ && x < newest_forwarded_) return;
  --offset_;
  for (size_t i = 0; i < history_count_; ++i) {
    if (history_[i].input > x) --history_[i].offset;
  }
}

// The new encoding continues where the viewer's stream left off (RFC 7741 §4.2 and RFC
// 9628 §4.2 both expect consecutive PictureIDs and TL0PICIDX incremented per TL0 picture).
void PictureIdRewriter::start_new_source(const InputIds& ids) {
  pending_switch_ = false;
  ++counters_.switches;
  have_input_ = false;
  have_forwarded_ = false;
  history_count_ = 0;
  history_next_ = 0;
  // unwrap() will start the new source's unwrapped ids at the raw id.
  offset_ = have_last_out_ ? int64_t(last_out_picture_id_) + 1 - ids.picture_id : 0;
  tl0_needs_base_ = true;
}

// Maps a 7/15-bit id to 64 bits, choosing the value nearest to the newest input.
int64_t PictureIdRewriter::unwrap(uint16_t picture_id, int bits) {
  const int64_t space = int64_t(1) << bits;
  const int64_t id = picture_id & (space - 1);
  if (!have_input_) {
    have_input_ = true;
    newest_input_ = id;
    return id;
  }
  int64_t diff = (id - (newest_input_ & (space - 1)) + space) % space;
  if (diff >= space / 2) diff -= space;
  return newest_input_ + diff;
}

PictureIdRewriter::Entry* PictureIdRewriter::find(int64_t input) {
  for (size_t i = 0; i < history_count_; ++i) {
    if (history_[i].input == input) return &history_[i];
  }
  return nullptr;
}

const PictureIdRewriter::Entry* PictureIdRewriter::nearest_before(int64_t input) const {
  const Entry* best = nullptr;
  for (size_t i = 0; i < history_count_; ++i) {
    const Entry& e = history_[i];
    if (e.input < input && (best == nullptr || e.input > best->input)) best = &e;
  }
  return best;
}

// Offset for a picture not in the history: the head offset when it is the newest, else
// the offset just after its nearest predecessor (one less if that one was dropped), so a
// late picture lands where it would have in order. nullopt when it precedes the history.
std::optional<int64_t> PictureIdRewriter::offset_for_new(int64_t input) const {
  if (history_count_ == 0 || input > newest_input_) return offset_;
  const Entry* prev = nearest_before(input);
  if (prev == nullptr) return std::nullopt;
  return prev->offset - (prev->dropped ? 1 : 0);
}

void PictureIdRewriter::insert(int64_t input, int64_t offset, bool dropped) {
  history_[history_next_] = Entry{input, offset, dropped};
  history_next_ = (history_next_ + 1) % kHistorySize;
  history_count_ = std::min(history_count_ + 1, kHistorySize);
}

// TL0PICIDX (8 bits, wraps 255 -> 0) keeps its own offset, set at the first packet of a
// new source that carries one. Dropping TL>0 pictures never changes it.
std::optional<uint8_t> PictureIdRewriter::output_tl0(const InputIds& ids) {
  if (!ids.tl0picidx) return std::nullopt;
  if (tl0_needs_base_) {
    tl0_needs_base_ = false;
    tl0_offset_ = have_last_out_tl0_ ? uint8_t(last_out_tl0_ + 1 - *ids.tl0picidx) : 0;
  }
  return uint8_t(*ids.tl0picidx + tl0_offset_);
}

bool PictureIdRewriter::write(uint8_t* payload, size_t len, uint16_t picture_id,
                              std::optional<uint8_t> tl0) const {
  if (codec_ == Codec::kVp8) return rewrite_vp8_picture_id(payload, len, picture_id, tl0.value_or(0));
  return rewrite_vp9_picture_id(payload, len, picture_id, tl0);
}

}  // namespace strata::codecs
