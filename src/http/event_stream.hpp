// A server-sent event stream (text/event-stream, WHATWG HTML §9.2) that a handler returns in
// its Response: the application sends events from any thread, the server's connection
// writes them as they come. Either side ends it: the application with close(), the client
// by going away (then closed() is true and the application drops its reference).
#pragma once
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace strata::http {

class EventStream {
 public:
  // A client that reads slower than this much is behind is dropped (its stream closes).
  static constexpr size_t kMaxPending = 1 << 20;

  // Queues "event: <event>\ndata: <data>\n\n" (`data` is one line: JSON has no raw
  // newlines). Returns false once the stream is closed.
  bool send(std::string_view event, std::string_view data);
  // Queues a comment line (": <text>"), which keeps idle connections open.
  bool comment(std::string_view text);
  void close();
  bool closed() const;

  // ---- the server's side ----
  // `wake` runs (on the sending thread, without the lock) whenever text was queued or the
  // stream closed; the server posts its write from there.
  void set_waker(std::function<void()> wake);
  // Moves the queued text into `out`. False once closed and nothing is left to write.
  bool take(std::string& out);
  // The client went away: stop queueing.
  void detach();

 private:
  bool queue(std::string text);

  mutable std::mutex mu_;
  std::string pending_;
  bool closed_ = false;
  std::function<void()> wake_;
};

}  // namespace strata::http
