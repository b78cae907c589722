// The I/O side of setting up a link end: a TUN device created inside a named network
// namespace (the fd stays bound to that device after we return to our own namespace), then
// address, MTU, up and routes set with `ip -n <netns> ...`. Closing the fd removes the
// device (it is not persistent), and with it its address and routes.
#pragma once
#include <string>
#include <vector>

#include "profile.hpp"

namespace strata::wan_emu {

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  int release() { int f = fd_; fd_ = -1; return f; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string netns_path(const std::string& netns);  // /var/run/netns/<netns>
// Empty when every namespace named in the profile exists, else a message naming the first missing.
std::string check_namespaces_exist(const Profile& profile);

struct TunOpenResult {
  Fd fd;
  std::string error;
};
// setns into `netns`, create TUN `dev` (IFF_TUN | IFF_NO_PI, non-blocking), setns back.
TunOpenResult open_tun_in_netns(const std::string& netns, const std::string& dev);

// Address, MTU 1500, up, then the routes through the device. Empty on success.
std::string configure_endpoint(const Endpoint& endpoint);

// Runs argv (no shell) with a clean signal mask; empty on exit 0, else a message with the
// command line and its exit status.
std::string run_command(const std::vector<std::string>& argv);

}  // namespace strata::wan_emu
