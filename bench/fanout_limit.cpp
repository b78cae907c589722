// strata_fanout_limit: the machine's ceiling for SFU fan-out on one core (issue 5).
//
// Does only the work no SFU design can avoid when forwarding one source stream to N
// viewers: per viewer, copy the RTP packet into a send slot, rewrite SSRC/sequence number,
// SRTP-protect it with that viewer's own AEAD_AES_128_GCM session (RFC 7714), and send it
// through one unconnected UDP socket with sendmmsg(2) in batches. No parsing, no
// congestion control, no NACK/RTX, no event loop.
//
// Receivers are N UDP sockets bound on 127.0.0.1 in this process that are never read,
// with a tiny SO_RCVBUF so the kernel drops each datagram at enqueue (counted in
// /proc/net/snmp Udp RcvbufErrors). Sending to ports where nothing listens would add
// ICMP port-unreachable generation and handling, so it is avoided.
//
// CAVEAT: on loopback the receive path (IP/UDP input, socket lookup, the drop) runs in
// softirq on the sending CPU, usually right inside sendmmsg, so "sendmmsg ns/packet"
// includes receive-side cost that a real NIC would move off the sender. The figure is
// therefore a pessimistic bound for the send half.
//
// --drain: the receivers are read by a thread on CPU 1 (epoll + recvmmsg, like strata
// bench's viewers), so the sender also pays for queueing and waking a reader, as the server
// does in the fan-out benchmark. CPU figures are the sending thread's (RUSAGE_THREAD).
//
// Usage: strata_fanout_limit --viewers N [--packet-size 1200] [--seconds 5] [--batch 32]
//                            [--dest-base-port 30000] [--no-send | --no-protect] [--drain]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <atomic>
#include <thread>
#include <sys/epoll.h>

#include "common/bytes.hpp"
#include "common/random.hpp"
#include "common/srtp_keys.hpp"
#include "srtp/srtp_session.hpp"

namespace {

using strata::Bytes;
using strata::SrtpProfile;
using strata::srtp::SrtpSession;
using strata::srtp::Status;

constexpr SrtpProfile kProfile = SrtpProfile::kAeadAes128Gcm;
constexpr size_t kGcmTag = 16;  // RFC 7714 §14.2: AEAD_AES_128_GCM appends a 16-byte tag
constexpr size_t kSlotCapacity = 2048;

struct Options {
  size_t viewers = 100;
  size_t packet_size = 1200;  // RTP packet before protection; the wire size adds the tag
  double seconds = 5.0;
  size_t batch = 32;
  uint16_t dest_base_port = 30000;
  bool send = true;
  bool protect = true;
  // Receivers that are read (by a thread on CPU 1, like real viewers on loopback), instead of
  // dropping at enqueue: on loopback the wake-up of a reading receiver is charged to the sender.
  bool drain = false;
};

void usage() {
  std::fprintf(stderr,
               "usage: strata_fanout_limit --viewers N [--packet-size 1200] [--seconds 5]\n"
               "       [--batch 32] [--dest-base-port 30000] [--no-send | --no-protect] [--drain]\n");
}

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](double& out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      out = std::strtod(argv[++i], &end);
      return end && *end == '\0';
    };
    double v = 0;
    if (a == "--no-send") {
      o.send = false;
    } else if (a == "--drain") {
      o.drain = true;
    } else if (a == "--no-protect") {
      o.protect = false;
    } else if (a == "--viewers" && value(v) && v >= 1) {
      o.viewers = size_t(v);
    } else if (a == "--packet-size" && value(v) && v >= 12 && v + kGcmTag <= kSlotCapacity) {
      o.packet_size = size_t(v);
    } else if (a == "--seconds" && value(v) && v > 0) {
      o.seconds = v;
    } else if (a == "--batch" && value(v) && v >= 1 && v <= 1024) {
      o.batch = size_t(v);
    } else if (a == "--dest-base-port" && value(v) && v >= 1 && v <= 65535) {
      o.dest_base_port = uint16_t(v);
    } else {
      return false;
    }
  }
  return o.send || o.protect;
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double cpu_s(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6; }

struct CpuTimes {
  double user = 0, sys = 0;
};
CpuTimes cpu_now() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);  // the sending thread only (not --drain's reader)
  return {cpu_s(ru.ru_utime), cpu_s(ru.ru_stime)};
}

