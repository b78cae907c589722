#include "worker/udp_socket.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata::worker {

namespace {

// One direction: set, then read back what the kernel really uses. Appends to *warning.
int tune_one(int fd, int option, const char* name, int bytes, std::string* warning) {
  auto note = [&](const std::string& what) {
    if (!warning->empty()) *warning += "; ";
    *warning += what;
  };
  if (::setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes) != 0)
    note(std::string("setsockopt(") + name + "): " + std::strerror(errno));
  int got = 0;
  socklen_t len = sizeof got;
  if (::getsockopt(fd, SOL_SOCKET, option, &got, &len) != 0) {
    note(std::string("getsockopt(") + name + "): " + std::strerror(errno));
    return 0;
  }
  if (got < bytes) {
    note(std::string(name) + " is " + std::to_string(got) + " bytes, asked for " + std::to_string(bytes) +
         " (raise net.core." + (option == SO_RCVBUF ? "rmem_max" : "wmem_max") + ")");
  }
  return got;
}

}  // namespace

SocketBuffers tune_socket_buffers(int fd, int bytes) {
  SocketBuffers b;
  b.requested = bytes;
  b.receive = tune_one(fd, SO_RCVBUF, "SO_RCVBUF", bytes, &b.warning);
  b.send = tune_one(fd, SO_SNDBUF, "SO_SNDBUF", bytes, &b.warning);
  return b;
}

UdpSocket::~UdpSocket() { close(); }

void UdpSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  local_port_ = 0;
}

bool UdpSocket::open(const SocketAddress& bind, std::string* error, bool report_destination) {
  v6_ = bind.is_v6();
  fd_ = ::socket(v6_ ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  buffers_ = tune_socket_buffers(fd_, kBufferBytes);
  // A socket bound to one address always knows its local address: only a wildcard one
  // needs the kernel to tell.
  pktinfo_ = report_destination && bind.is_unspecified();
  if (pktinfo_) {
    int on = 1, off = 0;
    bool ok = v6_ ? ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) == 0 &&
                        ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) == 0
                  : ::setsockopt(fd_, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) == 0;
    if (!ok) {
      *error = std::string("setsockopt (packet info): ") + std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
      return false;
    }
  }
  if (::bind(fd_, bind.sockaddr_ptr(), bind.sockaddr_len()) != 0) {
    *error = "bind " + bind.to_string() + ": " + std::strerror(errno);
    close();
    return false;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    *error = std::string("getsockname: ") + std::strerror(errno);
    close();
    return false;
  }
  local_port_ = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).port();
  return true;
}

// The destination address of a received datagram, from its IP_PKTINFO / IPV6_PKTINFO.
static SocketAddress destination(msghdr& h, uint16_t port) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      return SocketAddress::from_raw(reinterpret_cast<const uint8_t*>(&info.ipi_addr), 4, port);
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      return SocketAddress::from_raw(reinterpret_cast<const uint8_t*>(&info.ipi6_addr), 16, port).unmapped();
    }
  }
  return {};
}

int UdpSocket::receive_batch(BufferPool& pool, std::array<PacketRef, kRecvBatch>& out,
                             std::array<SocketAddress, kRecvBatch>& from,
                             std::array<SocketAddress, kRecvBatch>* local) {
  for (int i = 0; i < kRecvBatch; ++i) {
    if (!out[i] || !out[i].unique()) out[i] = pool.acquire();
    iovs_[i] = {out[i].data(), PacketBuffer::kCapacity - 64};  // room for SRTP trailer on re-send
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    if (pktinfo_) {
      msgs_[i].msg_hdr.msg_control = control_[i].data;
      msgs_[i].msg_hdr.msg_controllen = sizeof control_[i].data;
    }
  }
  int n = ::recvmmsg(fd_, msgs_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    // A datagram larger than a buffer (MSG_TRUNC) is no packet we accept: size 0 makes the
    // worker drop it as malformed instead of failing a later check on a cut copy.
    out[i]->size = (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs_[i].msg_len;
    from[i] = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&addrs_[i]), msgs_[i].msg_hdr.msg_namelen);
    if (v6_) from[i] = from[i].unmapped();
    if (local) (*local)[i] = pktinfo_ ? destination(msgs_[i].msg_hdr, local_port_) : SocketAddress{};
  }
  return n;
}

SendBatch::SendBatch(int fd) : fd_(fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  v6_ = ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && ss.ss_family == AF_INET6;
}

void SendBatch::commit(size_t len, const SocketAddress& to, const SocketAddress& from) {
  Slot& s = slots_[count_];
  s.len = len;
  s.to = v6_ ? to.v4_mapped() : to;
  s.from = from;
  ++count_;
}

void SendBatch::send(const uint8_t* data, size_t len, const SocketAddress& to, const SocketAddress& from) {
  if (len > kSlotSize) {
    ++send_errors_;
    return;
  }
  std::memcpy(slot_data(), data, len);
  commit(len, to, from);
}

// Names the source address of one datagram: IP_PKTINFO's ipi_spec_dst on an IPv4 socket,
// IPV6_PKTINFO (RFC 3542 §6.1) on an IPv6 one, where Linux takes a v4-mapped source for
// an IPv4 peer.
static void set_source(msghdr& h, uint8_t* control, const SocketAddress& from, bool v6_socket) {
  h.msg_control = control;
  h.msg_controllen = v6_socket ? CMSG_SPACE(sizeof(in6_pktinfo)) : CMSG_SPACE(sizeof(in_pktinfo));
  cmsghdr* c = CMSG_FIRSTHDR(&h);
  if (v6_socket) {
    in6_pktinfo info{};
    std::memcpy(&info.ipi6_addr, from.v4_mapped().raw_address(), 16);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  } else {
    in_pktinfo info{};
    std::memcpy(&info.ipi_spec_dst, from.raw_address(), 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
  }
}

void SendBatch::flush() {
  int done = 0;
  for (int i = 0; i < count_; ++i) {
    Slot& s = slots_[i];
    iovs_[i] = {s.data, s.len};
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_name = const_cast<sockaddr*>(s.to.sockaddr_ptr());
    msgs_[i].msg_hdr.msg_namelen = s.to.sockaddr_len();
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
    // The source must be of the peer's family (an IPv4 peer on a dual-stack socket is
    // v4-mapped); anything else is left to the kernel's choice.
    const bool v4_peer = s.to.is_v4() || s.to.is_v4_mapped();
    if (s.from.valid() && s.from.is_v4() == v4_peer && (v6_ || s.from.is_v4()))
      set_source(msgs_[i].msg_hdr, s.control, s.from, v6_);
  }
  while (done < count_) {
    int n = ::sendmmsg(fd_, msgs_.data() + done, unsigned(count_ - done), MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      // EAGAIN (socket buffer full) or a per-destination error: drop this datagram, go on.
      ++send_errors_;
      ++done;
      continue;
    }
    for (int i = done; i < done + n; ++i) bytes_sent_ += slots_[i].len;
    packets_sent_ += unsigned(n);
    done += n;
  }
  count_ = 0;
}

}  // namespace strata::worker
