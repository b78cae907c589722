// STUN / ICE-lite fuzz body: the whole server-side STUN path a datagram can reach.
#include <string_view>
#include <vector>

#include "common/socket_address.hpp"
#include "common/time.hpp"
#include "ice/ice_lite_agent.hpp"
#include "stun/message.hpp"
#include "targets.hpp"

namespace strata::fuzz {
namespace {

// Credentials of the RFC 5769 §2.1 request (USERNAME "evtj:h6vY"), so that seed passes
// authentication and the fuzzer starts from the success path.
constexpr std::string_view kLocalUfrag = "evtj";
constexpr std::string_view kRemoteUfrag = "h6vY";
constexpr std::string_view kPassword = "VOkJxbRl1RmTxUk/WvJxBt";

volatile size_t g_sink = 0;

void exercise_message(const stun::Message& m) {
  size_t sum = m.type() + size_t(m.message_class()) + m.method() + m.is_binding_request() + m.raw().size();
  for (uint16_t type : {stun::attr::kMappedAddress, stun::attr::kUsername, stun::attr::kRealm,
                        stun::attr::kSoftware, stun::attr::kUnknownAttributes}) {
    if (auto a = m.attribute(type)) sum += a->size();
  }
  if (auto u = m.username()) sum += u->size();
  if (auto p = m.priority()) sum += *p;
  if (auto t = m.ice_controlling()) sum += size_t(*t);
  if (auto t = m.ice_controlled()) sum += size_t(*t);
  if (auto a = m.xor_mapped_address()) sum += a->port() + a->to_string().size();
  if (auto e = m.error_code()) sum += e->code + e->reason.size();
  if (auto f = m.fingerprint()) sum += *f;
  if (auto mi = m.message_integrity()) sum += mi->size();
  sum += m.use_candidate();
  sum += m.verify_message_integrity(kPassword) + m.verify_message_integrity("");
  sum += m.verify_fingerprint();
  g_sink = g_sink + sum;
}

// A fresh agent per input keeps runs reproducible. Two checks from different addresses,
// 10 s apart, cover nomination, the silence-based switch and consent bookkeeping.
void exercise_agent(ByteSpan data) {
  ice::IceLiteAgent agent{std::string(kLocalUfrag), std::string(kPassword), std::string(kRemoteUfrag)};
  const Timestamp t0 = FakeClock().now();
  const auto a = *SocketAddress::parse("192.0.2.1:5000");
  const auto b = *SocketAddress::parse("[2001:db8::1]:6000");
  for (auto [from, now] : {std::pair{a, t0}, std::pair{b, t0 + std::chrono::seconds(10)}}) {
    auto r = agent.handle_binding(data, from, now);
    if (r.response) {
      // Whatever we send back must be a valid STUN message signed with our password.
      auto reply = stun::Message::parse(*r.response);
      STRATA_FUZZ_CHECK("stun", reply.has_value());
      STRATA_FUZZ_CHECK("stun", reply->verify_message_integrity(kPassword));
      STRATA_FUZZ_CHECK("stun", reply->verify_fingerprint());
    }
    agent.handle_timeout(now);
  }
  g_sink = g_sink + agent.counters().malformed + agent.consent_expired(t0 + std::chrono::seconds(60)) +
           agent.selected_address().has_value() + size_t(agent.state());
}

}  // namespace

int stun_one_input(const uint8_t* data, size_t size) {
  // Exact-size heap copy so ASan catches any read past the end.
  const std::vector<uint8_t> buf(data, data + size);
  const ByteSpan span(buf.data(), buf.size());
  size_t sum = stun::looks_like_stun(span);
  if (auto u = stun::peek_username(span)) {
    // The peeked view must lie inside the datagram.
    STRATA_FUZZ_CHECK("stun", u->empty() || (reinterpret_cast<const uint8_t*>(u->data()) >= buf.data() &&
                                             reinterpret_cast<const uint8_t*>(u->data()) + u->size() <=
                                                 buf.data() + buf.size()));
    sum += u->size();
  }
  sum += stun::verify_message_integrity(span, kPassword) + stun::verify_fingerprint(span);
  if (auto m = stun::Message::parse(span)) exercise_message(*m);
  exercise_agent(span);
  g_sink = g_sink + sum;
  return 0;
}

}  // namespace strata::fuzz
