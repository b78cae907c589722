#include "worker/udp_socket.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace strata::worker {

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdpSocket::open(const SocketAddress& bind, std::string* error) {
  fd_ = ::socket(bind.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  // Large kernel buffers absorb bursts (keyframes fanned out to many viewers).
  int size = 8 * 1024 * 1024;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (::bind(fd_, bind.sockaddr_ptr(), bind.sockaddr_len()) != 0) {
    *error = "bind " + bind.to_string() + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  local_port_ = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).port();
  return true;
}

int UdpSocket::receive_batch(BufferPool& pool, std::array<PacketRef, kRecvBatch>& out,
                             std::array<SocketAddress, kRecvBatch>& from) {
  for (int i = 0; i < kRecvBatch; ++i) {
    if (!out[i] || !out[i].unique()) out[i] = pool.acquire();
    iovs_[i] = {out[i].data(), PacketBuffer::kCapacity - 64};  // room for SRTP trailer on re-send
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_name = &addrs_[i];
    msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  int n = ::recvmmsg(fd_, msgs_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  for (int i = 0; i < n; ++i) {
    // A datagram larger than a buffer (MSG_TRUNC) is no packet we accept: size 0 makes the
    // worker drop it as malformed instead of failing a later check on a cut copy.
    out[i]->size = (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs_[i].msg_len;
    from[i] = SocketAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&addrs_[i]), msgs_[i].msg_hdr.msg_namelen);
  }
  return n;
}

void SendBatch::commit(size_t len, const SocketAddress& to) {
  slots_[count_].len = len;
  slots_[count_].to = to;
  ++count_;
}

void SendBatch::send(const uint8_t* data, size_t len, const SocketAddress& to) {
  if (len > kSlotSize) {
    ++send_errors_;
    return;
  }
  std::memcpy(slot_data(), data, len);
  commit(len, to);
}

void SendBatch::flush() {
  int done = 0;
  for (int i = 0; i < count_; ++i) {
    iovs_[i] = {slots_[i].data, slots_[i].len};
    msgs_[i].msg_hdr = {};
    msgs_[i].msg_hdr.msg_name = const_cast<sockaddr*>(slots_[i].to.sockaddr_ptr());
    msgs_[i].msg_hdr.msg_namelen = slots_[i].to.sockaddr_len();
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
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
