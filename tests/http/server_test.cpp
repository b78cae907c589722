// End-to-end tests over real sockets on 127.0.0.1 with an ephemeral port and a tiny
// Beast client that never blocks for more than a few seconds.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/embedded.hpp"
#include "http/event_stream.hpp"

namespace strata::http {
const std::vector<EmbeddedFile>& embedded_test_files();  // tests/http/CMakeLists.txt

namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using RawResponse = bhttp::response<bhttp::string_body>;

constexpr auto kClientTimeout = std::chrono::seconds(5);

class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  void send(std::string_view raw) { net::write(socket_, net::buffer(raw)); }
  tcp::socket& socket() { return socket_; }

  std::optional<RawResponse> read_response(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    parser.skip(head);
    beast::error_code result = net::error::timed_out;
    bhttp::async_read(socket_, buffer_, parser,
                      [&](beast::error_code ec, size_t) { result = ec; });
    run();
    if (result) return std::nullopt;
    return parser.release();
  }

  // Reads raw bytes until `text` has arrived (true) or the timeout, EOF or an error.
  bool read_until(std::string_view text) {
    while (raw_.find(text) == std::string::npos) {
      beast::error_code result = net::error::timed_out;
      std::array<char, 4096> chunk;
      size_t got = 0;
      socket_.async_read_some(net::buffer(chunk), [&](beast::error_code ec, size_t n) {
        result = ec;
        got = n;
      });
      run();
      if (result) return false;
      raw_.append(chunk.data(), got);
    }
    return true;
  }
  const std::string& raw() const { return raw_; }

  // True when the server closed the connection (EOF) within the timeout.
  bool closed_by_server() {
    beast::error_code result = net::error::timed_out;
    char byte;
    net::async_read(socket_, net::buffer(&byte, 1),
                    [&](beast::error_code ec, size_t) { result = ec; });
    run();
    return result == net::error::eof || result == net::error::connection_reset;
  }

  std::optional<RawResponse> request(std::string_view method, std::string_view target,
                                     std::string_view body = {}, std::string_view extra = {}) {
    std::ostringstream raw;
    raw << method << ' ' << target << " HTTP/1.1\r\nHost: localhost\r\n" << extra;
    if (!body.empty() || method == "POST") raw << "Content-Length: " << body.size() << "\r\n";
    raw << "\r\n" << body;
    send(raw.str());
    return read_response();
  }

 private:
  void run() {
    ioc_.restart();
    ioc_.run_for(kClientTimeout);
    if (!ioc_.stopped()) {
      beast::error_code ignored;
      socket_.cancel(ignored);
      ioc_.restart();
      ioc_.run();
    }
  }

  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string raw_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

nlohmann::json body_json(const RawResponse& response) {
  return nlohmann::json::parse(response.body(), nullptr, /*allow_exceptions=*/false);
}

// The stream the /events route hands out last (the test pushes into it).
std::shared_ptr<EventStream> last_event_stream;
std::shared_ptr<EventStream> event_stream_for_test() {
  last_event_stream = std::make_shared<EventStream>();
  return last_event_stream;
}

Router make_router() {
  Router router;
  router.add("POST", "/whip/{stream}", [](const Request& request) {
    Response response = text_response(201, "answer for " + request.path_params.at("stream") +
                                               ":" + request.body, "application/sdp");
    response.set_header("Location", "/session/42");
    response.set_header("ETag", "\"v1\"");
    return response;
  });
  router.add("DELETE", "/session/{id}", [](const Request& request) {
    Response response;
    response.status = 204;
    return response;
  });
  router.add("GET", "/echo", [](const Request& request) {
    return json_response(200, {{"query", request.query},
                               {"layer", request.query_params.count("layer") ? request.query_params.at("layer") : ""},
                               {"remote", request.remote_address},
                               {"agent", request.header("user-agent").value_or("")}});
  });
  router.add("GET", "/events", [](const Request&) {
    Response response;
    response.events = event_stream_for_test();
    response.events->send("live", R"({"n":1})");
    return response;
  });
  add_embedded(router, embedded_web_files());
  add_embedded(router, embedded_test_files());
  return router;
}

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerOptions options = {}) {
    options.port = 0;
    options.max_body_bytes = 1024;
    options.idle_timeout_seconds = 5;
    server_.reset();
    server_ = std::make_unique<Server>(options, make_router());
    std::string error;
    ASSERT_TRUE(server_->start(&error)) << error;
    ASSERT_NE(server_->port(), 0);
  }
  void SetUp() override { start(); }
  Client client() { return Client(server_->port()); }

  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoutesWithPathParams) {
  Client c = client();
  auto response = c.request("POST", "/whip/cam%201", "v=0");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 201);
  EXPECT_EQ(response->body(), "answer for cam 1:v=0");
  EXPECT_EQ((*response)[bhttp::field::location], "/session/42");
  EXPECT_EQ((*response)[bhttp::field::content_type], "application/sdp");
  EXPECT_EQ((*response)[bhttp::field::content_length], "20");
}

