#include "http/server.hpp"

#include <limits>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "auth/client_limiter.hpp"
#include "http/cors.hpp"
#include "http/event_stream.hpp"

namespace strata::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kFirstRead = 4096;  // what one read takes while a keep-alive connection idles
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

// Open connections per client (ServerOptions::max_connections_per_client), touched at
// accept and when a connection ends: never per request.
class ConnectionTable : public std::enable_shared_from_this<ConnectionTable> {
 public:
  // A connection's place in its client's count, given back when it is destroyed.
  class Slot {
   public:
    Slot(std::shared_ptr<ConnectionTable> table, std::string client) : table_(std::move(table)), client_(std::move(client)) {}
    ~Slot() {
      if (table_) table_->release(client_);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    std::shared_ptr<ConnectionTable> table_;  // null: not counted (no limit, unknown peer)
    std::string client_;
  };

  explicit ConnectionTable(size_t limit) : limit_(limit) {}
  // nullptr when the client holds all the connections it may.
  std::unique_ptr<Slot> take(const std::string& client) {
    if (limit_ == 0 || client.empty()) return std::make_unique<Slot>(nullptr, "");
    std::lock_guard lock(mu_);
    size_t& n = open_[client];
    if (n >= limit_) {
      ++refused_;
      return nullptr;
    }
    ++n;
    return std::make_unique<Slot>(shared_from_this(), client);
  }
  uint64_t refused() const {
    std::lock_guard lock(mu_);
    return refused_;
  }

 private:
  void release(const std::string& client) {
    std::lock_guard lock(mu_);
    auto it = open_.find(client);
    if (it != open_.end() && --it->second == 0) open_.erase(it);
  }
  const size_t limit_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;
  uint64_t refused_ = 0;
};

struct Shared {
  ServerOptions options;
  Router router;
  CorsPolicy cors;
  std::shared_ptr<ConnectionTable> connections;
};

std::string format_endpoint(const tcp::endpoint& endpoint) {
  std::string ip = endpoint.address().to_string();
  if (endpoint.address().is_v6()) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(endpoint.port());
}

// CR/LF in a handler-supplied field would split the response (header injection).
std::string sanitize_field(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  return out;
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// The status answered for a failed read, or 0 when there is nobody left to answer
// (peer closed, reset, idle timeout).
int status_for_read_error(const beast::error_code& ec) {
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return 0;
  if (ec == bhttp::error::body_limit) return 413;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) return 431;
  if (is_parse_error(ec)) return 400;
  return 0;
}

Response error_for_status(int status, const beast::error_code& ec) {
  switch (status) {
    case 413: return error_response(413, "payload_too_large", "request body exceeds the limit");
    case 431: return error_response(431, "header_too_large", "request header exceeds the limit");
    default: return error_response(400, "bad_request", ec ? ec.message() : "malformed request");
  }
}

void copy_headers(const bhttp::fields& fields, Request& request) {
  for (const auto& field : fields) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
}

Request to_request(bhttp::request<bhttp::string_body>&& message, const std::string& remote) {
  Request request;
  request.method = std::string(message.method_string());
  std::string_view target(message.target().data(), message.target().size());
  size_t question = target.find('?');
  request.target = std::string(target.substr(0, question));
  if (question != std::string_view::npos) {
    request.query = std::string(target.substr(question + 1));
    request.query_params = parse_query(request.query);
  }
  copy_headers(message, request);
  request.body = std::move(message.body());
  request.remote_address = remote;
  return request;
}

bhttp::response<bhttp::string_body> to_message(Response&& response, bool keep_alive) {
  int status = response.status >= 100 && response.status <= 599 ? response.status : 500;
  bhttp::response<bhttp::string_body> message;
  message.version(11);
  message.result(static_cast<unsigned>(status));
  message.set(bhttp::field::server, "strata");
  if (!response.content_type.empty()) {
    message.set(bhttp::field::content_type, sanitize_field(response.content_type));
  }
  for (const auto& [name, value] : response.headers) {
    std::string clean_name = sanitize_field(name);
    if (!clean_name.empty()) message.insert(clean_name, sanitize_field(value));
  }
  // Framing belongs to the server, whatever a handler put in its headers.
  message.erase(bhttp::field::content_length);
  message.erase(bhttp::field::transfer_encoding);
  message.erase(bhttp::field::connection);
  // RFC 9110 §8.6: no Content-Length (and no body) on 1xx and 204; 304 has no body either.
  bool bodiless = status < 200 || status == 204 || status == 304;
  if (bodiless) {
    response.body.clear();
  } else {
    message.content_length(response.body.size());
  }
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive);
  return message;
}

bool expects_continue(const bhttp::fields& fields) {
  auto it = fields.find(bhttp::field::expect);
  return it != fields.end() && iequals(std::string_view(it->value().data(), it->value().size()),
                                       "100-continue");
}

