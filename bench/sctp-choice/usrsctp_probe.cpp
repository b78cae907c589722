// Probe for issue 15's SCTP choice: what Debian's usrsctp (0.9.5, the stack Janus uses for
// data channels) costs per association and per message when driven the way Strata would drive
// it: AF_CONN (we carry its packets over our DTLS), usrsctp_init_nothreads (no thread of its
// own, timers from our loop). Both ends live in this one process and one usrsctp instance;
// packets go through a queue (never re-entering usrsctp from its own output callback).
//
//   bench/sctp-choice/run.sh            (builds this file, runs it 5 times)
//   usrsctp_probe [pairs=400] [messages=200000] [size=100] [threads=2]
//   usrsctp_probe dump                  (one association's packets, as test fixtures)
//
// Prints: RSS per idle association (each pair is two associations), CPU per delivered
// message on one association and fanned out over every pair (both ends: DATA, SACK and the
// callbacks), and the fan-out split over `threads` threads, each with its own pairs and
// queue, sharing the process's one usrsctp instance as Strata's workers would have to.
#include <usrsctp.h>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Packet {
  void* addr;
  std::vector<uint8_t> bytes;
};
thread_local std::deque<Packet> g_wire;
thread_local uint64_t g_received = 0;
thread_local uint64_t g_received_bytes = 0;
thread_local uint64_t g_packets = 0;
bool g_dump = false;

int conn_output(void* addr, void* buf, size_t len, uint8_t, uint8_t) {
  auto* p = static_cast<uint8_t*>(buf);
  if (g_dump) {
    // One line per packet: source port, then the packet in hex (a test fixture).
    std::printf("%u ", unsigned(p[0]) << 8 | p[1]);
    for (size_t k = 0; k < len; ++k) std::printf("%02x", p[k]);
    std::printf("\n");
  }
  g_wire.push_back({addr, std::vector<uint8_t>(p, p + len)});
  ++g_packets;
  return 0;
}

int on_receive(struct socket*, union sctp_sockstore, void* data, size_t len, struct sctp_rcvinfo, int flags, void*) {
  if (data) {
    if (!(flags & MSG_NOTIFICATION)) {
      ++g_received;
      g_received_bytes += len;
    }
    free(data);
  }
  return 1;
}

void pump() {
  while (!g_wire.empty()) {
    Packet p = std::move(g_wire.front());
    g_wire.pop_front();
    usrsctp_conninput(p.addr, p.bytes.data(), p.bytes.size(), 0);
  }
}

long rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

double cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

sockaddr_conn conn_addr(void* addr, uint16_t port) {
  sockaddr_conn a{};
  a.sconn_family = AF_CONN;
  a.sconn_port = htons(port);
  a.sconn_addr = addr;
  return a;
}

struct Pair {
  int id = 0;
  struct socket* listener = nullptr;
  struct socket* client = nullptr;
  struct socket* server = nullptr;
};

void set_nodelay(struct socket* s) {
  int one = 1;
  usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one);
}

bool open_pair(Pair& p) {
  void* addr = &p.id;
  usrsctp_register_address(addr);
  p.listener = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, on_receive, nullptr, 0, nullptr);
  p.client = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, on_receive, nullptr, 0, nullptr);
  if (!p.listener || !p.client) return false;
  usrsctp_set_non_blocking(p.listener, 1);
  usrsctp_set_non_blocking(p.client, 1);
  set_nodelay(p.client);
  sockaddr_conn server = conn_addr(addr, 5000), client = conn_addr(addr, 5001);
  if (usrsctp_bind(p.listener, reinterpret_cast<sockaddr*>(&server), sizeof server) < 0) return false;
  if (usrsctp_listen(p.listener, 1) < 0) return false;
  if (usrsctp_bind(p.client, reinterpret_cast<sockaddr*>(&client), sizeof client) < 0) return false;
  usrsctp_connect(p.client, reinterpret_cast<sockaddr*>(&server), sizeof server);  // EINPROGRESS
  pump();
  p.server = usrsctp_accept(p.listener, nullptr, nullptr);
  if (!p.server) return false;
  set_nodelay(p.server);
  return true;
}

bool send_message(struct socket* s, const std::vector<uint8_t>& m) {
  sctp_sndinfo info{};
  info.snd_sid = 0;
  info.snd_ppid = htonl(51);
  return usrsctp_sendv(s, m.data(), m.size(), nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0) >= 0;
}

}  // namespace