TEST_F(ServerTest, QueryAndHeadersReachHandler) {
  Client c = client();
  auto response = c.request("GET", "/echo?layer=h&x=1", {}, "User-Agent: gtest\r\n");
  ASSERT_TRUE(response);
  auto body = body_json(*response);
  EXPECT_EQ(body["query"], "layer=h&x=1");
  EXPECT_EQ(body["layer"], "h");
  EXPECT_EQ(body["agent"], "gtest");
  EXPECT_EQ(body["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreJson) {
  Client c = client();
  auto missing = c.request("GET", "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 404);
  EXPECT_EQ((*missing)[bhttp::field::content_type], "application/json");
  EXPECT_EQ(body_json(*missing)["error"], "not_found");

  auto wrong = c.request("GET", "/whip/x");  // same connection: errors keep it alive
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 405);
  EXPECT_EQ((*wrong)[bhttp::field::allow], "POST, OPTIONS");
  EXPECT_EQ(body_json(*wrong)["error"], "method_not_allowed");
}

TEST_F(ServerTest, OversizedContentLengthIs413BeforeBody) {
  Client c = client();
  // Only the header is sent: the server must answer without waiting for the body.
  c.send("POST /whip/x HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\nContent-Length: 5000\r\n\r\n");
  auto response = c.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413);
  EXPECT_EQ(body_json(*response)["error"], "payload_too_large");
  EXPECT_EQ((*response)[bhttp::field::access_control_allow_origin], "http://a.example");
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(ServerTest, OversizedChunkedBodyIs413) {
  Client c = client();
  std::string chunk(800, 'x');
  std::ostringstream raw;
  raw << "POST /whip/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i) raw << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
  raw << "0\r\n\r\n";
  c.send(raw.str());
  auto response = c.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 413);
}

TEST_F(ServerTest, BodyAtLimitIsAccepted) {
  Client c = client();
  auto response = c.request("POST", "/whip/x", std::string(1024, 'a'));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 201);
}

TEST_F(ServerTest, ExpectContinueGetsInterimResponse) {
  Client c = client();
  c.send("POST /whip/x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  auto interim = c.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  c.send("v=0");
  auto response = c.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 201);
}

TEST_F(ServerTest, MalformedRequestsAre400) {
  const char* cases[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST /whip/x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST /whip/x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "G\x01T / HTTP/1.1\r\n\r\n",
  };
  for (const char* raw : cases) {
    Client c = client();
    c.send(raw);
    auto response = c.read_response();
    ASSERT_TRUE(response) << raw;
    EXPECT_EQ(response->result_int(), 400) << raw;
    EXPECT_EQ(body_json(*response)["error"], "bad_request");
    EXPECT_TRUE(c.closed_by_server()) << raw;
  }
}

TEST_F(ServerTest, HugeHeaderIs431) {
  Client c = client();
  c.send("GET /echo HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  auto response = c.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 431);
}

TEST_F(ServerTest, CorsPreflightAllowedAndDisallowed) {
  server_.reset();
  ServerOptions options;
  options.cors_allowed_origins = {"http://good.example"};
  start(options);

  Client c = client();
  auto allowed = c.request("OPTIONS", "/whip/x", {},
                           "Origin: http://good.example\r\nAccess-Control-Request-Method: POST\r\n");
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->result_int(), 204);
  EXPECT_EQ((*allowed)[bhttp::field::access_control_allow_origin], "http://good.example");
  EXPECT_EQ((*allowed)[bhttp::field::access_control_allow_methods], "GET, POST, PATCH, DELETE, OPTIONS");
  EXPECT_EQ((*allowed)[bhttp::field::access_control_allow_headers], "Content-Type, Authorization, If-Match");
  EXPECT_EQ((*allowed)[bhttp::field::access_control_max_age], "86400");

  auto refused = c.request("OPTIONS", "/whip/x", {},
                           "Origin: http://evil.example\r\nAccess-Control-Request-Method: POST\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 403);
  EXPECT_EQ(refused->count(bhttp::field::access_control_allow_origin), 0u);

  auto post = c.request("POST", "/whip/x", "v=0", "Origin: http://evil.example\r\n");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->count(bhttp::field::access_control_allow_origin), 0u);
}

