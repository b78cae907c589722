#include "http/event_stream.hpp"

namespace strata::http {

bool EventStream::send(std::string_view event, std::string_view data) {
  std::string text;
  text.reserve(event.size() + data.size() + 16);
  text.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
  return queue(std::move(text));
}

bool EventStream::comment(std::string_view text) { return queue(std::string(": ").append(text).append("\n\n")); }

bool EventStream::queue(std::string text) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (pending_.size() + text.size() > kMaxPending) {
      closed_ = true;  // a reader this far behind is gone or stuck
    } else {
      pending_ += text;
    }
    wake = wake_;
  }
  if (wake) wake();
  return true;
}

void EventStream::close() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

bool EventStream::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void EventStream::set_waker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

bool EventStream::take(std::string& out) {
  std::lock_guard lock(mu_);
  out += pending_;
  pending_.clear();
  return !closed_;
}

void EventStream::detach() {
  std::lock_guard lock(mu_);
  closed_ = true;
  pending_.clear();
  wake_ = nullptr;
}

}  // namespace strata::http
