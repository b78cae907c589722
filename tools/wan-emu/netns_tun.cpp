#include "netns_tun.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace strata::wan_emu {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string netns_path(const std::string& netns) { return "/var/run/netns/" + netns; }

std::string check_namespaces_exist(const Profile& profile) {
  for (const LinkSpec& link : profile.links) {
    for (const Endpoint* e : {&link.a, &link.b}) {
      struct stat st{};
      if (::stat(netns_path(e->netns).c_str(), &st) != 0) {
        return "network namespace '" + e->netns + "' (link \"" + link.name + "\") not found at " +
               netns_path(e->netns) + ": " + std::strerror(errno) + "; create it with `ip netns add " +
               e->netns + "`";
      }
    }
  }
  return {};
}

namespace {

std::string errno_message(const std::string& what) { return what + ": " + std::strerror(errno); }

// Creates the TUN device in whatever namespace this thread is in now.
TunOpenResult create_tun(const std::string& dev) {
  Fd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return {Fd(), errno_message("open /dev/net/tun")};
  ifreq req{};
  req.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(req.ifr_name, dev.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), TUNSETIFF, &req) != 0) return {Fd(), errno_message("TUNSETIFF " + dev)};
  return {std::move(fd), {}};
}

}  // namespace

TunOpenResult open_tun_in_netns(const std::string& netns, const std::string& dev) {
  Fd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home.valid()) return {Fd(), errno_message("open /proc/self/ns/net")};
  Fd target(::open(netns_path(netns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid()) return {Fd(), errno_message("open " + netns_path(netns))};
  if (::setns(target.get(), CLONE_NEWNET) != 0) return {Fd(), errno_message("setns " + netns)};
  TunOpenResult result = create_tun(dev);
  if (::setns(home.get(), CLONE_NEWNET) != 0) {
    // Staying in the wrong namespace would silently misconfigure every later link.
    return {Fd(), errno_message("setns back to the original namespace")};
  }
  if (!result.error.empty()) result.error = "netns " + netns + ": " + result.error;
  return result;
}

std::string run_command(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  std::string line;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
    line += (line.empty() ? "" : " ") + a;
  }
  args.push_back(nullptr);
  // The emulator blocks SIGTERM/SIGINT for its signalfd; the child must not inherit that.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return "`" + line + "`: " + std::strerror(rc);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return "`" + line + "` failed (status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
}

std::string configure_endpoint(const Endpoint& e) {
  const std::vector<std::vector<std::string>> commands = [&] {
    std::vector<std::vector<std::string>> c = {
        {"ip", "-n", e.netns, "addr", "add", e.addr.text, "dev", e.dev},
        // A long TUN queue (default 500) absorbs scheduling hiccups of the emulator at
        // ~20k packets/s on a busy host instead of dropping at the kernel side.
        {"ip", "-n", e.netns, "link", "set", "dev", e.dev, "mtu", "1500", "txqueuelen", "10000", "up"},
    };
    // Routes need the device up first, or the kernel refuses the nexthop.
    for (const Cidr& r : e.routes) c.push_back({"ip", "-n", e.netns, "route", "replace", r.text, "dev", e.dev});
    return c;
  }();
  for (const auto& argv : commands) {
    if (std::string err = run_command(argv); !err.empty()) return err;
  }
  return {};
}

}  // namespace strata::wan_emu
