#include "profile.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

namespace strata::wan_emu {

std::optional<Cidr> parse_cidr(std::string_view text) {
  Cidr out;
  out.text = std::string(text);
  const size_t slash = text.find('/');
  const std::string ip(text.substr(0, slash));
  if (inet_pton(AF_INET, ip.c_str(), out.address) == 1) {
    out.family = AF_INET;
  } else if (inet_pton(AF_INET6, ip.c_str(), out.address) == 1) {
    out.family = AF_INET6;
  } else {
    return std::nullopt;
  }
  const int max_prefix = out.family == AF_INET ? 32 : 128;
  out.prefix = max_prefix;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), out.prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size()) return std::nullopt;
    if (out.prefix < 0 || out.prefix > max_prefix) return std::nullopt;
  }
  return out;
}

bool is_network_address(const Cidr& cidr) {
  const int bits = cidr.family == AF_INET ? 32 : 128;
  for (int i = cidr.prefix; i < bits; ++i) {
    if (cidr.address[i / 8] & (0x80 >> (i % 8))) return false;
  }
  return true;
}

namespace {

// Walks the TOML tree; the first problem found is kept in error_ with its location.
class ProfileParser {
 public:
  explicit ProfileParser(std::string_view source) : source_(source) {}

  std::optional<Profile> parse(const toml::table& root);
  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& where, const std::string& what) {
    error_ = source_ + ": " + where + ": " + what;
    return false;
  }
  bool check_keys(const toml::table& t, const std::string& where, std::initializer_list<std::string_view> allowed);
  bool read_string(const toml::table& t, std::string_view key, const std::string& where, std::string& out);
  bool read_number(const toml::table& t, std::string_view key, const std::string& where, double min,
                   double max, double& out);
  bool read_endpoint(const toml::table& link, std::string_view key, const std::string& where, Endpoint& out);
  bool read_cidr(std::string_view text, const std::string& where, bool network, Cidr& out);
  bool read_direction(const toml::table& link, std::string_view key, const std::string& where,
                      DirectionParams& out);
  bool read_link(const toml::table& t, const std::string& where, LinkSpec& out);
  bool check_unique(const Profile& profile);

  std::string source_;
  std::string error_;
};

bool ProfileParser::check_keys(const toml::table& t, const std::string& where,
                               std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, node] : t) {
    bool known = false;
    for (std::string_view a : allowed) known = known || key.str() == a;
    if (!known) return fail(where, "unknown key '" + std::string(key.str()) + "'");
  }
  return true;
}

bool ProfileParser::read_string(const toml::table& t, std::string_view key, const std::string& where,
                                std::string& out) {
  const toml::node* node = t.get(key);
  if (!node) return fail(where, "missing field '" + std::string(key) + "'");
  const auto* s = node->as_string();
  if (!s || s->get().empty()) return fail(where, "'" + std::string(key) + "' must be a non-empty string");
  out = s->get();
  return true;
}

bool ProfileParser::read_number(const toml::table& t, std::string_view key, const std::string& where,
                                double min, double max, double& out) {
  const toml::node* node = t.get(key);
  if (!node) return true;  // every impairment is optional and defaults to none
  const std::string name = where + "." + std::string(key);
  std::optional<double> value = node->value<double>();
  if (!node->is_number() || !value) return fail(name, "must be a number");
  if (*value < min || *value > max) {
    std::ostringstream msg;
    if (*value < 0 && min >= 0) {
      msg << "must not be negative (got " << *value << ")";
    } else {
      msg << "must be in [" << min << ", " << max << "] (got " << *value << ")";
    }
    return fail(name, msg.str());
  }
  out = *value;
  return true;
}

bool ProfileParser::read_cidr(std::string_view text, const std::string& where, bool network, Cidr& out) {
  std::optional<Cidr> cidr = parse_cidr(text);
  if (!cidr) return fail(where, "bad CIDR \"" + std::string(text) + "\" (want e.g. 10.77.1.1/30)");
  if (network && !is_network_address(*cidr)) {
    return fail(where, "route \"" + std::string(text) + "\" has host bits set past the prefix");
  }
  out = *cidr;
  return true;
}

bool ProfileParser::read_endpoint(const toml::table& link, std::string_view key, const std::string& where,
                                  Endpoint& out) {
  const std::string here = where + "." + std::string(key);
  const toml::node* node = link.get(key);
  if (!node) return fail(where, "missing field '" + std::string(key) + "'");
  const toml::table* t = node->as_table();
  if (!t) return fail(here, "must be a table { netns, dev, addr, routes }");
  if (!check_keys(*t, here, {"netns", "dev", "addr", "routes"})) return false;
  std::string addr;
  if (!read_string(*t, "netns", here, out.netns) || !read_string(*t, "dev", here, out.dev) ||
      !read_string(*t, "addr", here, addr)) {
    return false;
  }
  if (out.netns.find('/') != std::string::npos) return fail(here + ".netns", "must not contain '/'");
  if (out.dev.size() >= IFNAMSIZ || out.dev.find_first_of("/ \t:") != std::string::npos) {
    return fail(here + ".dev", "\"" + out.dev + "\" is not a valid interface name (max 15 chars)");
  }
  if (!read_cidr(addr, here + ".addr", false, out.addr)) return false;
  if (const toml::node* routes = t->get("routes")) {
    const toml::array* arr = routes->as_array();
    if (!arr) return fail(here + ".routes", "must be an array of CIDR strings");
    for (const toml::node& r : *arr) {
      const auto* s = r.as_string();
      if (!s) return fail(here + ".routes", "must be an array of CIDR strings");
      Cidr cidr;
      if (!read_cidr(s->get(), here + ".routes", true, cidr)) return false;
      out.routes.push_back(cidr);
    }
  }
  return true;
}

