#include "loadtest/janus_client.hpp"

#include <chrono>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/random.hpp"
#include "http/client.hpp"

namespace strata::loadtest {

using nlohmann::json;

namespace janus {

namespace {

std::string dump(const json& j) { return j.dump(); }

// Janus ids are 53-bit unsigned integers; accept them as numbers or numeric strings
// (string_ids setups), anything else is 0.
uint64_t id_of(const json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    return i > 0 ? uint64_t(i) : 0;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) return 0;
    uint64_t out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return 0;
      out = out * 10 + uint64_t(c - '0');
    }
    return out;
  }
  return 0;
}

std::string string_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* object_at(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? &*it : nullptr;
}

void read_plugindata(const json& pd, Reply& r) {
  r.plugin = string_at(pd, "plugin");
  const json* data = object_at(pd, "data");
  if (!data) return;
  r.plugin_kind = string_at(*data, "streaming");
  if (auto it = data->find("error_code"); it != data->end() && it->is_number_integer()) {
    r.error_code = it->get<int>();
    r.error = string_at(*data, "error");
  } else if (auto e = data->find("error"); e != data->end() && e->is_string()) {
    r.error_code = -1;  // plugin error without a code
    r.error = e->get<std::string>();
  }
  if (const json* result = object_at(*data, "result")) r.plugin_status = string_at(*result, "status");
}

Reply reply_from(const json& j) {
  Reply r;
  r.janus = string_at(j, "janus");
  r.transaction = string_at(j, "transaction");
  if (auto it = j.find("session_id"); it != j.end()) r.session_id = id_of(*it);
  if (auto it = j.find("sender"); it != j.end()) r.sender = id_of(*it);
  if (const json* data = object_at(j, "data")) {
    if (auto it = data->find("id"); it != data->end()) r.data_id = id_of(*it);
  }
  if (const json* err = object_at(j, "error")) {
    auto code = err->find("code");
    r.error_code = code != err->end() && code->is_number_integer() ? code->get<int>() : -1;
    r.error = string_at(*err, "reason");
  }
  if (const json* pd = object_at(j, "plugindata")) read_plugindata(*pd, r);
  if (const json* jsep = object_at(j, "jsep")) {
    r.jsep_type = string_at(*jsep, "type");
    r.jsep_sdp = string_at(*jsep, "sdp");
  }
  return r;
}

bool is_reply_object(const json& j) {
  auto it = j.find("janus");
  return j.is_object() && it != j.end() && it->is_string();
}

}  // namespace

std::string create_session_body(const std::string& tx) {
  return dump({{"janus", "create"}, {"transaction", tx}});
}

std::string attach_body(const std::string& plugin, const std::string& tx) {
  return dump({{"janus", "attach"}, {"plugin", plugin}, {"transaction", tx}});
}

std::string keepalive_body(const std::string& tx) {
  return dump({{"janus", "keepalive"}, {"transaction", tx}});
}

std::string hangup_body(const std::string& tx) {
  return dump({{"janus", "hangup"}, {"transaction", tx}});
}

std::string destroy_body(const std::string& tx) {
  return dump({{"janus", "destroy"}, {"transaction", tx}});
}

std::string watch_body(uint64_t mountpoint_id, const std::string& tx) {
  return dump({{"janus", "message"},
               {"transaction", tx},
               {"body", {{"request", "watch"}, {"id", mountpoint_id}}}});
}

std::string start_body(const std::string& answer_sdp, const std::string& tx) {
  return dump({{"janus", "message"},
               {"transaction", tx},
               {"body", {{"request", "start"}}},
               {"jsep", {{"type", "answer"}, {"sdp", answer_sdp}}}});
}

std::string info_body(uint64_t mountpoint_id, const std::string& tx) {
  return dump({{"janus", "message"},
               {"transaction", tx},
               {"body", {{"request", "info"}, {"id", mountpoint_id}}}});
}

// Janus >= 1.0 "create" syntax: one "media" entry per stream (the pre-1.0 audioport /
// videoport fields are still accepted but deprecated).
std::string create_rtp_mountpoint_body(uint64_t id, uint16_t video_port, uint16_t audio_port,
                                       const std::string& tx) {
  json audio = {{"type", "audio"}, {"mid", "a"},   {"port", audio_port},       {"pt", 111},
                {"codec", "opus"}, {"iface", "127.0.0.1"}, {"fmtp", "useinbandfec=1"}};
  json video = {{"type", "video"}, {"mid", "v"}, {"port", video_port},
                {"pt", 96},        {"codec", "vp8"}, {"iface", "127.0.0.1"}};
  json body = {{"request", "create"},
               {"type", "rtp"},
               {"id", id},
               {"description", "strata bench source"},
               {"permanent", false},
               {"media", json::array({audio, video})}};
  return dump({{"janus", "message"}, {"transaction", tx}, {"body", body}});
}

