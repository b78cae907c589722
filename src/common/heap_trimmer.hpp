// When to give freed heap back to the kernel (malloc_trim) — a decision only, sans-IO.
//
// Why: a join burst allocates and then frees a lot per session (DTLS handshakes, their
// OpenSSL connections, SDP and ICE scratch: tens of KB each, dtls/retired_dtls.hpp). glibc
// keeps what is freed in its arenas, interleaved with the sessions' long-lived state, so
// the process's RSS after a burst stays at its peak (memory per viewer, issue 14, measured
// 44–87 KB against ~36 KB of live heap). malloc_trim(0) returns every free page of every
// arena (madvise). It takes each arena's lock while it walks it, so it runs on the control
// thread, rarely: once the session count has stayed put for `settle` after a change, at
// most once per `min_interval`. Workers allocate nothing per packet in steady state, so
// the lock meets no packet.
#pragma once
#include <cstddef>

#include "common/time.hpp"

namespace strata {

class HeapTrimmer {
 public:
  struct Options {
    Duration settle = std::chrono::seconds(2);
    Duration min_interval = std::chrono::seconds(10);
  };
  HeapTrimmer() : HeapTrimmer(Options{}) {}
  explicit HeapTrimmer(Options o) : options_(o) {}

  // Called periodically with the node's session count; true = trim now.
  bool on_poll(size_t sessions, Timestamp now) {
    if (sessions != sessions_) {
      sessions_ = sessions;
      changed_at_ = now;
      pending_ = true;
      return false;
    }
    if (!pending_ || now - changed_at_ < options_.settle) return false;
    if (trimmed_ && now - last_trim_ < options_.min_interval) return false;
    pending_ = false;
    trimmed_ = true;
    last_trim_ = now;
    return true;
  }

 private:
  Options options_;
  size_t sessions_ = 0;
  bool pending_ = false, trimmed_ = false;
  Timestamp changed_at_{}, last_trim_{};
};

}  // namespace strata