// `usrsctp_probe dump`: the packets of one association, as test fixtures: handshake, a
// 5-byte string on stream 1, a 3000-byte binary message (fragments), an unordered message,
// a reset of stream 1 (RE-CONFIG), then SHUTDOWN.
int dump() {
  g_dump = true;
  usrsctp_init_nothreads(0, conn_output, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  Pair p;
  p.id = 1;
  if (!open_pair(p)) return 1;
  struct sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  usrsctp_setsockopt(p.server, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset);
  usrsctp_setsockopt(p.client, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset, sizeof reset);
  auto send = [&](uint16_t sid, uint32_t ppid, const std::vector<uint8_t>& m, bool unordered) {
    sctp_sndinfo info{};
    info.snd_sid = sid;
    info.snd_ppid = htonl(ppid);
    info.snd_flags = unordered ? SCTP_UNORDERED : 0;
    usrsctp_sendv(p.server, m.data(), m.size(), nullptr, 0, &info, sizeof info, SCTP_SENDV_SNDINFO, 0);
    pump();
  };
  send(1, 51, {'h', 'e', 'l', 'l', 'o'}, false);
  std::vector<uint8_t> big(3000);
  for (size_t k = 0; k < big.size(); ++k) big[k] = uint8_t(k);
  send(1, 53, big, false);
  send(3, 51, {'u'}, true);
  usrsctp_handle_timers(500);
  pump();
  std::vector<uint8_t> srs(sizeof(sctp_reset_streams) + sizeof(uint16_t));
  auto* rs = reinterpret_cast<sctp_reset_streams*>(srs.data());
  rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  rs->srs_number_streams = 1;
  rs->srs_stream_list[0] = 1;
  usrsctp_setsockopt(p.server, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs, socklen_t(srs.size()));
  pump();
  usrsctp_handle_timers(500);
  pump();
  usrsctp_shutdown(p.server, SHUT_WR);
  pump();
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "dump") return dump();
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 400;
  const int messages = argc > 2 ? std::atoi(argv[2]) : 200000;
  const size_t size = argc > 3 ? size_t(std::atoi(argv[3])) : 100;

  usrsctp_init_nothreads(0, conn_output, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);

  // One warm-up pair so the stack's one-time allocations are not counted per association.
  std::vector<Pair> all(size_t(pairs) + 1);
  if (!open_pair(all[0])) return std::fprintf(stderr, "first pair failed\n"), 1;
  const long rss0 = rss_kb();
  for (int i = 1; i <= pairs; ++i) {
    all[size_t(i)].id = i;
    if (!open_pair(all[size_t(i)])) return std::fprintf(stderr, "pair %d failed\n", i), 1;
  }
  const long rss1 = rss_kb();
  std::printf("associations: %d (2 per pair), RSS %ld -> %ld kB: %.1f kB per association (idle)\n", 2 * pairs, rss0, rss1,
              double(rss1 - rss0) / (2.0 * pairs));

  // One message to every pair's server side, as a host's message fanned out to viewers.
  const std::vector<uint8_t> m(size, 'x');
  for (int i = 1; i <= pairs; ++i) send_message(all[size_t(i)].server, m);
  pump();
  const long rss2 = rss_kb();
  std::printf("after one message each: RSS %ld kB (+%.1f kB per association)\n", rss2, double(rss2 - rss1) / (2.0 * pairs));

  // Messages on one association: CPU per delivered message, both ends (DATA + SACK).
  g_received = 0;
  const uint64_t packets0 = g_packets;
  const double t0 = cpu_s();
  const auto w0 = std::chrono::steady_clock::now();
  for (int k = 0; k < messages; ++k) {
    if (!send_message(all[1].server, m)) pump();
    if ((k & 15) == 15) pump();
  }
  pump();
  usrsctp_handle_timers(200);  // delayed SACKs
  pump();
  const double cpu = cpu_s() - t0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  std::printf("one association: %llu of %d messages of %zu B delivered, %llu packets; %.2f us CPU per message (both ends), %.0f msg/s\n",
              (unsigned long long)g_received, messages, size, (unsigned long long)(g_packets - packets0), cpu * 1e6 / double(messages),
              double(messages) / wall);

  // Fan-out: every message to every pair, round-robin (a host's 1 message -> `pairs` viewers).
  const int rounds = messages / pairs > 0 ? messages / pairs : 1;
  g_received = 0;
  const double t1 = cpu_s();
  for (int r = 0; r < rounds; ++r) {
    for (int i = 1; i <= pairs; ++i) send_message(all[size_t(i)].server, m);
    pump();
    if ((r & 7) == 7) {
      usrsctp_handle_timers(10);
      pump();
    }
  }
  usrsctp_handle_timers(200);
  pump();
  const double cpu2 = cpu_s() - t1;
  std::printf("fan-out: %d rounds x %d associations, %llu delivered; %.2f us CPU per delivered message (both ends)\n", rounds, pairs,
              (unsigned long long)g_received, cpu2 * 1e6 / double(g_received ? g_received : 1));
  std::printf("RSS at the end: %ld kB\n", rss_kb());

  // Two threads, each with its own associations and its own queue (as two workers would be):
  // usrsctp is one instance per process, so they share its locks.
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2;
  const int half = pairs / threads;
  std::vector<std::thread> ts;
  std::vector<double> per(static_cast<size_t>(threads), 0.0);
  const auto w2 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      rusage u0{}, u1{};
      getrusage(RUSAGE_THREAD, &u0);
      uint64_t got0 = g_received;
      for (int r = 0; r < rounds; ++r) {
        for (int i = 1 + t * half; i <= (t + 1) * half; ++i) send_message(all[size_t(i)].server, m);
        pump();
      }
      getrusage(RUSAGE_THREAD, &u1);
      auto sec = [](const rusage& u) { return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6; };
      per[size_t(t)] = (sec(u1) - sec(u0)) * 1e6 / double((g_received - got0) ? (g_received - got0) : 1);
    });
  }
  for (auto& th : ts) th.join();
  const double wall2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - w2).count();
  std::printf("%d threads, %d associations each, %d rounds:", threads, half, rounds);
  for (double x : per) std::printf(" %.2f", x);
  std::printf(" us CPU per delivered message per thread; %.0f msg/s together\n", double(rounds) * half * threads / wall2);
  return 0;
}