std::string long_poll_url(const std::string& base_url, uint64_t session_id, int max_events,
                          uint64_t rid) {
  return base_url + "/" + std::to_string(session_id) + "?maxev=" + std::to_string(max_events) +
         "&rid=" + std::to_string(rid);
}

std::optional<Reply> parse_reply(std::string_view body, std::string* error) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "Janus reply is not JSON";
    return std::nullopt;
  }
  if (!is_reply_object(j)) {
    *error = "Janus reply has no \"janus\" field";
    return std::nullopt;
  }
  return reply_from(j);
}

std::optional<std::vector<Reply>> parse_events(std::string_view body, std::string* error) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    *error = "Janus long poll reply is not JSON";
    return std::nullopt;
  }
  std::vector<Reply> out;
  if (j.is_array()) {
    for (const json& e : j) {
      if (is_reply_object(e)) out.push_back(reply_from(e));
    }
  } else if (is_reply_object(j)) {
    out.push_back(reply_from(j));
  }
  return out;
}

std::string describe_error(const Reply& r, const std::string& what) {
  std::string msg = what + ": " + (r.error.empty() ? "Janus error" : r.error);
  if (r.error_code > 0) msg += " (code " + std::to_string(r.error_code) + ")";
  return msg;
}

}  // namespace janus

namespace {

std::string new_transaction() { return random_hex(12); }

// Sends `body` and parses the reply; an HTTP error status or a Janus error becomes false.
std::optional<janus::Reply> call(const std::string& url, const std::string& body, Duration timeout,
                                 const std::string& what, std::string* error) {
  std::string err;
  auto res = http::http_request("POST", url, {{"Content-Type", "application/json"}}, body, timeout, &err);
  if (!res) {
    *error = what + ": " + err;
    return std::nullopt;
  }
  auto reply = janus::parse_reply(res->body, &err);
  if (!reply) {
    *error = what + ": HTTP " + std::to_string(res->status) + ", " + err;
    return std::nullopt;
  }
  if (reply->has_error()) {
    *error = janus::describe_error(*reply, what);
    return std::nullopt;
  }
  return reply;
}

// Long-polls the session until an event for `transaction` arrives or `timeout` passes.
// Other events (webrtcup, media, slowlink, keepalive) are dropped: each JanusWatch has its
// own session, so nothing else is waiting for them.
std::optional<janus::Reply> wait_event(const std::string& base_url, uint64_t session_id,
                                       const std::string& transaction, Duration timeout,
                                       const std::string& what, std::string* error) {
  SteadyClock clock;
  const Timestamp deadline = clock.now() + timeout;
  while (true) {
    Timestamp now = clock.now();
    if (now >= deadline) {
      *error = what + ": timed out waiting for the Janus event";
      return std::nullopt;
    }
    std::string err;
    auto res = http::http_request("GET", janus::long_poll_url(base_url, session_id, 10, random_u64()),
                                  {}, "", deadline - now, &err);
    if (!res) {
      *error = what + ": long poll: " + err;
      return std::nullopt;
    }
    auto events = janus::parse_events(res->body, &err);
    if (!events) {
      *error = what + ": " + err;
      return std::nullopt;
    }
    for (janus::Reply& ev : *events) {
      if (ev.janus == "error") {  // e.g. 458 "No such session": the session is gone
        *error = janus::describe_error(ev, what);
        return std::nullopt;
      }
      if (ev.janus == "event" && ev.transaction == transaction) return std::move(ev);
    }
  }
}

}  // namespace

