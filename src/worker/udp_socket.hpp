// A non-blocking UDP socket with batch I/O: recvmmsg straight into pool buffers and
// sendmmsg from a fixed array of send slots (no allocation per packet).
#pragma once
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "common/socket_address.hpp"
#include "common/packet_buffer.hpp"

namespace strata::worker {

class UdpSocket {
 public:
  static constexpr int kRecvBatch = 32;
  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  bool open(const SocketAddress& bind, std::string* error);
  int fd() const { return fd_; }
  uint16_t local_port() const { return local_port_; }

  // Receives up to kRecvBatch datagrams into buffers taken from `pool`. Returns the count
  // (0 when nothing is waiting). out[i].size() and from[i] are set.
  int receive_batch(BufferPool& pool, std::array<PacketRef, kRecvBatch>& out,
                    std::array<SocketAddress, kRecvBatch>& from);

 private:
  int fd_ = -1;
  uint16_t local_port_ = 0;
  std::array<mmsghdr, kRecvBatch> msgs_{};
  std::array<iovec, kRecvBatch> iovs_{};
  std::array<sockaddr_storage, kRecvBatch> addrs_{};
};

// Outgoing datagrams gathered during one loop iteration and sent with sendmmsg.
class SendBatch {
 public:
  static constexpr int kSlots = 64;
  static constexpr size_t kSlotSize = PacketBuffer::kCapacity;
  explicit SendBatch(int fd) : fd_(fd) {}

  // A slot to write one datagram into; flushes first when full. Call commit() when filled.
  uint8_t* slot_data() { if (count_ == kSlots) flush(); return slots_[count_].data; }
  void commit(size_t len, const SocketAddress& to);
  // Copies `data` into a slot and commits it.
  void send(const uint8_t* data, size_t len, const SocketAddress& to);
  void flush();

  uint64_t packets_sent() const { return packets_sent_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t send_errors() const { return send_errors_; }

 private:
  struct Slot {
    alignas(16) uint8_t data[kSlotSize];
    size_t len;
    SocketAddress to;
  };
  int fd_;
  int count_ = 0;
  std::array<Slot, kSlots> slots_{};
  std::array<mmsghdr, kSlots> msgs_{};
  std::array<iovec, kSlots> iovs_{};
  uint64_t packets_sent_ = 0, bytes_sent_ = 0, send_errors_ = 0;
};

}  // namespace strata::worker
