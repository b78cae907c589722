#include "worker/udp_socket.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace strata::worker {
namespace {

SocketAddress loopback(uint16_t port) { return *SocketAddress::from_ip_port("127.0.0.1", port); }

std::unique_ptr<UdpSocket> open_loopback() {
  auto s = std::make_unique<UdpSocket>();
  std::string error;
  EXPECT_TRUE(s->open(loopback(0), &error)) << error;
  return s;
}

// Datagram i: a deterministic size in [1, 1400] and content derived from i.
size_t datagram_size(int i) { return size_t(1 + (i * 137) % 1400); }
uint8_t datagram_byte(int i, size_t k) { return uint8_t(i * 31 + k * 7); }
std::vector<uint8_t> datagram(int i) {
  std::vector<uint8_t> d(datagram_size(i));
  for (size_t k = 0; k < d.size(); ++k) d[k] = datagram_byte(i, k);
  d[0] = uint8_t(i);  // index, to check order and identity
  return d;
}

struct Received {
  std::vector<std::vector<uint8_t>> data;
  std::vector<SocketAddress> from;
};

// Polls receive_batch until `want` datagrams arrived or 2 s passed.
Received receive_all(UdpSocket& socket, BufferPool& pool, size_t want) {
  Received r;
  std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
  std::array<SocketAddress, UdpSocket::kRecvBatch> from;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (r.data.size() < want && std::chrono::steady_clock::now() < deadline) {
    int n = socket.receive_batch(pool, bufs, from);
    EXPECT_LE(n, UdpSocket::kRecvBatch);
    for (int i = 0; i < n; ++i) {
      r.data.emplace_back(bufs[size_t(i)].data(), bufs[size_t(i)].data() + bufs[size_t(i)].size());
      r.from.push_back(from[size_t(i)]);
    }
    if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return r;
}

TEST(UdpSocket, OpensOnEphemeralLoopbackPort) {
  auto s = open_loopback();
  EXPECT_GE(s->fd(), 0);
  EXPECT_NE(s->local_port(), 0);
}

TEST(UdpSocket, BindingAPortInUseFailsWithMessage) {
  auto first = open_loopback();
  UdpSocket second;
  std::string error;
  EXPECT_FALSE(second.open(loopback(first->local_port()), &error));
  EXPECT_NE(error.find("bind"), std::string::npos) << error;
  EXPECT_EQ(second.fd(), -1);
}

TEST(UdpSocket, ReceiveWithNothingWaitingReturnsZero) {
  auto s = open_loopback();
  BufferPool pool(64);
  std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
  std::array<SocketAddress, UdpSocket::kRecvBatch> from;
  EXPECT_EQ(s->receive_batch(pool, bufs, from), 0);
}

TEST(UdpSocket, BatchOf100ArrivesWithSizesContentsAndSource) {
  auto sender_socket = open_loopback();
  auto receiver = open_loopback();
  auto batch = std::make_unique<SendBatch>(sender_socket->fd());
  const SocketAddress to = loopback(receiver->local_port());
  constexpr int kCount = 100;
  uint64_t total_bytes = 0;
  for (int i = 0; i < kCount; ++i) {
    auto d = datagram(i);
    total_bytes += d.size();
    batch->send(d.data(), d.size(), to);
  }
  // 64 slots: the 65th send flushed the first 64.
  EXPECT_EQ(batch->packets_sent(), uint64_t(SendBatch::kSlots));
  batch->flush();
  EXPECT_EQ(batch->packets_sent(), uint64_t(kCount));
  EXPECT_EQ(batch->bytes_sent(), total_bytes);
  EXPECT_EQ(batch->send_errors(), 0u);

  BufferPool pool(256);
  Received r = receive_all(*receiver, pool, kCount);
  ASSERT_EQ(r.data.size(), size_t(kCount));
  const SocketAddress expected_from = loopback(sender_socket->local_port());
  for (int i = 0; i < kCount; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r.data[size_t(i)], datagram(i));  // loopback keeps order
    EXPECT_EQ(r.from[size_t(i)], expected_from) << r.from[size_t(i)].to_string();
  }
}

TEST(SendBatch, SlotDataAndCommitSendsInPlace) {
  auto sender_socket = open_loopback();
  auto receiver = open_loopback();
  auto batch = std::make_unique<SendBatch>(sender_socket->fd());
  const SocketAddress to = loopback(receiver->local_port());
  // Fill more than a batch through slot_data()/commit(): slot_data() flushes when full.
  constexpr int kCount = SendBatch::kSlots * 2 + 5;
  for (int i = 0; i < kCount; ++i) {
    uint8_t* slot = batch->slot_data();
    auto d = datagram(i);
    std::copy(d.begin(), d.end(), slot);
    batch->commit(d.size(), to);
    const uint64_t flushed = uint64_t(i / SendBatch::kSlots) * SendBatch::kSlots;
    EXPECT_EQ(batch->packets_sent(), flushed) << i;
  }
  batch->flush();
  EXPECT_EQ(batch->packets_sent(), uint64_t(kCount));
  batch->flush();  // an empty flush sends nothing
  EXPECT_EQ(batch->packets_sent(), uint64_t(kCount));
  BufferPool pool(256);
  Received r = receive_all(*receiver, pool, kCount);
  ASSERT_EQ(r.data.size(), size_t(kCount));
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(r.data[size_t(i)], datagram(i)) << i;
}

// An oversized datagram is not sent, and is counted as a send error (not lost silently).
TEST(SendBatch, OversizedSendIsDroppedAndCounted) {
  auto sender_socket = open_loopback();
  auto batch = std::make_unique<SendBatch>(sender_socket->fd());
  std::vector<uint8_t> big(SendBatch::kSlotSize + 1, 0xAB);
  batch->send(big.data(), big.size(), loopback(9));
  batch->flush();
  EXPECT_EQ(batch->packets_sent(), 0u);
  EXPECT_EQ(batch->send_errors(), 1u);
}

TEST(SendBatch, UnsendableDestinationCountsAnErrorAndContinues) {
  auto sender_socket = open_loopback();
  auto receiver = open_loopback();
  auto batch = std::make_unique<SendBatch>(sender_socket->fd());
  auto good = datagram(1);
  // An IPv6 destination on an IPv4 socket fails for that datagram only.
  batch->send(good.data(), good.size(), *SocketAddress::from_ip_port("::1", 9));
  batch->send(good.data(), good.size(), loopback(receiver->local_port()));
  batch->flush();
  EXPECT_EQ(batch->send_errors(), 1u);
  EXPECT_EQ(batch->packets_sent(), 1u);
  BufferPool pool(64);
  Received r = receive_all(*receiver, pool, 1);
  ASSERT_EQ(r.data.size(), 1u);
  EXPECT_EQ(r.data[0], good);
}

// receive_batch reuses its buffers, but never one a caller still holds a reference to
// (a session keeping the packet for fan-out or retransmission).
TEST(UdpSocket, ReceiveDoesNotOverwriteBuffersStillReferenced) {
  auto sender_socket = open_loopback();
  auto receiver = open_loopback();
  const SocketAddress to = loopback(receiver->local_port());
  BufferPool pool(256);
  std::array<PacketRef, UdpSocket::kRecvBatch> bufs;
  std::array<SocketAddress, UdpSocket::kRecvBatch> from;
  auto batch = std::make_unique<SendBatch>(sender_socket->fd());

  auto first = datagram(1);
  batch->send(first.data(), first.size(), to);
  batch->flush();
  int n = 0;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       n == 0 && std::chrono::steady_clock::now() < deadline;) {
    n = receiver->receive_batch(pool, bufs, from);
  }
  ASSERT_EQ(n, 1);
  PacketRef kept = bufs[0];  // the session keeps it

