// Several advertised addresses on one wildcard socket (`strata dev` without --public-ip): each
// datagram's destination is reported, and replies leave from the address the peer sent to. Uses
// 127.0.0.1 and 127.0.0.2, two addresses of one host (Linux routes all of 127/8 to lo), the way
// a browser on the machine reaches `strata dev` at 127.0.0.1 and at an interface address.
#include "worker/udp_socket.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace strata::worker {
namespace {

SocketAddress ip(const char* text, uint16_t port = 0) { return *SocketAddress::from_ip_port(text, port); }

std::unique_ptr<UdpSocket> open(const SocketAddress& bind, bool report_destination) {
  auto s = std::make_unique<UdpSocket>();
  std::string error;
  EXPECT_TRUE(s->open(bind, &error, report_destination)) << error;
  return s;
}

struct Datagram {
  std::string data;
  SocketAddress from, local;
};

// Waits up to 2 s for one datagram.
Datagram receive_one(UdpSocket& s) {
  BufferPool pool(64);
  std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
  std::array<SocketAddress, UdpSocket::kRecvBatch> from, local;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (s.receive_batch(pool, bufs, from, &local) > 0)
      return {std::string(reinterpret_cast<const char*>(bufs[0].data()), bufs[0].size()), from[0], local[0]};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ADD_FAILURE() << "no datagram within 2 s";
  return {};
}

void send(int fd, const std::string& text, const SocketAddress& to, const SocketAddress& from = {}) {
  SendBatch batch(fd);
  batch.send(reinterpret_cast<const uint8_t*>(text.data()), text.size(), to, from);
  batch.flush();
  EXPECT_EQ(batch.send_errors(), 0u);
}

// The server's reply to a check the client sent to `server_ip`: from where does it arrive?
void check_round_trip(const char* wildcard, const char* client_ip, const char* server_ip) {
  SCOPED_TRACE(std::string(wildcard) + ": " + client_ip + " -> " + server_ip);
  auto server = open(ip(wildcard), /*report_destination=*/true);
  ASSERT_TRUE(server->reports_destination());
  auto client = open(ip(client_ip), false);
  const SocketAddress checked = ip(server_ip, server->local_port());

  send(client->fd(), "check", checked);
  Datagram got = receive_one(*server);
  EXPECT_EQ(got.data, "check");
  EXPECT_EQ(got.from, ip(client_ip, client->local_port())) << "an IPv4 peer is never reported v4-mapped";
  EXPECT_EQ(got.local, checked);

  send(server->fd(), "answer", got.from, got.local);
  Datagram reply = receive_one(*client);
  EXPECT_EQ(reply.data, "answer");
  EXPECT_EQ(reply.from, checked) << "the reply leaves from the address the client checked";
}

TEST(UdpSocketPaths, Ipv4WildcardAnswersFromTheCheckedAddress) {
  check_round_trip("0.0.0.0", "127.0.0.1", "127.0.0.2");
  check_round_trip("0.0.0.0", "127.0.0.1", "127.0.0.1");
}

TEST(UdpSocketPaths, DualStackWildcardAnswersIpv4PeersFromTheCheckedAddress) {
  check_round_trip("::", "127.0.0.1", "127.0.0.2");
  check_round_trip("::", "127.0.0.2", "127.0.0.1");
}

TEST(UdpSocketPaths, DualStackWildcardAnswersIpv6Peers) {
  UdpSocket probe;
  std::string error;
  if (!probe.open(ip("::1"), &error)) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  check_round_trip("::", "::1", "::1");
}

// Why the source must be named: without it the kernel picks the routing table's source for
// the peer (127.0.0.1 here), not the address the peer sent to, and ICE discards the answer.
TEST(UdpSocketPaths, WithoutASourceTheRoutingTableChooses) {
  auto server = open(ip("0.0.0.0"), true);
  auto client = open(ip("127.0.0.1"), false);
  send(client->fd(), "check", ip("127.0.0.2", server->local_port()));
  Datagram got = receive_one(*server);
  send(server->fd(), "answer", got.from);
  EXPECT_EQ(receive_one(*client).from, ip("127.0.0.1", server->local_port()));
}

TEST(UdpSocketPaths, BoundOrUnaskedSocketsReportNoDestination) {
  for (auto [bind, report] : {std::pair{"127.0.0.1", true}, std::pair{"0.0.0.0", false}}) {
    SCOPED_TRACE(bind);
    auto server = open(ip(bind), report);
    EXPECT_FALSE(server->reports_destination());
    auto client = open(ip("127.0.0.1"), false);
    send(client->fd(), "x", ip("127.0.0.1", server->local_port()));
    Datagram got = receive_one(*server);
    EXPECT_EQ(got.data, "x");
    EXPECT_FALSE(got.local.valid());
  }
}

}  // namespace
}  // namespace strata::worker