TEST_F(ServerTest, PostWithOriginExposesHeaders) {
  Client c = client();
  auto response = c.request("POST", "/whip/x", "v=0", "Origin: http://localhost:3000\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ((*response)[bhttp::field::access_control_allow_origin], "http://localhost:3000");
  EXPECT_EQ((*response)[bhttp::field::access_control_expose_headers], "Location, ETag, Link, Retry-After, WWW-Authenticate");
  EXPECT_EQ((*response)[bhttp::field::vary], "Origin");
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Client c = client();
  for (int i = 0; i < 3; ++i) {
    auto response = c.request("POST", "/whip/s" + std::to_string(i), "v=0");
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->result_int(), 201);
    EXPECT_TRUE(response->keep_alive());
  }
  auto deleted = c.request("DELETE", "/session/42");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->result_int(), 204);
}

TEST_F(ServerTest, PipelinedRequestsAnsweredInOrder) {
  Client c = client();
  c.send("GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = c.read_response();
  auto second = c.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(body_json(*first)["query"], "n=1");
  EXPECT_EQ(body_json(*second)["query"], "n=2");
}

TEST_F(ServerTest, ConnectionCloseIsHonoured) {
  Client c = client();
  auto response = c.request("GET", "/echo", {}, "Connection: close\r\n");
  ASSERT_TRUE(response);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(ServerTest, EmbeddedWebPageServedAtRoot) {
  std::string index = read_file(std::string(STRATA_WEB_DIR) + "/index.html");
  ASSERT_FALSE(index.empty());
  Client c = client();
  for (const char* path : {"/", "/index.html"}) {
    auto response = c.request("GET", path);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), 200);
    EXPECT_EQ((*response)[bhttp::field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(response->body(), index);
  }
  auto script = c.request("GET", "/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ((*script)[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(script->body(), read_file(std::string(STRATA_WEB_DIR) + "/app.js"));
}

TEST_F(ServerTest, EmbeddedFilesKeepExactBytes) {
  Client c = client();
  struct Case { const char* path; const char* file; const char* type; };
  const Case cases[] = {
      {"/hello.txt", "hello.txt", "text/plain; charset=utf-8"},
      {"/bytes.bin", "bytes.bin", "application/octet-stream"},
      {"/empty.css", "empty.css", "text/css; charset=utf-8"},
  };
  for (const auto& cs : cases) {
    auto response = c.request("GET", cs.path);
    ASSERT_TRUE(response) << cs.path;
    EXPECT_EQ(response->result_int(), 200);
    EXPECT_EQ((*response)[bhttp::field::content_type], cs.type);
    EXPECT_EQ(response->body(), read_file(std::string(STRATA_HTTP_TEST_DATA) + "/" + cs.file));
    EXPECT_EQ((*response)[bhttp::field::content_length], std::to_string(response->body().size()));
  }
}

TEST_F(ServerTest, RandomBytesNeverBreakTheServer) {
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    Client c = client();
    std::string junk(rng() % 200 + 1, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    if (i % 2) junk = "POST /whip/x HTTP/1.1\r\n" + junk;  // garbage after a valid start
    junk += "\r\n\r\n";
    c.send(junk);
    auto response = c.read_response();  // 400 or a close; either way no crash
    if (response) {
      EXPECT_GE(response->result_int(), 200);
    }
  }
  Client c = client();
  auto response = c.request("GET", "/echo");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200);
}

// Server-sent events: the headers, the first event at once, later events as they are sent,
// the end of the stream when the application closes it, and a client that goes away is
// noticed (its stream closes, so the application stops sending into it).
TEST_F(ServerTest, EventStreamDeliversEventsAsTheyCome) {
  Client c = client();
  c.send("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
  ASSERT_TRUE(c.read_until("data: {\"n\":1}\n\n")) << c.raw();
  EXPECT_NE(c.raw().find("Content-Type: text/event-stream"), std::string::npos) << c.raw();
  EXPECT_NE(c.raw().find("Transfer-Encoding: chunked"), std::string::npos) << c.raw();
  EXPECT_EQ(c.raw().find("Content-Length"), std::string::npos) << c.raw();
  EXPECT_NE(c.raw().find("event: live\n"), std::string::npos);
  auto stream = last_event_stream;
  ASSERT_TRUE(stream);
  EXPECT_TRUE(stream->send("live", R"({"n":2})"));
  ASSERT_TRUE(c.read_until("data: {\"n\":2}\n\n")) << c.raw();
  stream->close();
  EXPECT_TRUE(c.read_until("0\r\n\r\n") || c.closed_by_server()) << "last chunk, then the connection ends";

  std::shared_ptr<EventStream> abandoned;
  {
    Client gone = client();
    gone.send("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ASSERT_TRUE(gone.read_until("data: {\"n\":1}"));
    abandoned = last_event_stream;
  }  // the client closes its connection
  for (int i = 0; i < 200 && !abandoned->closed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(abandoned->closed()) << "the server noticed the client left";
  EXPECT_FALSE(abandoned->send("live", "{}"));
}

// Slowloris: one byte of header every 300 ms never completes a request within the header
// timeout (1 s here), so the server drops the connection; meanwhile other clients are
// served at once.
TEST_F(ServerTest, ClientTricklingItsHeaderIsDroppedAndBlocksNoOne) {
  ServerOptions options;
  options.header_timeout_seconds = 1;
  start(options);
  Client slow = client();
  const std::string request = "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool dropped = false;
  for (size_t i = 0; i < request.size() && !dropped; ++i) {
    boost::system::error_code ec;
    net::write(slow.socket(), net::buffer(&request[i], 1), ec);
    if (ec) {
      dropped = true;
      break;
    }
    // Someone else asks while the slow client trickles: answered without waiting.
    if (i == 2) {
      const auto asked = std::chrono::steady_clock::now();
      auto other = client().request("GET", "/echo");
      ASSERT_TRUE(other);
      EXPECT_EQ(other->result_int(), 200);
      EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(500));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    dropped = std::chrono::steady_clock::now() - start > std::chrono::milliseconds(1600) && slow.closed_by_server();
  }
  EXPECT_TRUE(dropped || slow.closed_by_server()) << "the trickling client was never dropped";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

// Keep-alive: a connection may idle between requests (the idle timeout), but once the next
// request starts, its header is due within the header timeout.
TEST_F(ServerTest, KeepAliveIdlesLongerThanTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout_seconds = 1;
  start(options);  // idle timeout 5 s
  Client c = client();
  auto first = c.request("GET", "/echo");
  ASSERT_TRUE(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto second = c.request("GET", "/echo");
  ASSERT_TRUE(second) << "an idle keep-alive connection outlives the header timeout";
  EXPECT_EQ(second->result_int(), 200);
  c.send("GET /echo HTTP/1.1\r\n");  // a header begun and never finished
  const auto begun = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - begun, std::chrono::milliseconds(2500));
}

// One client may hold max_connections_per_client connections; more are closed at accept,
// and a connection that ends gives its place back.
TEST_F(ServerTest, ConnectionsPerClientAreCapped) {
  ServerOptions options;
  options.max_connections_per_client = 2;
  start(options);
  auto a = std::make_unique<Client>(server_->port());
  Client b = client();
  ASSERT_TRUE(a->request("GET", "/echo"));
  ASSERT_TRUE(b.request("GET", "/echo"));
  Client c = client();
  EXPECT_TRUE(c.closed_by_server()) << "a third connection of the same client";
  EXPECT_EQ(server_->refused_connections(), 1u);
  EXPECT_TRUE(a->request("GET", "/echo")) << "the first two keep working";
  a.reset();  // the client closes one connection
  std::optional<RawResponse> again;
  for (int i = 0; i < 40 && !again; ++i) {
    Client d = client();
    again = d.request("GET", "/echo");
    if (!again) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(again) << "a closed connection frees its place";
}

TEST(EventStream, FormatsEventsAndDropsAReaderTooFarBehind) {
  EventStream es;
  int wakes = 0;
  es.set_waker([&] { ++wakes; });
  EXPECT_TRUE(es.send("live", "{}"));
  EXPECT_TRUE(es.comment("ping"));
  std::string out;
  EXPECT_TRUE(es.take(out));
  EXPECT_EQ(out, "event: live\ndata: {}\n\n: ping\n\n");
  EXPECT_EQ(wakes, 2);
  const std::string big(EventStream::kMaxPending / 2 + 1, 'x');
  EXPECT_TRUE(es.send("live", big));
  es.send("live", big);  // beyond the bound: the stream closes instead of growing
  EXPECT_TRUE(es.closed());
  EXPECT_FALSE(es.send("live", "{}"));
}

TEST(Server, BindFailureReportsError) {
  ServerOptions options;
  options.port = 0;
  Server first(options, Router{});
  std::string error;
  ASSERT_TRUE(first.start(&error)) << error;
  options.port = first.port();
  Server second(options, Router{});
  EXPECT_FALSE(second.start(&error));
  EXPECT_NE(error.find("bind"), std::string::npos) << error;
  EXPECT_FALSE(first.start(&error));  // already running
}

TEST(Server, StopClosesOpenConnectionsAndIsIdempotent) {
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  Server server(options, make_router());
  std::string error;
  ASSERT_TRUE(server.start(&error)) << error;
  Client c(server.port());
  ASSERT_TRUE(c.request("GET", "/echo"));
  server.stop();
  EXPECT_TRUE(c.closed_by_server());
  server.stop();
}

}  // namespace
}  // namespace strata::http
