#include "signaling/track_json.hpp"

#include <limits>

namespace strata::signaling {

namespace {

// A peer's number must be a non-negative integer that fits T: nlohmann's get<T>() would
// convert 5.6e22 to uint32_t (undefined behaviour, found by the api_json fuzz target) and
// wrap -1 or 300 into a uint8_t.
struct BadNumber {};  // also: a member that must be an object is not

template <typename T>
T uint_of(const nlohmann::json& v) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<T>::max()) throw BadNumber{};
  return T(v.get<uint64_t>());
}

template <typename T>
T uint_or(const nlohmann::json& obj, const char* key, T fallback) {
  auto it = obj.find(key);
  return it == obj.end() ? fallback : uint_of<T>(*it);
}

template <typename T>
std::vector<T> uint_array(const nlohmann::json& obj, const char* key) {
  std::vector<T> out;
  auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) throw BadNumber{};
  for (const auto& v : *it) out.push_back(uint_of<T>(v));
  return out;
}

nlohmann::json codec_to_json(const sfu::CodecParams& c) {
  nlohmann::json j = {{"pt", c.payload_type}, {"name", c.name},  {"clock_rate", c.clock_rate},
                      {"channels", c.channels}, {"fmtp", c.fmtp}, {"nack", c.nack},
                      {"pli", c.pli},           {"fir", c.fir}};
  if (c.rtx_payload_type) j["rtx_pt"] = *c.rtx_payload_type;
  return j;
}

sfu::CodecParams codec_from_json(const nlohmann::json& j) {
  sfu::CodecParams c;
  c.payload_type = uint_of<uint8_t>(j.at("pt"));
  c.name = j.at("name").get<std::string>();
  c.clock_rate = uint_of<uint32_t>(j.at("clock_rate"));
  c.channels = uint_or<uint8_t>(j, "channels", 0);
  c.fmtp = j.value("fmtp", std::string());
  c.nack = j.value("nack", false);
  c.pli = j.value("pli", false);
  c.fir = j.value("fir", false);
  if (j.contains("rtx_pt")) c.rtx_payload_type = uint_of<uint8_t>(j.at("rtx_pt"));
  c.codec = codecs::codec_from_name(c.name);
  return c;
}

nlohmann::json extensions_to_json(const rtp::HeaderExtensionIds& e) {
  return {{"mid", e.mid},       {"rid", e.rid},       {"repaired_rid", e.repaired_rid}, {"abs_send_time", e.abs_send_time},
          {"transport_cc", e.transport_cc}, {"audio_level", e.audio_level}};
}

rtp::HeaderExtensionIds extensions_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw BadNumber{};
  rtp::HeaderExtensionIds e;
  e.mid = uint_or<uint8_t>(j, "mid", 0);
  e.rid = uint_or<uint8_t>(j, "rid", 0);
  e.repaired_rid = uint_or<uint8_t>(j, "repaired_rid", 0);
  e.abs_send_time = uint_or<uint8_t>(j, "abs_send_time", 0);
  e.transport_cc = uint_or<uint8_t>(j, "transport_cc", 0);
  e.audio_level = uint_or<uint8_t>(j, "audio_level", 0);
  return e;
}

}  // namespace

nlohmann::json tracks_to_json(const std::vector<sfu::IngestTrackInfo>& tracks) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& t : tracks) {
    nlohmann::json j = {{"index", t.index}, {"mid", t.mid},       {"kind", sfu::to_string(t.kind)},
                        {"codec", codec_to_json(t.codec)}, {"rids", t.rids}, {"ssrcs", t.ssrcs},
                        {"extensions", extensions_to_json(t.extensions)}};
    if (t.rtx_ssrc) j["rtx_ssrc"] = *t.rtx_ssrc;
    if (!t.layer_ssrcs.empty()) j["layer_ssrcs"] = t.layer_ssrcs;
    if (!t.layer_rtx_ssrcs.empty()) j["layer_rtx_ssrcs"] = t.layer_rtx_ssrcs;
    out.push_back(std::move(j));
  }
  return out;
}

std::optional<std::vector<sfu::IngestTrackInfo>> tracks_from_json(const nlohmann::json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<sfu::IngestTrackInfo> tracks;
  try {
    for (auto& e : j) {
      sfu::IngestTrackInfo t;
      t.index = uint_of<uint32_t>(e.at("index"));
      t.mid = e.at("mid").get<std::string>();
      t.kind = e.at("kind").get<std::string>() == "audio" ? sfu::MediaKind::kAudio : sfu::MediaKind::kVideo;
      t.codec = codec_from_json(e.at("codec"));
      t.rids = e.value("rids", std::vector<std::string>{});
      t.ssrcs = uint_array<uint32_t>(e, "ssrcs");
      if (e.contains("rtx_ssrc")) t.rtx_ssrc = uint_of<uint32_t>(e.at("rtx_ssrc"));
      t.layer_ssrcs = uint_array<uint32_t>(e, "layer_ssrcs");
      t.layer_rtx_ssrcs = uint_array<uint32_t>(e, "layer_rtx_ssrcs");
      t.extensions = extensions_from_json(e.value("extensions", nlohmann::json::object()));
      tracks.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // control plane: a malformed peer answer is an error, not a crash
  } catch (const BadNumber&) {
    return std::nullopt;
  }
  if (tracks.empty()) return std::nullopt;
  return tracks;
}

}  // namespace strata::signaling