  auto second = datagram(2);
  batch->send(second.data(), second.size(), to);
  batch->flush();
  n = 0;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
       n == 0 && std::chrono::steady_clock::now() < deadline;) {
    n = receiver->receive_batch(pool, bufs, from);
  }
  ASSERT_EQ(n, 1);
  EXPECT_NE(bufs[0].get(), kept.get());
  EXPECT_EQ(std::vector<uint8_t>(kept.data(), kept.data() + kept.size()), first);
  EXPECT_EQ(std::vector<uint8_t>(bufs[0].data(), bufs[0].data() + bufs[0].size()), second);
}

// Buffer sizes are tuning: open() asks for kBufferBytes and reports what the kernel gave,
// read back with getsockopt (Linux caps at net.core.rmem_max/wmem_max and doubles).
TEST(UdpSocket, ReportsTheBufferSizesTheKernelGranted) {
  auto s = open_loopback();
  const SocketBuffers& b = s->buffers();
  EXPECT_EQ(b.requested, UdpSocket::kBufferBytes);
  int rcv = 0, snd = 0;
  socklen_t len = sizeof rcv;
  ASSERT_EQ(::getsockopt(s->fd(), SOL_SOCKET, SO_RCVBUF, &rcv, &len), 0);
  len = sizeof snd;
  ASSERT_EQ(::getsockopt(s->fd(), SOL_SOCKET, SO_SNDBUF, &snd, &len), 0);
  EXPECT_EQ(b.receive, rcv);
  EXPECT_EQ(b.send, snd);
  // Granted in full exactly when nothing is reported.
  EXPECT_EQ(b.warning.empty(), rcv >= b.requested && snd >= b.requested) << b.warning;
}

