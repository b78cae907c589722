// The bench host: replays a pre-encoded VP8 (+ simulcast) and Opus clip, paced at the
// frames' timestamps, over WHIP (ICE controlling + DTLS client, SRTP) or as plain RTP to a
// Janus RTP mountpoint. Answers PLI/FIR by jumping every layer to its next keyframe,
// NACK by resending from a small per-SSRC ring, and sends RTCP SR every second.
#pragma once
#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loadtest/clip.hpp"
#include "loadtest/delay_table.hpp"
#include "loadtest/event_loop.hpp"
#include "transport/webrtc_transport.hpp"

namespace strata::loadtest {

struct PublisherSetup {
  int fd = -1;
  std::optional<transport::TransportConfig> transport;  // nullopt = plain RTP (Janus)
  SocketAddress plain_video_to, plain_audio_to;
  std::shared_ptr<const Clip> clip;
  DelayTable* delays = nullptr;
  std::vector<uint32_t> video_ssrcs;  // one per clip layer
  uint32_t audio_ssrc = 0;
  std::string session_url;
};

struct PublisherStats {
  Timestamp started{};
  uint64_t packets = 0, bytes = 0, retransmitted = 0, nacks = 0, keyframe_requests = 0, jumps = 0;
  std::string error;
};

class Publisher final : public LoopSession, private transport::WebRtcTransport::Output {
 public:
  static constexpr size_t kMaxPayload = 1100;  // + header, extensions and SRTP tag ≤ 1200
  explicit Publisher(PublisherSetup setup);
  ~Publisher() override;

  void on_datagram(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) override;
  void on_tick(Timestamp now) override;
  void close(Timestamp now) override;
  int fd() const override { return setup_.fd; }
  const PublisherStats& stats() const { return stats_; }
  bool sending() const { return stats_.started != Timestamp{}; }
  const PublisherSetup& setup() const { return setup_; }

 private:
  static constexpr size_t kRingSlots = 512;
  struct Sent {
    uint16_t seq = 0, len = 0;
    std::array<uint8_t, 1280> data;
  };
  struct Stream {
    uint32_t ssrc = 0, clock_rate = 90000, ts_base = 0;
    uint16_t seq = 0, picture_id = 0;
    size_t next = 0;         // next frame/packet index in the clip
    Timestamp epoch{};       // when clip time 0 of the current loop is due
    uint64_t packets = 0, octets = 0;
    std::string rid;
    const IvfFile* video = nullptr;  // nullptr = the audio stream
    std::vector<Sent> ring = std::vector<Sent>(kRingSlots);
  };

  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to);
  // A client socket has one address: the transport's `from` is always empty here.
  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress&) override {
    send_datagram(data, len, to);
  }
  void on_address_selected(const SocketAddress&) override {}

  void start(Timestamp now);
  int64_t clip_time_us(const Stream& s, size_t index) const;
  int64_t loop_duration_us(const Stream& s) const;
  void send_due(Stream& s, Timestamp now);
  void send_video_frame(Stream& s, Timestamp due);
  void send_packet(Stream& s, ByteSpan payload, bool marker, Timestamp due);
  void transmit(Stream& s, uint8_t* data, size_t len);
  void jump_to_keyframe(Timestamp now);
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);
  void resend(uint32_t ssrc, uint16_t seq);
  void send_sender_reports(Timestamp now);
  uint32_t rtp_time(const Stream& s, Timestamp t) const;

  PublisherSetup setup_;
  std::unique_ptr<transport::WebRtcTransport> transport_;
  PublisherStats stats_;
  std::vector<std::unique_ptr<Stream>> streams_;  // video layers, then audio
  uint16_t twcc_seq_ = 0;
  Timestamp next_sr_{}, last_jump_{};
  std::array<uint8_t, 1500> payload_{}, packet_{};
};

}  // namespace strata::loadtest