JanusClient::JanusClient(std::string base_url) : base_url_(std::move(base_url)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

void JanusClient::set_timeouts(Duration request, Duration event_wait) {
  request_timeout_ = request;
  event_timeout_ = event_wait;
}

std::string JanusClient::session_url(uint64_t session_id) const {
  return base_url_ + "/" + std::to_string(session_id);
}

std::string JanusClient::handle_url(uint64_t session_id, uint64_t handle_id) const {
  return session_url(session_id) + "/" + std::to_string(handle_id);
}

std::optional<uint64_t> JanusClient::create_session(std::string* error) {
  auto r = call(base_url_, janus::create_session_body(new_transaction()), request_timeout_,
                "create session", error);
  if (!r) return std::nullopt;
  if (r->data_id == 0) {
    *error = "create session: reply has no data.id";
    return std::nullopt;
  }
  return r->data_id;
}

std::optional<uint64_t> JanusClient::attach_streaming(uint64_t session_id, std::string* error) {
  auto r = call(session_url(session_id), janus::attach_body(janus::kStreamingPlugin, new_transaction()),
                request_timeout_, "attach streaming plugin", error);
  if (!r) return std::nullopt;
  if (r->data_id == 0) {
    *error = "attach streaming plugin: reply has no data.id";
    return std::nullopt;
  }
  return r->data_id;
}

std::optional<JanusWatch> JanusClient::watch(uint64_t mountpoint_id, std::string* error) {
  JanusWatch w;
  auto session = create_session(error);
  if (!session) return std::nullopt;
  w.session_id = *session;
  auto handle = attach_streaming(w.session_id, error);
  if (!handle) {
    hangup(w);
    return std::nullopt;
  }
  w.handle_id = *handle;
  const std::string tx = new_transaction();
  auto ack = call(handle_url(w.session_id, w.handle_id), janus::watch_body(mountpoint_id, tx),
                  request_timeout_, "watch", error);
  if (!ack) {
    hangup(w);
    return std::nullopt;
  }
  // Synchronous plugins answer "success" directly; the streaming plugin acks and answers
  // on the long poll.
  std::optional<janus::Reply> ev = ack->janus == "ack"
      ? wait_event(base_url_, w.session_id, tx, event_timeout_, "watch", error)
      : ack;
  if (ev && ev->has_error()) *error = janus::describe_error(*ev, "watch");
  if (!ev || ev->has_error() || ev->jsep_type != "offer" || ev->jsep_sdp.empty()) {
    if (ev && !ev->has_error()) *error = "watch: event has no JSEP offer";
    hangup(w);
    return std::nullopt;
  }
  w.offer_sdp = std::move(ev->jsep_sdp);
  return w;
}

bool JanusClient::start(const JanusWatch& w, const std::string& answer_sdp, std::string* error) {
  const std::string tx = new_transaction();
  auto ack = call(handle_url(w.session_id, w.handle_id), janus::start_body(answer_sdp, tx),
                  request_timeout_, "start", error);
  if (!ack) return false;
  if (ack->janus != "ack") return true;
  auto ev = wait_event(base_url_, w.session_id, tx, event_timeout_, "start", error);
  if (!ev) return false;
  if (ev->has_error()) {
    *error = janus::describe_error(*ev, "start");
    return false;
  }
  return true;
}

bool JanusClient::keepalive(const JanusWatch& w, std::string* error) {
  return call(session_url(w.session_id), janus::keepalive_body(new_transaction()), request_timeout_,
              "keepalive", error)
      .has_value();
}

void JanusClient::hangup(const JanusWatch& w) {
  if (w.session_id == 0) return;
  std::string ignored;
  if (w.handle_id != 0) {
    call(handle_url(w.session_id, w.handle_id), janus::hangup_body(new_transaction()), request_timeout_,
         "hangup", &ignored);
  }
  call(session_url(w.session_id), janus::destroy_body(new_transaction()), request_timeout_,
       "destroy session", &ignored);
}

bool janus_create_rtp_mountpoint(const std::string& base_url, uint64_t id, uint16_t video_port,
                                 uint16_t audio_port, std::string* error) {
  JanusClient client(base_url);
  std::string root = base_url;
  while (!root.empty() && root.back() == '/') root.pop_back();
  const Duration timeout = std::chrono::seconds(5);
  auto session = call(root, janus::create_session_body(new_transaction()), timeout, "create session", error);
  if (!session || session->data_id == 0) {
    if (session) *error = "create session: reply has no data.id";
    return false;
  }
  JanusWatch w{session->data_id, 0, {}};
  const std::string session_url = root + "/" + std::to_string(w.session_id);
  auto handle = call(session_url, janus::attach_body(janus::kStreamingPlugin, new_transaction()), timeout,
                     "attach streaming plugin", error);
  bool ok = false;
  if (handle && handle->data_id != 0) {
    w.handle_id = handle->data_id;
    const std::string url = session_url + "/" + std::to_string(w.handle_id);
    std::string info_error;
    // "info" and "create" are synchronous requests: the answer is in the POST reply.
    if (call(url, janus::info_body(id, new_transaction()), timeout, "info", &info_error)) {
      ok = true;
    } else {
      auto created = call(url, janus::create_rtp_mountpoint_body(id, video_port, audio_port, new_transaction()),
                          timeout, "create mountpoint", error);
      ok = created.has_value();
      if (!ok) *error += " (info said: " + info_error + ")";
    }
  } else if (handle) {
    *error = "attach streaming plugin: reply has no data.id";
  }
  client.hangup(w);
  return ok;
}

}  // namespace strata::loadtest
