#include "loadtest/media_file.hpp"

#include <cstdio>
#include <cstring>

namespace strata::loadtest {
namespace {

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

std::optional<IvfFile> ivf_error(std::string* error, const char* why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

int64_t IvfFile::frame_time_us(size_t i) const {
  if (frames.empty() || i >= frames.size() || timebase_den == 0) return 0;
  uint64_t ticks = frames[i].pts - frames[0].pts;
  return int64_t(ticks * 1'000'000ull * timebase_num / timebase_den);
}

int64_t IvfFile::duration_us() const {
  if (frames.empty()) return 0;
  int64_t last = frame_time_us(frames.size() - 1);
  int64_t period = frames.size() > 1 ? last / int64_t(frames.size() - 1) : 33'333;
  return last + (period > 0 ? period : 33'333);
}

std::optional<IvfFile> parse_ivf(ByteSpan file, std::string* error) {
  if (file.size() < 32 || std::memcmp(file.data(), "DKIF", 4) != 0) return ivf_error(error, "not an IVF file (no DKIF header)");
  uint16_t header_size = le16(file.data() + 6);
  if (header_size < 32 || header_size > file.size()) return ivf_error(error, "IVF header size out of range");
  IvfFile ivf;
  ivf.fourcc.assign(reinterpret_cast<const char*>(file.data() + 8), 4);
  ivf.width = le16(file.data() + 12);
  ivf.height = le16(file.data() + 14);
  // IVF stores the time base as rate (den) and scale (num): seconds = pts * scale / rate.
  uint32_t rate = le32(file.data() + 16), scale = le32(file.data() + 20);
  if (rate == 0 || scale == 0) return ivf_error(error, "IVF time base is zero");
  ivf.timebase_den = rate;
  ivf.timebase_num = scale;
  size_t pos = header_size;
  while (pos + 12 <= file.size()) {
    uint32_t size = le32(file.data() + pos);
    uint64_t pts = le64(file.data() + pos + 4);
    pos += 12;
    if (size == 0 || size > file.size() - pos) break;  // truncated tail: keep what we have
    VideoFrame f;
    f.pts = pts;
    f.data.assign(file.data() + pos, file.data() + pos + size);
    f.keyframe = vp8_frame_is_keyframe(f.data);
    ivf.frames.push_back(std::move(f));
    pos += size;
  }
  if (ivf.frames.empty()) return ivf_error(error, "IVF file has no frames");
  return ivf;
}

std::optional<OpusFile> parse_ogg_opus(ByteSpan file, std::string* error) {
  auto fail = [error](const char* why) -> std::optional<OpusFile> {
    if (error) *error = why;
    return std::nullopt;
  };
  OpusFile out;
  std::vector<Bytes> packets;
  Bytes partial;
  bool have_serial = false;
  uint32_t serial = 0;
  size_t pos = 0;
  while (pos + 27 <= file.size()) {
    const uint8_t* page = file.data() + pos;
    if (std::memcmp(page, "OggS", 4) != 0 || page[4] != 0) return fail("bad Ogg page header");
    uint32_t page_serial = le32(page + 14);
    uint8_t segments = page[26];
    if (pos + 27 + segments > file.size()) return fail("truncated Ogg segment table");
    const uint8_t* lacing = page + 27;
    size_t body = pos + 27 + segments;
    size_t body_len = 0;
    for (int i = 0; i < segments; ++i) body_len += lacing[i];
    if (body + body_len > file.size()) return fail("truncated Ogg page");
    if (!have_serial) {
      have_serial = true;
      serial = page_serial;
    }
    if (page_serial == serial) {
      // RFC 3533 §6: a packet ends at the first lacing value below 255.
      size_t at = body;
      for (int i = 0; i < segments; ++i) {
        partial.insert(partial.end(), file.data() + at, file.data() + at + lacing[i]);
        at += lacing[i];
        if (lacing[i] < 255) packets.push_back(std::move(partial)), partial.clear();
      }
    }
    pos = body + body_len;
  }
  if (packets.size() < 2 || packets[0].size() < 19 || std::memcmp(packets[0].data(), "OpusHead", 8) != 0)
    return fail("not an Ogg Opus stream (no OpusHead)");
  out.channels = packets[0][9];
  for (size_t i = 2; i < packets.size(); ++i)
    if (!packets[i].empty()) out.packets.push_back(std::move(packets[i]));
  if (out.packets.empty()) return fail("Ogg Opus stream has no audio packets");
  return out;
}

std::optional<Bytes> read_file(const std::string& path, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    if (error) *error = "cannot open " + path;
    return std::nullopt;
  }
  Bytes data;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  std::fclose(f);
  return data;
}

}  // namespace strata::loadtest