// One TCP connection: read header, check limits, read body, dispatch, write, repeat
// (keep-alive). All of its handlers run on one strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<const Shared> shared, std::unique_ptr<ConnectionTable::Slot> slot)
      : stream_(std::move(socket)), shared_(std::move(shared)), slot_(std::move(slot)) {
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = format_endpoint(endpoint);
  }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_first_header(); });
  }

 private:
  std::chrono::seconds idle_timeout() const {
    return std::chrono::seconds(std::max(1, shared_->options.idle_timeout_seconds));
  }
  std::chrono::seconds header_timeout() const {
    return std::chrono::seconds(std::max(1, shared_->options.header_timeout_seconds));
  }

  // A new connection: its first request's header is due within the header timeout.
  void read_first_header() { read_header_within(header_timeout()); }

  // Keep-alive: idle until the next request's first byte (idle timeout), then the header
  // timeout for the rest of it. Pipelined bytes already buffered start the header at once.
  void read_next_header() {
    if (buffer_.size() > 0) return read_header_within(header_timeout());
    stream_.expires_after(idle_timeout());
    stream_.async_read_some(buffer_.prepare(kFirstRead), [self = shared_from_this()](beast::error_code ec, size_t n) {
      if (ec) return self->close_now();
      self->buffer_.commit(n);
      self->read_header_within(self->header_timeout());
    });
  }

  void read_header_within(std::chrono::seconds deadline) {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // No limit while reading the header, so an oversized Content-Length reaches on_header
    // with the fields parsed (Origin for CORS); the real limit is set before the body.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(deadline);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->on_header(ec);
                             });
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail(ec);
    // Refuse before reading: the client may be about to stream a huge body.
    auto length = parser_->content_length();
    if (length && *length > shared_->options.max_body_bytes) {
      return fail(bhttp::error::body_limit);
    }
    if (!parser_->is_done() && expects_continue(parser_->get())) return send_continue();
    read_body();
  }

  // RFC 9110 §10.1.1: a client sending "Expect: 100-continue" (curl does for large
  // bodies) waits for this interim response before sending the body.
  void send_continue() {
    interim_.emplace(bhttp::status::continue_, 11);
    bhttp::async_write(stream_, *interim_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         self->interim_.reset();
                         if (ec) return self->close_now();
                         self->read_body();
                       });
  }

  void read_body() {
    parser_->body_limit(shared_->options.max_body_bytes);
    stream_.expires_after(header_timeout());
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->fail(ec);
                        self->handle_request();
                      });
  }

  void handle_request() {
    bool keep_alive = parser_->get().keep_alive();
    Request request = to_request(parser_->release(), remote_);
    parser_.reset();
    Response response = serve_request(shared_->router, shared_->cors, request);
    if (response.events && response.status == 200) return send_events(std::move(response));
    send(std::move(response), keep_alive);
  }

  // ---- server-sent events: the connection is the stream's until either side ends it ----
  static constexpr auto kEventPing = std::chrono::seconds(15);

  void send_events(Response&& response) {
    events_ = std::move(response.events);
    response.content_type = "text/event-stream";
    response.set_header("Cache-Control", "no-store");
    auto full = to_message(std::move(response), /*keep_alive=*/false);
    event_header_.emplace(full.base());
    event_header_->erase(bhttp::field::content_length);
    event_header_->chunked(true);
    event_serializer_.emplace(*event_header_);
    stream_.expires_never();
    bhttp::async_write_header(stream_, *event_serializer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->end_events();
      std::weak_ptr<Session> weak = self;
      self->events_->set_waker([weak, executor = self->stream_.get_executor()] {
        net::post(executor, [weak] {
          if (auto s = weak.lock()) s->pump_events();
        });
      });
      self->watch_client();
      self->schedule_ping();
      self->pump_events();
    });
  }

  void pump_events() {
    if (!events_ || writing_events_) return;
    std::string text;
    const bool open = events_->take(text);
    if (text.empty()) {
      if (!open) finish_events();
      return;
    }
    writing_events_ = true;
    event_chunk_ = std::move(text);
    net::async_write(stream_, bhttp::make_chunk(net::buffer(event_chunk_)),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_events_ = false;
                       if (ec) return self->end_events();
                       self->pump_events();
                     });
  }

  // The client never sends on an event stream; a read completing means it went away.
  void watch_client() {
    stream_.socket().async_read_some(net::buffer(drain_buffer_), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->end_events();
      self->watch_client();
    });
  }

  void schedule_ping() {
    ping_timer_.emplace(stream_.get_executor());
    ping_timer_->expires_after(kEventPing);
    ping_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || !self->events_) return;
      self->events_->comment("ping");
      self->schedule_ping();
    });
  }

  // The application closed the stream: the last chunk ends the body, then the connection.
  void finish_events() {
    writing_events_ = true;
    net::async_write(stream_, bhttp::make_chunk_last(), [self = shared_from_this()](beast::error_code, size_t) {
      self->writing_events_ = false;
      self->end_events();
    });
  }

  void end_events() {
    if (!events_) return;
    events_->detach();
    events_.reset();
    if (ping_timer_) ping_timer_->cancel();
    close_now();
  }

  void fail(beast::error_code ec) {
    int status = status_for_read_error(ec);
    if (status == 0) return close_now();
    Response response = error_for_status(status, ec);
    // Fields parsed so far (the whole header when Content-Length tripped the body limit)
    // carry the Origin: let a browser read why it failed.
    if (parser_) {
      Request partial;
      copy_headers(parser_->get(), partial);
      shared_->cors.apply(partial, response);
    }
    send(std::move(response), /*keep_alive=*/false);  // the stream position is unknown
  }

  void send(Response&& response, bool keep_alive) {
    response_.emplace(to_message(std::move(response), keep_alive));
    stream_.expires_after(idle_timeout());
    bhttp::async_write(stream_, *response_,
                       [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                         self->response_.reset();
                         if (ec) return self->close_now();
                         if (!keep_alive) return self->linger_close();
                         self->read_next_header();
                       });
  }

  // Closing with unread request bytes makes the kernel send RST, which can destroy the
  // error response before the client reads it. Half-close and drain for a moment instead.
  void linger_close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close_now();
                              self->drain();
                            });
  }

  void close_now() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<const Shared> shared_;
  std::unique_ptr<ConnectionTable::Slot> slot_;  // this connection's place in its client's count
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> interim_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::array<char, 4096> drain_buffer_{};
  std::shared_ptr<EventStream> events_;
  std::optional<bhttp::response<bhttp::empty_body>> event_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> event_serializer_;
  std::string event_chunk_;
  bool writing_events_ = false;
  std::optional<net::steady_timer> ping_timer_;
};

}  // namespace