// Udp RcvbufErrors from /proc/net/snmp (RFC 4113 counters as Linux exports them): how many
// datagrams the kernel delivered to a full socket and dropped. -1 if unavailable.
long long udp_rcvbuf_errors() {
  std::ifstream in("/proc/net/snmp");
  std::string names, values, line;
  while (std::getline(in, line)) {
    if (line.rfind("Udp:", 0) != 0) continue;
    if (names.empty()) {
      names = line;
    } else {
      values = line;
      break;
    }
  }
  std::istringstream n(names), v(values);
  std::string name, val;
  while (n >> name && v >> val) {
    if (name == "RcvbufErrors") return std::atoll(val.c_str());
  }
  return -1;
}

bool pin_to_cpu0() {
#ifdef CPU_SET
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
#else
  return false;
#endif
}

// --- Receivers: bound, never read.

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Binds base+i, falling back to an ephemeral port when that one is taken; returns the
// address actually bound (read back with getsockname).
bool open_receiver(uint16_t want_port, bool drain, int& fd, sockaddr_in& bound) {
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (drain ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return false;
  // Not read: the kernel rounds 1 up to its minimum (~2.3 KB), at most one datagram.
  int rcvbuf = drain ? (1 << 20) : 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in a = loopback(want_port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    a = loopback(0);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return false;
  }
  socklen_t len = sizeof(bound);
  return getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) == 0;
}

// --drain: one thread on CPU 1 reads every receiver (epoll + recvmmsg), as strata bench does.
struct Drainer {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> received{0};
  std::thread thread;

  void start(const std::vector<int>& fds) {
    thread = std::thread([this, fds] {
#ifdef CPU_SET
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(1, &set);
      sched_setaffinity(0, sizeof(set), &set);
#endif
      int ep = epoll_create1(EPOLL_CLOEXEC);
      for (int fd : fds) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      }
      constexpr int kBatch = 32;
      std::vector<uint8_t> bufs(kBatch * kSlotCapacity);
      std::vector<iovec> iov(kBatch);
      std::vector<mmsghdr> msgs(kBatch);
      for (int i = 0; i < kBatch; ++i) {
        iov[size_t(i)] = {&bufs[size_t(i) * kSlotCapacity], kSlotCapacity};
        msgs[size_t(i)].msg_hdr.msg_iov = &iov[size_t(i)];
        msgs[size_t(i)].msg_hdr.msg_iovlen = 1;
      }
      epoll_event events[64];
      while (!stop.load(std::memory_order_relaxed)) {
        int n = epoll_wait(ep, events, 64, 10);
        for (int i = 0; i < n; ++i) {
          int r;
          while ((r = recvmmsg(events[i].data.fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr)) > 0)
            received.fetch_add(uint64_t(r), std::memory_order_relaxed);
        }
      }
      close(ep);
    });
  }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

// --- Viewers and the send batch.

struct Viewer {
  std::unique_ptr<SrtpSession> srtp;
  uint32_t ssrc = 0;
  sockaddr_in dest{};
};

Bytes random_bytes(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; i += 4) {
    uint32_t r = strata::random_u32();
    std::memcpy(&b[i], &r, std::min<size_t>(4, n - i));
  }
  return b;
}

