// Worker::open and Worker::open_session_socket when the kernel refuses: descriptor
// exhaustion (RLIMIT_NOFILE lowered for one test, restored after it) makes epoll_create1,
// eventfd or socket fail for real; epoll_ctl (which fails on ENOSPC/ENOMEM, not on a
// descriptor limit) fails through the worker's test seam. Each failure must be an error,
// never a worker that opens "successfully" without its epoll set or wake-up eventfd, and
// must leave no descriptor behind.
#include "worker/worker.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace strata::worker {
namespace {

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// While alive, exactly `allowed` more descriptors can be opened (the soft RLIMIT_NOFILE is
// lowered to the descriptor number the next one after them would get: descriptors are
// handed out lowest free number first). Restores the limit when destroyed.
class FdLimit {
 public:
  explicit FdLimit(int allowed) {
    if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) return;
    std::vector<int> fds;
    for (int i = 0; i <= allowed; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int first_refused = fds.back();
    bool all_opened = true;
    for (int fd : fds) {
      all_opened &= fd >= 0;
      if (fd >= 0) ::close(fd);
    }
    if (!all_opened) return;
    rlimit lower = saved_;
    lower.rlim_cur = rlim_t(first_refused);
    ok_ = ::setrlimit(RLIMIT_NOFILE, &lower) == 0;
  }
  ~FdLimit() {
    if (ok_) ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit saved_{};
  bool ok_ = false;
};

int epoll_ctl_calls = 0;
int epoll_ctl_fail_from = 0;  // 1-based call number from which the fake fails

// Fails like epoll_ctl(2) does when /proc/sys/fs/epoll/max_user_watches is reached.
int failing_epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  if (++epoll_ctl_calls >= epoll_ctl_fail_from) {
    errno = ENOSPC;
    return -1;
  }
  return ::epoll_ctl(epfd, op, fd, event);
}

void fail_epoll_ctl_from(Worker& w, int call) {
  epoll_ctl_calls = 0;
  epoll_ctl_fail_from = call;
  w.set_epoll_ctl_for_testing(&failing_epoll_ctl);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(WorkerOpen, EpollCreateFailureFailsOpen) {
  const size_t before = open_descriptors();
  WorkerGroup group(1);
  std::string error;
  {
    FdLimit limit(1);  // the UDP socket gets one, epoll_create1 none
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(group.open("127.0.0.1", 0, &error));
  }
  EXPECT_TRUE(contains(error, "epoll_create1")) << error;
  EXPECT_TRUE(contains(error, std::strerror(EMFILE))) << error;
  EXPECT_EQ(open_descriptors(), before) << "a failed open left descriptors (and its port) behind";
}

TEST(WorkerOpen, EventfdFailureFailsOpen) {
  const size_t before = open_descriptors();
  WorkerGroup group(1);
  std::string error;
  {
    FdLimit limit(2);  // socket and epoll set, no eventfd
    ASSERT_TRUE(limit.ok());
    EXPECT_FALSE(group.open("127.0.0.1", 0, &error));
  }
  EXPECT_TRUE(contains(error, "eventfd")) << error;
  EXPECT_EQ(open_descriptors(), before);
}

TEST(WorkerOpen, EpollCtlFailureForTheSocketFailsOpen) {
  const size_t before = open_descriptors();
  WorkerGroup group(1);
  fail_epoll_ctl_from(group.at(0), 1);
  std::string error;
  EXPECT_FALSE(group.open("127.0.0.1", 0, &error));
  EXPECT_TRUE(contains(error, "epoll_ctl")) << error;
  EXPECT_TRUE(contains(error, "UDP socket")) << error;
  EXPECT_TRUE(contains(error, std::strerror(ENOSPC))) << error;
  EXPECT_EQ(open_descriptors(), before);
}

TEST(WorkerOpen, EpollCtlFailureForTheEventfdFailsOpen) {
  WorkerGroup group(1);
  fail_epoll_ctl_from(group.at(0), 2);
  std::string error;
  EXPECT_FALSE(group.open("127.0.0.1", 0, &error));
  EXPECT_TRUE(contains(error, "epoll_ctl")) << error;
  EXPECT_TRUE(contains(error, "eventfd")) << error;
}

// A relay's own socket that epoll does not watch would swallow every reply of the origin.
TEST(WorkerOpen, SessionSocketEpollCtlFailureReturnsNoSocket) {
  WorkerGroup group(1);
  std::string error;
  ASSERT_TRUE(group.open("127.0.0.1", 0, &error)) << error;
  const size_t before = open_descriptors();
  fail_epoll_ctl_from(group.at(0), 1);
  EXPECT_EQ(group.at(0).open_session_socket(nullptr, &error), nullptr);
  EXPECT_TRUE(contains(error, "epoll_ctl")) << error;
  EXPECT_EQ(open_descriptors(), before) << "the unwatched socket was not closed";
  // The seam back to the real epoll_ctl: the next session socket works.
  group.at(0).set_epoll_ctl_for_testing(&::epoll_ctl);
  EXPECT_NE(group.at(0).open_session_socket(nullptr, &error), nullptr) << error;
}

TEST(WorkerOpen, SessionSocketDescriptorLimitReturnsNoSocket) {
  WorkerGroup group(1);
  std::string error;
  ASSERT_TRUE(group.open("127.0.0.1", 0, &error)) << error;
  {
    FdLimit limit(0);
    ASSERT_TRUE(limit.ok());
    EXPECT_EQ(group.at(0).open_session_socket(nullptr, &error), nullptr);
  }
  EXPECT_TRUE(contains(error, "socket")) << error;
}

// The limit is back: workers open and run as usual after the tests above.
TEST(WorkerOpen, OpensAndRunsWithDescriptorsAvailable) {
  WorkerGroup group(2);
  std::string error;
  ASSERT_TRUE(group.open("127.0.0.1", 0, &error)) << error;
  EXPECT_TRUE(group.at(0).socket_buffers().receive > 0);
  group.start();
  group.stop();
}

}  // namespace
}  // namespace strata::worker
