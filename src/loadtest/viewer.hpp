// One bench viewer: a WebRTC receive session on its own UDP socket, driven by an EventLoop.
// Counts every RTP packet from its plaintext header (no decryption), decrypts only the
// first packets, a 1-in-kSampleEvery sample and RTX packets (to learn which gap a
// retransmission filled), and answers like a browser: RR every second, NACK for gaps, PLI
// while no keyframe came, transport-cc feedback every 100 ms.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "loadtest/delay_table.hpp"
#include "loadtest/event_loop.hpp"
#include "loadtest/receive_stats.hpp"
#include "loadtest/signaling.hpp"
#include "loadtest/twcc_recorder.hpp"
#include "transport/webrtc_transport.hpp"

namespace strata::loadtest {

struct ViewerStats {
  Timestamp post_sent{}, connected{}, first_media{}, first_keyframe{}, closed_at{};
  Timestamp last_media{};  // the latest RTP packet (a churn run tells a silent session by it)
  Timestamp bye_at{};      // the server sent RTCP BYE: it ended the session (the live ended)
  Timestamp ended_at{};    // the transport closed or failed without close() from the bench
  int post_attempts = 1;   // WHEP POSTs it took (409/503 + Retry-After are retried)
  uint64_t packets = 0, bytes = 0, rtx_packets = 0, malformed = 0;
  uint64_t sampled = 0, auth_failures = 0;
  uint64_t nacks_sent = 0, plis_sent = 0, rr_sent = 0, twcc_sent = 0;
  SequenceTracker video_seq, audio_seq;
  JitterEstimator video_jitter{90000}, audio_jitter{48000};
  std::vector<float> delay_ms;  // forwarding delay samples (sampled packets only)
  std::string error;            // set when the session failed

  bool has_media() const { return first_media != Timestamp{}; }
  // The session ended on the server's side or by a failure, not by the bench's close().
  bool ended() const { return bye_at != Timestamp{} || ended_at != Timestamp{}; }
  uint64_t expected() const { return video_seq.expected() + audio_seq.expected(); }
  uint64_t lost() const { return video_seq.lost() + audio_seq.lost(); }
};

struct ViewerSetup {
  int fd = -1;
  transport::TransportConfig transport;
  RemoteMedia remote;
  Timestamp post_sent{};  // of the POST that got the 201
  int post_attempts = 1;
  const DelayTable* delays = nullptr;  // nullptr = no publisher in this process
  std::string session_url;             // for DELETE at the end
  int host = 0;
};

class Viewer final : public LoopSession, private transport::WebRtcTransport::Output {
 public:
  static constexpr uint64_t kFirstDecrypted = 32;  // packets decrypted before sampling starts
  static constexpr uint64_t kSampleEvery = 50;

  explicit Viewer(ViewerSetup setup);
  ~Viewer() override;

  void on_datagram(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now) override;
  void on_tick(Timestamp now) override;
  void close(Timestamp now) override;
  int fd() const override { return setup_.fd; }

  const ViewerStats& stats() const { return stats_; }
  const ViewerSetup& setup() const { return setup_; }
  // After close() the connection's state is gone (see close()): kClosed.
  transport::TransportState state() const { return transport_ ? transport_->state() : transport::TransportState::kClosed; }

 private:
  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to);
  // A client socket has one address: the transport's `from` is always empty here.
  void send_datagram(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress&) override {
    send_datagram(data, len, to);
  }
  void on_address_selected(const SocketAddress&) override {}

  void on_rtp(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now);
  void on_rtcp(const uint8_t* data, size_t len, Timestamp now);
  void inspect_decrypted(uint8_t* data, size_t len, bool video, bool measure_delay, Timestamp now);
  void on_rtx(uint8_t* data, size_t len, const SocketAddress& from, Timestamp now);
  bool decrypt(uint8_t* data, size_t* len, const SocketAddress& from, Timestamp now);
  void send_rtcp(Timestamp now);
  void send_receiver_report();
  void send_feedback(Timestamp now);
  void protect_and_send(Bytes& rtcp);

  ViewerSetup setup_;
  std::unique_ptr<transport::WebRtcTransport> transport_;  // null once closed
  ViewerStats stats_;
  uint32_t local_ssrc_;
  uint32_t video_ssrc_ = 0, audio_ssrc_ = 0;  // learned from packets
  std::unique_ptr<TwccRecorder> twcc_ = std::make_unique<TwccRecorder>();  // null once closed
  rtp::TransportFeedback fb_;
  std::vector<uint16_t> nack_seqs_;
  Bytes rtcp_;
  Timestamp next_rr_{}, next_twcc_{}, next_pli_{}, next_nack_{};
  uint64_t auth_failed_before_ = 0;
};

}  // namespace strata::loadtest