struct Batch {
  explicit Batch(size_t n) : slots(n * kSlotCapacity), iov(n), msgs(n) {
    for (size_t i = 0; i < n; ++i) {
      iov[i].iov_base = &slots[i * kSlotCapacity];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
  }
  uint8_t* slot(size_t i) { return &slots[i * kSlotCapacity]; }
  size_t batch_size() const { return iov.size(); }
  Bytes slots;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  size_t used = 0;
};

struct Counters {
  uint64_t packets = 0;         // packets produced (protected and/or queued)
  uint64_t sent = 0;            // packets the kernel accepted
  uint64_t send_errors = 0;     // packets dropped because sendmmsg failed
  uint64_t protect_errors = 0;
  uint64_t sendmmsg_calls = 0;
  double sendmmsg_s = 0;        // wall time inside sendmmsg (includes loopback softirq)
};

void flush(int fd, Batch& b, Counters& c) {
  size_t done = 0;
  double t0 = now_s();
  while (done < b.used) {
    int r = sendmmsg(fd, &b.msgs[done], unsigned(b.used - done), 0);
    ++c.sendmmsg_calls;
    if (r > 0) {
      done += size_t(r);
      c.sent += uint64_t(r);
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else {
      ++c.send_errors;  // skip the message that failed (sendmmsg reports it on this call)
      ++done;
    }
  }
  c.sendmmsg_s += now_s() - t0;
  b.used = 0;
}

// One viewer's copy of the source packet: the per-viewer work an SFU cannot skip.
inline void make_viewer_packet(const Options& o, const Bytes& source, uint16_t seq,
                               Viewer& v, uint8_t* slot, size_t& wire_len, Counters& c) {
  std::memcpy(slot, source.data(), o.packet_size);
  strata::store_be16(slot + 2, seq);
  strata::store_be32(slot + 8, v.ssrc);
  wire_len = o.packet_size + kGcmTag;  // --no-protect still sends the protected size
  if (o.protect && v.srtp->protect_rtp(slot, o.packet_size, kSlotCapacity, &wire_len) != Status::kOk) {
    ++c.protect_errors;
  }
}

// Runs source packets until `seconds` pass; every viewer gets every source packet.
Counters run(const Options& o, double seconds, bool do_send, bool do_protect,
             std::vector<Viewer>& viewers, const Bytes& source, int send_fd, Batch& b,
             uint16_t& seq) {
  Options eff = o;
  eff.protect = do_protect;
  Counters c;
  double deadline = now_s() + seconds;
  while (now_s() < deadline) {
    ++seq;
    for (Viewer& v : viewers) {
      size_t wire_len = 0;
      uint8_t* slot = b.slot(b.used);
      make_viewer_packet(eff, source, seq, v, slot, wire_len, c);
      ++c.packets;
      if (!do_send) continue;  // slot 0 is reused; nothing queued
      b.iov[b.used].iov_len = wire_len;
      b.msgs[b.used].msg_hdr.msg_name = &v.dest;
      if (++b.used == b.batch_size()) flush(send_fd, b, c);
    }
  }
  if (do_send && b.used > 0) flush(send_fd, b, c);
  return c;
}

}  // namespace

namespace {

void print_results(const Options& o, const char* mode, bool pinned, double wall_s,
                   double protect_ns, const Counters& c, const CpuTimes& cpu,
                   long long rcvbuf_drops, size_t receivers_on_base) {
  double pps = double(c.packets) / wall_s;
  double send_ns = c.sent ? c.sendmmsg_s * 1e9 / double(c.sent) : 0.0;
  double cpu_total = cpu.user + cpu.sys;
  // packets per CPU-second of this process: the per-core figure, robust to other load
  // sharing the core (which lowers packets_per_s and cpu_to_wall together).
  double ppc = cpu_total > 0 ? double(c.packets) / cpu_total : 0.0;
  size_t wire = o.packet_size + kGcmTag;
  std::printf(
      "{\"bench\":\"fanout_limit\",\"mode\":\"%s\",\"viewers\":%zu,\"packet_size\":%zu,"
      "\"wire_size\":%zu,\"batch\":%zu,\"seconds\":%.3f,\"pinned_cpu0\":%s,"
      "\"packets\":%llu,\"packets_per_s\":%.0f,\"source_packets_per_s\":%.1f,"
      "\"wire_gbit_per_s\":%.3f,\"loop_ns_per_packet\":%.1f,"
      "\"protect_ns_per_packet\":%.1f,\"sendmmsg_ns_per_packet\":%.1f,"
      "\"sendmmsg_calls\":%llu,\"sent\":%llu,\"send_errors\":%llu,"
      "\"protect_errors\":%llu,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
      "\"cpu_to_wall\":%.3f,\"packets_per_cpu_s\":%.0f,\"udp_rcvbuf_drops\":%lld,\"receivers_on_base_ports\":%zu}\n",
      mode, o.viewers, o.packet_size, wire, o.batch, wall_s, pinned ? "true" : "false",
      (unsigned long long)c.packets, pps, pps / double(o.viewers),
      pps * double(wire) * 8 / 1e9, wall_s * 1e9 / double(c.packets), protect_ns, send_ns,
      (unsigned long long)c.sendmmsg_calls, (unsigned long long)c.sent,
      (unsigned long long)c.send_errors, (unsigned long long)c.protect_errors, cpu.user,
      cpu.sys, cpu_total / wall_s, ppc, rcvbuf_drops, receivers_on_base);
  std::printf(
      "fanout_limit %s: %zu viewers x %zu B (+%zu tag), batch %zu: %.0f packets/s "
      "(%.1f source pkt/s, %.2f Gbit/s) | protect %.0f ns/pkt, sendmmsg %.0f ns/pkt, "
      "loop %.0f ns/pkt | CPU %.2fs user + %.2fs sys over %.2fs wall = %.2f%s | "
      "%.0f packets per CPU-second\n",
      mode, o.viewers, o.packet_size, kGcmTag, o.batch, pps, pps / double(o.viewers),
      pps * double(wire) * 8 / 1e9, protect_ns, send_ns, wall_s * 1e9 / double(c.packets),
      cpu.user, cpu.sys, wall_s, cpu_total / wall_s, pinned ? " (pinned to CPU 0)" : "", ppc);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) {
    usage();
    return 2;
  }
  bool pinned = pin_to_cpu0();

