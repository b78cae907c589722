// http_request, the blocking server-to-server client (edge → origin relay calls), against a
// real http::Server on 127.0.0.1:0 and against raw sockets that misbehave.
#include "http/client.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "http/server.hpp"

namespace strata::http {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> find_header(const ClientResponse& r, std::string_view name) {
  for (auto& [k, v] : r.headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

// A listening TCP socket on 127.0.0.1:0; optionally accepts connections and then says
// nothing. close() makes any peer blocked on it see EOF.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { close(); }
  uint16_t port() const { return port_; }
  // Closes the listener (and any accepted connection: the kernel's backlog entries die with it).
  void close() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR), ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// Binds a free port and releases it: nothing listens there afterwards.
uint16_t unused_port() {
  SilentListener l;
  return l.port();
}

class ClientTest : public testing::Test {
 protected:
  std::unique_ptr<Server> server;
  std::string base;

  void SetUp() override {
    Router router;
    router.add("GET", "/hello", [](const Request&) {
      auto r = text_response(200, "hello\n");
      r.set_header("X-Test", "yes");
      return r;
    });
    router.add("POST", "/echo/{name}", [](const Request& req) {
      nlohmann::json j = {{"name", req.path_params.at("name")},
                          {"body", req.body},
                          {"auth", req.header("Authorization").value_or("")},
                          {"content_type", req.header("Content-Type").value_or("")},
                          {"query", req.query}};
      return json_response(201, j);
    });
    router.add("GET", "/missing", [](const Request&) { return error_response(404, "nope", "not here"); });
    ServerOptions opts;
    opts.port = 0;
    server = std::make_unique<Server>(opts, std::move(router));
    std::string error;
    ASSERT_TRUE(server->start(&error)) << error;
    base = "http://127.0.0.1:" + std::to_string(server->port());
  }
  void TearDown() override { server->stop(); }
};

TEST_F(ClientTest, GetReturnsStatusBodyAndHeaders) {
  std::string error;
  auto r = http_request("GET", base + "/hello", {}, "", 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello\n");
  EXPECT_EQ(find_header(*r, "x-test"), "yes");
  auto ct = find_header(*r, "Content-Type");
  ASSERT_TRUE(ct);
  EXPECT_NE(ct->find("text/plain"), std::string::npos);
}

TEST_F(ClientTest, PostSendsBodyAndHeaders) {
  std::string error;
  const std::string body = R"({"edge_id":"e1"})";
  auto r = http_request("POST", base + "/echo/cam?x=1",
                        {{"Authorization", "Bearer s3cret"}, {"Content-Type", "application/json"}}, body, 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 201);
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r->body;
  EXPECT_EQ(j["name"], "cam");
  EXPECT_EQ(j["body"], body);
  EXPECT_EQ(j["auth"], "Bearer s3cret");
  EXPECT_EQ(j["content_type"], "application/json");
  EXPECT_EQ(j["query"], "x=1");
}

TEST_F(ClientTest, ErrorStatusIsAResponseNotAFailure) {
  std::string error;
  auto r = http_request("GET", base + "/missing", {}, "", 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("nope"), std::string::npos);
  r = http_request("GET", base + "/no/such/route", {}, "", 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 404);
}

TEST_F(ClientTest, LargeBodyRoundTrips) {
  std::string error;
  std::string body(40000, 'x');
  auto r = http_request("POST", base + "/echo/big", {}, body, 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(nlohmann::json::parse(r->body)["body"].get<std::string>().size(), body.size());
}

TEST_F(ClientTest, UrlWithoutPathTargetsRoot) {
  std::string error;
  auto r = http_request("GET", base, {}, "", 2s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 404);  // "/" is not routed here, but the request went out
}

TEST(Client, ConnectionRefusedIsNulloptWithError) {
  std::string error;
  auto start = std::chrono::steady_clock::now();
  auto r = http_request("GET", "http://127.0.0.1:" + std::to_string(unused_port()) + "/x", {}, "", 2s, &error);
  EXPECT_FALSE(r);
  EXPECT_FALSE(error.empty());
  EXPECT_NE(error.find("connect"), std::string::npos) << error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Client, BadUrlsAreNulloptWithError) {
  for (const char* url : {"", "https://127.0.0.1/x", "ftp://host/", "http://", "http:///path", "127.0.0.1:80/x",
                          "http://[::1/x", "http://host:/x", "http://127.0.0.1:notaport/x"}) {
    SCOPED_TRACE(url);
    std::string error;
    std::optional<ClientResponse> r;
    EXPECT_NO_THROW(r = http_request("GET", url, {}, "", 1s, &error));
    EXPECT_FALSE(r);
    EXPECT_FALSE(error.empty());
  }
}

// Runs a request on a thread; if it has not returned `grace` after its own timeout, the
// listener is closed so the thread unblocks and the test fails instead of hanging.
struct TimedRequest {
  std::optional<ClientResponse> response;
  std::string error;
  std::chrono::steady_clock::duration took{};
  bool returned_in_time = false;
};

TimedRequest request_with_watchdog(SilentListener& listener, Duration timeout, std::chrono::milliseconds grace) {
  TimedRequest out;
  auto start = std::chrono::steady_clock::now();
  auto fut = std::async(std::launch::async, [&] {
    return http_request("POST", "http://127.0.0.1:" + std::to_string(listener.port()) + "/relay/x", {}, "{}", timeout,
                        &out.error);
  });
  out.returned_in_time = fut.wait_for(timeout + grace) == std::future_status::ready;
  if (!out.returned_in_time) listener.close();
  out.response = fut.get();
  out.took = std::chrono::steady_clock::now() - start;
  return out;
}

// BUG (src/http/client.cpp:64-86): beast::tcp_stream::expires_after() only applies to
// asynchronous operations; the synchronous stream.connect(), bhttp::write() and
// bhttp::read() ignore it, so a peer that accepts and never answers blocks the caller
// forever (an edge's WHEP request, holding relay_setup_mu_, hangs with it). Fix: use
// async_connect/async_write/async_read and io.run() (the tcp_stream timer then cancels
// them), or set SO_RCVTIMEO/SO_SNDTIMEO on the socket.
TEST(Client, ServerThatNeverAnswersTimesOut) {
  SilentListener listener;  // the kernel completes the handshake; nobody reads or writes
  auto r = request_with_watchdog(listener, 500ms, 2000ms);
  EXPECT_TRUE(r.returned_in_time) << "http_request ignored its 500 ms timeout";
  EXPECT_FALSE(r.response);
  EXPECT_FALSE(r.error.empty());
  EXPECT_LT(r.took, 1500ms);
}

// What happens today: the call returns only when the peer goes away.
TEST(Client, SilentServerThatClosesYieldsNullopt) {
  SilentListener listener;
  auto r = request_with_watchdog(listener, 200ms, 300ms);
  EXPECT_FALSE(r.response);
  EXPECT_FALSE(r.error.empty());
}

// An extension method is not in Beast's verb table: string_to_verb() gives verb::unknown and
// the request goes out without a usable method. It must not throw; the server refuses it.
TEST_F(ClientTest, UnknownMethodDoesNotThrow) {
  std::string error;
  std::optional<ClientResponse> r;
  EXPECT_NO_THROW(r = http_request("BREW", base + "/hello", {}, "", 1s, &error));
  if (r) {
    EXPECT_GE(r->status, 400) << r->body;
  }
}

}  // namespace
}  // namespace strata::http