struct Server::Impl {
  std::shared_ptr<Shared> shared;
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> retry_timer;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  bool started = false;

  bool listen(std::string* error);
  void accept();
  void retry_accept();
  void run_thread();
};

bool Server::Impl::listen(std::string* error) {
  auto fail = [&](std::string_view what, const beast::error_code& ec) {
    if (error) *error = std::string(what) + ": " + ec.message();
    return false;
  };
  const ServerOptions& options = shared->options;
  beast::error_code ec;
  tcp::resolver resolver(*ioc);
  auto results = resolver.resolve(options.host, std::to_string(options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) return fail("resolve " + options.host, ec);
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor = std::make_unique<tcp::acceptor>(*ioc);
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open", ec);
  acceptor->set_option(net::socket_base::reuse_address(true), ec);
  acceptor->bind(endpoint, ec);
  if (ec) return fail("bind " + format_endpoint(endpoint), ec);
  acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen", ec);
  port = acceptor->local_endpoint(ec).port();
  return true;
}

void Server::Impl::accept() {
  acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) return retry_accept();  // e.g. EMFILE: back off instead of spinning
    beast::error_code ignored;
    auto peer = socket.remote_endpoint(ignored);
    auto slot = shared->connections->take(ignored ? std::string() : auth::client_key(format_endpoint(peer)));
    if (!slot) {
      socket.close(ignored);  // this client holds all the connections it may
      return accept();
    }
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<Session>(std::move(socket), shared, std::move(slot))->start();
    accept();
  });
}

void Server::Impl::retry_accept() {
  retry_timer->expires_after(kAcceptRetryDelay);
  retry_timer->async_wait([this](beast::error_code ec) {
    if (!ec) accept();
  });
}

void Server::Impl::run_thread() {
  for (;;) {
    try {
      ioc->run();
      return;
    } catch (const std::exception&) {
      // A throwing completion handler must not kill the control plane; keep serving.
    }
  }
}

Server::Server(ServerOptions options, Router router) : impl_(std::make_unique<Impl>()) {
  auto origins = options.cors_allowed_origins;
  auto connections = std::make_shared<ConnectionTable>(options.max_connections_per_client);
  impl_->shared = std::make_shared<Shared>(
      Shared{std::move(options), std::move(router), CorsPolicy(std::move(origins)), std::move(connections)});
}

Server::~Server() { stop(); }

bool Server::start(std::string* error) {
  if (impl_->started || impl_->ioc) {
    if (error) *error = "server already started";
    return false;
  }
  int thread_count = std::max(1, impl_->shared->options.threads);
  impl_->ioc = std::make_unique<net::io_context>(thread_count);
  if (!impl_->listen(error)) {
    impl_->acceptor.reset();
    impl_->ioc.reset();
    return false;
  }
  impl_->retry_timer = std::make_unique<net::steady_timer>(*impl_->ioc);
  impl_->accept();
  for (int i = 0; i < thread_count; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] { impl->run_thread(); });
  }
  impl_->started = true;
  return true;
}

uint16_t Server::port() const { return impl_->port; }

uint64_t Server::refused_connections() const { return impl_->shared->connections->refused(); }

void Server::stop() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->ioc->stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  beast::error_code ignored;
  impl_->acceptor->close(ignored);
  impl_->acceptor.reset();
  impl_->retry_timer.reset();
  // Destroying the io_context destroys the pending handlers, which own the sessions, so
  // every open connection is closed here.
  impl_->ioc.reset();
}

}  // namespace strata::http
