// Transport-wide sequence numbers for everything one viewer session sends
// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §2): one counter across all of the
// session's SSRCs, media, retransmissions and probes alike, so that the viewer's
// transport-cc feedback describes the whole downlink. Each number handed out is reported
// to a listener (the session's bandwidth estimator) with the packet's size and send time.
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/time.hpp"

namespace strata::sfu {

class TransportSequencer {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_transport_packet_sent(uint16_t seq, size_t bytes, Timestamp now, int probe_cluster) = 0;
  };

  explicit TransportSequencer(Listener* listener = nullptr) : listener_(listener) {}

  // The number for a packet of `bytes` (RTP length, before SRTP) sent at `now`.
  // While a probe runs, every packet sent (media and probe copies) belongs to its cluster:
  // the cluster's rate is what the path is tested with.
  uint16_t next(size_t bytes, Timestamp now, int probe_cluster = -1) {
    uint16_t seq = next_++;
    if (listener_) listener_->on_transport_packet_sent(seq, bytes, now, probe_cluster >= 0 ? probe_cluster : cluster_);
    return seq;
  }
  void set_probe_cluster(int cluster) { cluster_ = cluster; }

 private:
  Listener* listener_;
  int cluster_ = -1;
  uint16_t next_ = 1;
};

}  // namespace strata::sfu