bool ProfileParser::read_direction(const toml::table& link, std::string_view key, const std::string& where,
                                   DirectionParams& out) {
  const std::string here = where + "." + std::string(key);
  const toml::node* node = link.get(key);
  if (!node) return fail(where, "missing field '" + std::string(key) + "'");
  const toml::table* t = node->as_table();
  if (!t) return fail(here, "must be a table { delay_ms, jitter_ms, loss, rate_kbit, ... }");
  if (!check_keys(*t, here, {"delay_ms", "jitter_ms", "jitter_distribution", "loss", "loss_burst",
                             "rate_kbit", "queue_packets", "reorder"})) {
    return false;
  }
  double rate = 0;
  double queue = out.queue_packets;
  constexpr double kHour = 3'600'000;
  if (!read_number(*t, "delay_ms", here, 0, kHour, out.delay_ms) ||
      !read_number(*t, "jitter_ms", here, 0, kHour, out.jitter_ms) ||
      !read_number(*t, "loss", here, 0, 1, out.loss) ||
      !read_number(*t, "loss_burst", here, 0, 1e6, out.loss_burst) ||
      !read_number(*t, "rate_kbit", here, 0, 1e9, rate) ||
      !read_number(*t, "queue_packets", here, 0, 1e6, queue)) {
    return false;
  }
  out.rate_kbit = uint64_t(rate);
  out.queue_packets = uint32_t(queue);
  if (out.loss_burst > 1 && out.loss >= 1) return fail(here + ".loss_burst", "needs loss < 1");
  if (out.loss_burst > 1 && out.loss / (out.loss_burst * (1 - out.loss)) > 1) {
    return fail(here + ".loss_burst", "too short for this loss rate (need loss_burst >= loss/(1-loss))");
  }
  if (const toml::node* n = t->get("reorder")) {
    if (!n->is_boolean()) return fail(here + ".reorder", "must be true or false");
    out.reorder = n->as_boolean()->get();
  }
  if (const toml::node* n = t->get("jitter_distribution")) {
    const std::optional<std::string> s = n->value<std::string>();
    if (s == "uniform") {
      out.jitter_distribution = JitterDistribution::kUniform;
    } else if (s == "normal") {
      out.jitter_distribution = JitterDistribution::kNormal;
    } else {
      return fail(here + ".jitter_distribution", "must be \"uniform\" or \"normal\"");
    }
  }
  return true;
}

bool ProfileParser::read_link(const toml::table& t, const std::string& where, LinkSpec& out) {
  if (!check_keys(t, where, {"name", "a", "b", "a_to_b", "b_to_a"})) return false;
  return read_string(t, "name", where, out.name) && read_endpoint(t, "a", where, out.a) &&
         read_endpoint(t, "b", where, out.b) && read_direction(t, "a_to_b", where, out.a_to_b) &&
         read_direction(t, "b_to_a", where, out.b_to_a);
}

bool ProfileParser::check_unique(const Profile& profile) {
  std::set<std::string> names;
  std::set<std::pair<std::string, std::string>> devices;
  for (const LinkSpec& link : profile.links) {
    if (!names.insert(link.name).second) return fail("link \"" + link.name + "\"", "duplicate link name");
    for (const Endpoint* e : {&link.a, &link.b}) {
      if (!devices.insert({e->netns, e->dev}).second) {
        return fail("link \"" + link.name + "\"", "device " + e->dev + " in netns " + e->netns + " used twice");
      }
    }
  }
  return true;
}

std::optional<Profile> ProfileParser::parse(const toml::table& root) {
  if (!check_keys(root, "top level", {"link"})) return std::nullopt;
  const toml::array* links = root["link"].as_array();
  if (!links || links->empty()) {
    fail("top level", "no [[link]] tables");
    return std::nullopt;
  }
  Profile profile;
  for (size_t i = 0; i < links->size(); ++i) {
    const toml::table* t = (*links)[i].as_table();
    std::string where = "link[" + std::to_string(i) + "]";
    if (!t) {
      fail(where, "must be a table");
      return std::nullopt;
    }
    if (const auto name = (*t)["name"].value<std::string>()) where += " \"" + *name + "\"";
    LinkSpec link;
    if (!read_link(*t, where, link)) return std::nullopt;
    profile.links.push_back(std::move(link));
  }
  if (!check_unique(profile)) return std::nullopt;
  return profile;
}

}  // namespace

ProfileResult parse_profile(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return {std::nullopt, msg.str()};
  }
  ProfileParser parser(source);
  std::optional<Profile> profile = parser.parse(root);
  return {std::move(profile), parser.error()};
}

ProfileResult load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {std::nullopt, path + ": cannot open profile"};
  std::stringstream text;
  text << in.rdbuf();
  return parse_profile(text.str(), path);
}

}  // namespace strata::wan_emu