// More than any default net.core.rmem_max: capped by the kernel, and the cap is reported
// with what was granted and which sysctl to raise; the socket still works.
TEST(UdpSocket, CappedBufferSizesAreReported) {
  const int huge = 1 << 30;
  long rmem_max = 0;
  if (FILE* f = std::fopen("/proc/sys/net/core/rmem_max", "r")) {
    if (std::fscanf(f, "%ld", &rmem_max) != 1) rmem_max = 0;
    std::fclose(f);
  }
  if (rmem_max * 2 >= huge) GTEST_SKIP() << "net.core.rmem_max " << rmem_max << " grants 1 GiB";
  auto s = open_loopback();
  SocketBuffers b = tune_socket_buffers(s->fd(), huge);
  EXPECT_EQ(b.requested, huge);
  EXPECT_GT(b.receive, 0);
  EXPECT_LT(b.receive, huge);
  EXPECT_GT(b.send, 0);
  EXPECT_NE(b.warning.find("SO_RCVBUF is " + std::to_string(b.receive)), std::string::npos) << b.warning;
  EXPECT_NE(b.warning.find("net.core.rmem_max"), std::string::npos) << b.warning;
  EXPECT_NE(b.warning.find("net.core.wmem_max"), std::string::npos) << b.warning;
  auto receiver = open_loopback();
  SendBatch batch(s->fd());
  auto d = datagram(3);
  batch.send(d.data(), d.size(), loopback(receiver->local_port()));
  batch.flush();
  BufferPool pool(64);
  EXPECT_EQ(receive_all(*receiver, pool, 1).data.size(), 1u);
}

// A failing setsockopt is reported with errno's text, never thrown or hidden.
TEST(UdpSocket, FailingBufferTuningIsReportedNotFatal) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  SocketBuffers b = tune_socket_buffers(pipe_fds[0], UdpSocket::kBufferBytes);  // not a socket
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  EXPECT_EQ(b.receive, 0);
  EXPECT_EQ(b.send, 0);
  const std::string not_socket = std::strerror(ENOTSOCK);
  EXPECT_NE(b.warning.find("setsockopt(SO_RCVBUF): " + not_socket), std::string::npos) << b.warning;
  EXPECT_NE(b.warning.find("setsockopt(SO_SNDBUF): " + not_socket), std::string::npos) << b.warning;
}

}  // namespace
}  // namespace strata::worker
