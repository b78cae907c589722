#include "http/client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace strata::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;

namespace {

struct ParsedUrl {
  std::string host, port, target;
};

std::optional<ParsedUrl> parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  ParsedUrl p;
  p.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return std::nullopt;
    p.host = hostport.substr(1, close - 1);
    p.port = close + 2 <= hostport.size() ? hostport.substr(close + 2) : "80";
  } else {
    size_t colon = hostport.rfind(':');
    p.host = hostport.substr(0, colon);
    p.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  }
  if (p.host.empty() || p.port.empty()) return std::nullopt;
  return p;
}

}  // namespace

std::optional<ClientResponse> http_request(const std::string& method, const std::string& url,
                                           const std::vector<std::pair<std::string, std::string>>& headers,
                                           const std::string& body, Duration timeout, std::string* error) {
  auto parsed = parse_url(url);
  if (!parsed) {
    *error = "bad URL " + url;
    return std::nullopt;
  }
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(parsed->host, parsed->port, ec);
  if (ec) {
    *error = "resolve " + parsed->host + ": " + ec.message();
    return std::nullopt;
  }
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), parsed->target, 11);
  req.method_string(method);
  req.set(bhttp::field::host, parsed->host + ":" + parsed->port);
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  // One deadline for connect + write + read. tcp_stream's timeout applies to asynchronous
  // operations only, so the exchange runs as an async chain on a private io_context.
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  const char* stage = "connect";
  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code e, const asio::ip::tcp::endpoint&) {
    if ((ec = e)) return;
    stage = "write";
    bhttp::async_write(stream, req, [&](beast::error_code e2, size_t) {
      if ((ec = e2)) return;
      stage = "read";
      bhttp::async_read(stream, buffer, res, [&](beast::error_code e3, size_t) { ec = e3; });
    });
  });
  io.run();
  if (ec) {
    *error = std::string(stage) + " " + url + ": " + ec.message();
    return std::nullopt;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  ClientResponse out;
  out.status = int(res.result_int());
  for (auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(res.body());
  return out;
}

}  // namespace strata::http