  std::vector<Viewer> viewers(o.viewers);
  std::vector<int> receiver_fds(o.viewers, -1);
  size_t on_base = 0;
  for (size_t i = 0; i < o.viewers; ++i) {
    Viewer& v = viewers[i];
    v.srtp = SrtpSession::create(kProfile, random_bytes(strata::srtp_key_length(kProfile)),
                                 random_bytes(strata::srtp_salt_length(kProfile)));
    v.ssrc = strata::random_u32();
    if (!v.srtp) {
      std::fprintf(stderr, "SrtpSession::create failed\n");
      return 1;
    }
    if (!o.send) continue;
    uint32_t want = uint32_t(o.dest_base_port) + uint32_t(i);
    if (!open_receiver(want <= 65535 ? uint16_t(want) : 0, o.drain, receiver_fds[i], v.dest)) {
      std::fprintf(stderr, "receiver socket %zu: %s (raise ulimit -n?)\n", i, std::strerror(errno));
      return 1;
    }
    if (ntohs(v.dest.sin_port) == want) ++on_base;
  }

  int send_fd = -1;
  if (o.send) {
    send_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in any = loopback(0);
    int sndbuf = 4 << 20;
    setsockopt(send_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if (send_fd < 0 || bind(send_fd, reinterpret_cast<sockaddr*>(&any), sizeof(any)) != 0) {
      std::fprintf(stderr, "sender socket: %s\n", std::strerror(errno));
      return 1;
    }
  }

  Bytes source(o.packet_size, 0);
  Bytes payload = random_bytes(o.packet_size);
  std::memcpy(source.data(), payload.data(), o.packet_size);
  source[0] = 0x80;  // V=2, no padding/extension/CSRC: 12-byte header (RFC 3550 §5.1)
  source[1] = 96;    // dynamic payload type, marker clear
  Batch batch(o.batch);
  uint16_t seq = 0;

  // Warm-up (first protect per SSRC allocates its stream state), then the protect-only
  // calibration phase: copy + header rewrite + protect, no syscalls.
  run(o, 0.2, false, o.protect, viewers, source, send_fd, batch, seq);
  double protect_ns = 0;
  if (o.protect) {
    double calib = std::min(1.0, o.seconds / 5);
    double t0 = now_s();
    Counters pc = run(o, calib, false, true, viewers, source, send_fd, batch, seq);
    protect_ns = (now_s() - t0) * 1e9 / double(pc.packets);
  }

  Drainer drainer;
  if (o.send && o.drain) drainer.start(receiver_fds);
  const char* mode = !o.send ? "protect-only"
                     : !o.protect ? (o.drain ? "send-only+drain" : "send-only")
                                  : (o.drain ? "protect+send+drain" : "protect+send");
  long long drops0 = udp_rcvbuf_errors();
  CpuTimes cpu0 = cpu_now();
  double t0 = now_s();
  Counters c = run(o, o.seconds, o.send, o.protect, viewers, source, send_fd, batch, seq);
  double wall = now_s() - t0;
  CpuTimes cpu1 = cpu_now();
  long long drops1 = udp_rcvbuf_errors();
  long long drops = (drops0 >= 0 && drops1 >= 0) ? drops1 - drops0 : -1;
  drainer.finish();
  if (o.drain) std::fprintf(stderr, "fanout_limit: the reader received %llu packets\n",
                            (unsigned long long)drainer.received.load());

  print_results(o, mode, pinned, wall, protect_ns, c, {cpu1.user - cpu0.user, cpu1.sys - cpu0.sys},
                drops, on_base);
  for (int fd : receiver_fds) {
    if (fd >= 0) close(fd);
  }
  if (send_fd >= 0) close(send_fd);
  return c.protect_errors == 0 ? 0 : 1;
}
