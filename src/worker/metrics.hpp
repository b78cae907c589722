// Per-worker counters. Each is written by one worker thread only (relaxed store of load+1,
// no locked instruction) and read by the control plane for /metrics.
#pragma once
#include <atomic>
#include <cstdint>

namespace strata::worker {

struct Counter {
  std::atomic<uint64_t> v{0};
  void add(uint64_t n = 1) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

#define STRATA_WORKER_COUNTERS(X)                                                            \
  X(packets_in, "UDP datagrams received")                                                  \
  X(bytes_in, "UDP bytes received")                                                        \
  X(packets_out, "UDP datagrams sent")                                                     \
  X(bytes_out, "UDP bytes sent")                                                           \
  X(rtp_in, "RTP packets received from publishers")                                        \
  X(rtp_out, "RTP packets sent to viewers")                                                \
  X(rtcp_in, "RTCP packets received")                                                      \
  X(rtcp_out, "RTCP packets sent")                                                         \
  X(retransmissions_out, "RTP packets retransmitted to viewers on NACK")                  \
  X(nacks_out, "NACK requests sent to publishers")                                         \
  X(keyframe_requests_in, "keyframe requests (PLI/FIR) received from viewers")             \
  X(keyframe_requests_out, "keyframe requests (PLI) sent to publishers")                   \
  X(layer_switches, "simulcast layer switches made for viewers")                           \
  X(bwe_probes, "bandwidth probes started toward viewers before a layer upgrade")         \
  X(probe_packets_out, "probe packets (RTX copies) sent to viewers")                       \
  X(keyframe_cache_replays, "viewer slots and relay layers started from the keyframe cache instead of a keyframe request") \
  X(keyframe_cache_replays_over_budget, "viewer slots that asked the host for a keyframe because the worker's replay budget was spent") \
  X(keyframe_cache_packets_out, "RTP packets sent to viewers and relays from keyframe cache replays") \
  X(keyframe_cache_requests_answered, "edges' keyframe requests (PLI/FIR) answered by the relay's keyframe cache replay, not sent to the host") \
  X(ice_verification_requests, "STUN Binding requests sent to verify a client path before anything but STUN goes there") \
  X(ice_paths_verified, "client paths verified: they answered our Binding request") \
  X(ice_stun_withheld, "STUN answers and requests not sent to an unverified path: larger than the check they answer") \
  X(dtls_held_until_verified, "DTLS datagrams from a nominated path held until it answered our Binding request") \
  X(drop_dtls_unverified, "DTLS datagrams dropped: from an unverified path, over the hold bound or superseded") \
  X(drop_unknown_source, "datagrams dropped: no session for the source address")          \
  X(drop_unknown_ufrag, "datagrams dropped: STUN for an unknown ufrag")                     \
  X(drop_stun_unauthenticated, "datagrams dropped: STUN failing ICE authentication")       \
  X(drop_malformed, "datagrams dropped: not STUN, DTLS, RTP or RTCP, or truncated")        \
  X(drop_srtp_auth, "datagrams dropped: SRTP/SRTCP authentication or replay check failed")\
  X(drop_not_ready, "datagrams dropped: media before DTLS completed")                      \
  X(drop_unknown_ssrc, "RTP packets dropped: SSRC matches no negotiated track")            \
  X(drop_ring_full, "RTP packets dropped: cross-worker ring full")                         \
  X(drop_duplicate_rtx, "RTX packets dropped: retransmission of a packet never missing")  \
  X(drop_rtx_unknown_media_ssrc, "RTX packets dropped: the SSRC of the stream they repair is not known yet") \
  X(drop_rtx_unrestorable, "RTX packets dropped: nothing to restore (padding-only, or no RFC 4588 OSN)") \
  X(drop_rtcp_oversized, "RTCP packets not sent: the compound does not fit one datagram")   \
  X(drop_send_error, "datagrams dropped: the socket refused them")

struct WorkerMetrics {
#define STRATA_DECLARE_COUNTER(name, help) Counter name;
  STRATA_WORKER_COUNTERS(STRATA_DECLARE_COUNTER)
#undef STRATA_DECLARE_COUNTER
};

struct WorkerMetricsSnapshot {
#define STRATA_DECLARE_FIELD(name, help) uint64_t name = 0;
  STRATA_WORKER_COUNTERS(STRATA_DECLARE_FIELD)
#undef STRATA_DECLARE_FIELD
};

}  // namespace strata::worker
