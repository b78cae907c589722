// A non-blocking UDP socket with batch I/O: recvmmsg straight into pool buffers and
// sendmmsg from a fixed array of send slots (no allocation per packet).
//
// Several advertised addresses on one socket (`strata dev` without --public-ip): the socket
// binds the wildcard address and reports each datagram's destination address (IP_PKTINFO,
// RFC 3542 IPV6_PKTINFO), and a send can name its source address the same way. A wildcard
// socket otherwise sends from whatever address the routing table picks for the peer, which
// need not be the candidate the peer checked: ICE then sees an answer from an address it
// did not check and drops the pair (RFC 8445 §7.2.5.2.1). An IPv6 wildcard socket is
// dual-stack; IPv4 peers are reported as plain IPv4 addresses (never ::ffff:a.b.c.d) and
// mapped back on send, so the rest of the server sees one address per peer either way.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "common/socket_address.hpp"
#include "common/packet_buffer.hpp"

namespace strata::worker {

// What the kernel really gave a socket's buffers (it caps SO_RCVBUF / SO_SNDBUF at
// net.core.rmem_max / wmem_max); `warning` is empty when it gave what was asked.
struct SocketBuffers {
  int requested = 0;
  int receive = 0;
  int send = 0;
  std::string warning;
};
// Asks for `bytes` in both directions and reads back what the kernel uses.
SocketBuffers tune_socket_buffers(int fd, int bytes);

class UdpSocket {
 public:
  static constexpr int kRecvBatch = 32;
  // Large kernel buffers absorb bursts (keyframes fanned out to many viewers).
  static constexpr int kBufferBytes = 8 * 1024 * 1024;
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // `report_destination`: with a wildcard `bind`, report each datagram's destination
  // address (receive_batch's `local`), and for "::" accept IPv4 too (dual-stack).
  bool open(const SocketAddress& bind, std::string* error, bool report_destination = false);
  void close();
  int fd() const { return fd_; }
  const SocketBuffers& buffers() const { return buffers_; }
  uint16_t local_port() const { return local_port_; }
  bool reports_destination() const { return pktinfo_; }

  // Receives up to kRecvBatch datagrams into buffers taken from `pool`. Returns the count
  // (0 when nothing is waiting). out[i].size() and from[i] are set, and local[i] (when
  // given) to the address the datagram was sent to, or an empty address when the socket
  // does not report it.
  int receive_batch(BufferPool& pool, std::array<PacketRef, kRecvBatch>& out,
                    std::array<SocketAddress, kRecvBatch>& from,
                    std::array<SocketAddress, kRecvBatch>* local = nullptr);

 private:
  int fd_ = -1;
  uint16_t local_port_ = 0;
  SocketBuffers buffers_;
  bool v6_ = false;
  bool pktinfo_ = false;
  std::array<mmsghdr, kRecvBatch> msgs_{};
  std::array<iovec, kRecvBatch> iovs_{};
  std::array<sockaddr_storage, kRecvBatch> addrs_{};
  struct Control {
    alignas(cmsghdr) uint8_t data[CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo))];
  };
  std::array<Control, kRecvBatch> control_{};
};

// Outgoing datagrams gathered during one loop iteration and sent with sendmmsg.
class SendBatch {
 public:
  static constexpr int kSlots = 64;
  static constexpr size_t kSlotSize = PacketBuffer::kCapacity;
  explicit SendBatch(int fd);

  // A slot to write one datagram into; flushes first when full. Call commit() when filled.
  uint8_t* slot_data() { if (count_ == kSlots) flush(); return slots_[count_].data; }
  // `from`: the local address to send from (IP_PKTINFO / IPV6_PKTINFO); empty = the
  // socket's own. Only a wildcard-bound socket can choose among its host's addresses.
  void commit(size_t len, const SocketAddress& to, const SocketAddress& from = {});
  // Copies `data` into a slot and commits it.
  void send(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress& from = {});
  void flush();

  uint64_t packets_sent() const { return packets_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t send_errors() const { return send_errors_; }

 private:
  struct Slot {
    alignas(16) uint8_t data[kSlotSize];
    size_t len;
    SocketAddress to;
    SocketAddress from;
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo))];
  };
  int fd_;
  bool v6_ = false;  // an IPv6 (dual-stack) socket: IPv4 peers are addressed as ::ffff:a.b.c.d
  int count_ = 0;
  std::array<Slot, kSlots> slots_{};
  std::array<mmsghdr, kSlots> msgs_{};
  std::array<iovec, kSlots> iovs_{};
  uint64_t packets_sent_ = 0, bytes_sent_ = 0, send_errors_ = 0;
};

}  // namespace strata::worker
