#include "signaling/track_json.hpp"

namespace strata::signaling {

namespace {

nlohmann::json codec_to_json(const sfu::CodecParams& c) {
  nlohmann::json j = {{"pt", c.payload_type}, {"name", c.name},  {"clock_rate", c.clock_rate},
                      {"channels", c.channels}, {"fmtp", c.fmtp}, {"nack", c.nack},
                      {"pli", c.pli},           {"fir", c.fir}};
  if (c.rtx_payload_type) j["rtx_pt"] = *c.rtx_payload_type;
  return j;
}

sfu::CodecParams codec_from_json(const nlohmann::json& j) {
  sfu::CodecParams c;
  c.payload_type = j.at("pt").get<uint8_t>();
  c.name = j.at("name").get<std::string>();
  c.clock_rate = j.at("clock_rate").get<uint32_t>();
  c.channels = j.value("channels", uint8_t(0));
  c.fmtp = j.value("fmtp", std::string());
  c.nack = j.value("nack", false);
  c.pli = j.value("pli", false);
  c.fir = j.value("fir", false);
  if (j.contains("rtx_pt")) c.rtx_payload_type = j.at("rtx_pt").get<uint8_t>();
  c.codec = codecs::codec_from_name(c.name);
  return c;
}

nlohmann::json extensions_to_json(const rtp::HeaderExtensionIds& e) {
  return {{"mid", e.mid},       {"rid", e.rid},       {"repaired_rid", e.repaired_rid}, {"abs_send_time", e.abs_send_time},
          {"transport_cc", e.transport_cc}, {"audio_level", e.audio_level}};
}

rtp::HeaderExtensionIds extensions_from_json(const nlohmann::json& j) {
  rtp::HeaderExtensionIds e;
  e.mid = j.value("mid", uint8_t(0));
  e.rid = j.value("rid", uint8_t(0));
  e.repaired_rid = j.value("repaired_rid", uint8_t(0));
  e.abs_send_time = j.value("abs_send_time", uint8_t(0));
  e.transport_cc = j.value("transport_cc", uint8_t(0));
  e.audio_level = j.value("audio_level", uint8_t(0));
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
      t.index = e.at("index").get<uint32_t>();
      t.mid = e.at("mid").get<std::string>();
      t.kind = e.at("kind").get<std::string>() == "audio" ? sfu::MediaKind::kAudio : sfu::MediaKind::kVideo;
      t.codec = codec_from_json(e.at("codec"));
      t.rids = e.value("rids", std::vector<std::string>{});
      t.ssrcs = e.value("ssrcs", std::vector<uint32_t>{});
      if (e.contains("rtx_ssrc")) t.rtx_ssrc = e.at("rtx_ssrc").get<uint32_t>();
      t.layer_ssrcs = e.value("layer_ssrcs", std::vector<uint32_t>{});
      t.layer_rtx_ssrcs = e.value("layer_rtx_ssrcs", std::vector<uint32_t>{});
      t.extensions = extensions_from_json(e.value("extensions", nlohmann::json::object()));
      tracks.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // control plane: a malformed peer answer is an error, not a crash
  }
  if (tracks.empty()) return std::nullopt;
  return tracks;
}

}  // namespace strata::signaling
