#include "registry/registry.hpp"

#include <charconv>

#include "registry/memory_registry.hpp"
#include "registry/redis_registry.hpp"

namespace strata::registry {
namespace {

constexpr std::string_view kRedisScheme = "redis://";

// "host", "host:port", "[v6]" or "[v6]:port", with an optional trailing '/'.
bool parse_redis_authority(std::string_view text, RedisRegistry::Options* out, std::string* error) {
  if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      *error = "registry URL: unterminated '[' in IPv6 host";
      return false;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        *error = "registry URL: expected ':port' after ']'";
        return false;
      }
      port = rest.substr(1);
      if (port.empty()) port = "?";  // "[::1]:" is an error below
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) port = "?";
  }
  if (host.empty() || host.find_first_of("/@ ") != std::string_view::npos) {
    *error = "registry URL: missing or invalid host in redis://host[:port]";
    return false;
  }
  out->host = std::string(host);
  out->port = 6379;
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      *error = "registry URL: invalid port '" + std::string(port) + "'";
      return false;
    }
    out->port = value;
  }
  return true;
}

}  // namespace

std::string host_stream(std::string_view live, std::string_view host) {
  std::string out(live);
  out.push_back('/');
  out.append(host);
  return out;
}

std::pair<std::string_view, std::string_view> split_host_stream(std::string_view stream) {
  size_t slash = stream.find('/');
  if (slash == std::string_view::npos) return {stream, {}};
  return {stream.substr(0, slash), stream.substr(slash + 1)};
}

std::unique_ptr<Registry> make_registry(std::string_view url, const Clock& clock, std::string* error) {
  std::string scratch;
  if (!error) error = &scratch;
  if (url == "memory") return std::make_unique<MemoryRegistry>(clock);
  if (url.substr(0, kRedisScheme.size()) == kRedisScheme) {
    RedisRegistry::Options options;
    if (!parse_redis_authority(url.substr(kRedisScheme.size()), &options, error)) return nullptr;
    return std::make_unique<RedisRegistry>(std::move(options));
  }
  *error = "registry URL '" + std::string(url) + "' not understood: use \"memory\" or \"redis://host[:port]\"";
  return nullptr;
}

}  // namespace strata::registry
