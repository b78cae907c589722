#include "http/access_gate.hpp"

#include <chrono>

namespace strata::http {
namespace {

int64_t system_unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr const char* kActions[] = {"publish", "view", "admin"};
constexpr const char* kKinds[] = {"bearer", "access_token", "ticket", "none"};
constexpr const char* kResults[] = {"token", "ticket", "unauthorized", "forbidden"};

}  // namespace

auth::Credentials credentials_of(const Request& request) {
  auth::Credentials c;
  c.authorization = request.header("Authorization");
  if (auto it = request.query_params.find("access_token"); it != request.query_params.end()) c.access_token = it->second;
  if (auto it = request.query_params.find("ticket"); it != request.query_params.end()) c.ticket = it->second;
  return c;
}

Response denial_response(const auth::Denial& denial) {
  Response r = error_response(denial.status, denial.error, denial.detail);
  if (!denial.www_authenticate.empty()) r.set_header("WWW-Authenticate", denial.www_authenticate);
  // A token or ticket decides per request: nothing about this answer may be cached.
  r.set_header("Cache-Control", "no-store");
  return r;
}

AccessGate::AccessGate(auth::AccessPolicy policy, std::function<int64_t()> unix_now)
    : policy_(std::move(policy)), unix_now_(unix_now ? std::move(unix_now) : system_unix_now) {}

std::variant<auth::Permit, Response> AccessGate::check(const Request& request, auth::Action action,
                                                       const std::string& live, const std::string& host) const {
  const auth::Credentials credentials = credentials_of(request);
  auto result = policy_.check({action, live, host}, credentials, unix_now_());
  if (enabled()) count(action, credentials, result);
  if (auto* d = std::get_if<auth::Denial>(&result)) return denial_response(*d);
  return std::get<auth::Permit>(std::move(result));
}

void AccessGate::count(auth::Action action, const auth::Credentials& c,
                       const std::variant<auth::Permit, auth::Denial>& result) const {
  Counts& n = counts_[size_t(action)];
  if (c.authorization) ++n.credentials[0];
  if (c.access_token) ++n.credentials[1];
  if (c.ticket) ++n.credentials[2];
  if (!c.authorization && !c.access_token && !c.ticket) ++n.credentials[3];
  if (auto* p = std::get_if<auth::Permit>(&result)) {
    ++n.decisions[p->by_ticket ? 1 : 0];
  } else {
    ++n.decisions[std::get<auth::Denial>(result).status == 401 ? 2 : 3];
  }
}

std::string AccessGate::metrics_text() const {
  if (!enabled()) return {};
  std::string out =
      "# HELP strata_auth_credentials_total credentials presented to access control, by action and kind\n"
      "# TYPE strata_auth_credentials_total counter\n";
  for (size_t a = 0; a < 3; ++a)
    for (size_t k = 0; k < 4; ++k)
      out += std::string("strata_auth_credentials_total{action=\"") + kActions[a] + "\",kind=\"" + kKinds[k] + "\"} " +
             std::to_string(counts_[a].credentials[k].load()) + "\n";
  out += "# HELP strata_auth_decisions_total access-control decisions, by action and result\n"
         "# TYPE strata_auth_decisions_total counter\n";
  for (size_t a = 0; a < 3; ++a)
    for (size_t r = 0; r < 4; ++r)
      out += std::string("strata_auth_decisions_total{action=\"") + kActions[a] + "\",result=\"" + kResults[r] + "\"} " +
             std::to_string(counts_[a].decisions[r].load()) + "\n";
  return out;
}

}  // namespace strata::http
