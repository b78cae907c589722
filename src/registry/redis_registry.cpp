#include "registry/redis_registry.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "registry/registry_json.hpp"

namespace strata::registry {
namespace {

using namespace std::chrono_literals;

// A host stream's claim scripts also keep the live's hosts set (KEYS[2], absent for a stream
// without '/'), in the same atomic step as the claim key: member = host, score = expiry in ms
// on the server's clock, as the claim's own PX. The set's TTL is only lengthened, so one
// host's short TTL never drops the others. Prepended to the scripts below.
constexpr const char* kHostsHelpers = R"lua(
local function touch_host(host, ttl_ms)
  if not KEYS[2] then return end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local ttl = tonumber(ttl_ms)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%.0f', now))
  redis.call('ZADD', KEYS[2], string.format('%.0f', now + ttl), host)
  if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl_ms) end
end
local function drop_host(host)
  if KEYS[2] then redis.call('ZREM', KEYS[2], host) end
end
)lua";

// Claim: 0 = claimed, 1 = already ours (value and TTL refreshed), 2 = taken by another.
// ARGV: json, ttl_ms, origin_id[, host].
const std::string kClaimScript = std::string(kHostsHelpers) + R"lua(
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  touch_host(ARGV[4], ARGV[2])
  return 0
end
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  touch_host(ARGV[4], ARGV[2])
  return 0
end
local ok, doc = pcall(cjson.decode, cur)
if ok and type(doc) == 'table' and doc.origin_id == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  touch_host(ARGV[4], ARGV[2])
  return 1
end
return 2
)lua";

// Compare-and-set on the claim's origin_id. ARGV: origin_id, ttl_ms[, host]. 1 = refreshed.
const std::string kRefreshScript = std::string(kHostsHelpers) + R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, doc = pcall(cjson.decode, cur)
if ok and type(doc) == 'table' and doc.origin_id == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  touch_host(ARGV[3], ARGV[2])
  return 1
end
return 0
)lua";

// ARGV: origin_id[, host]. 1 = deleted.
const std::string kReleaseScript = std::string(kHostsHelpers) + R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, doc = pcall(cjson.decode, cur)
if ok and type(doc) == 'table' and doc.origin_id == ARGV[1] then
  redis.call('DEL', KEYS[1])
  drop_host(ARGV[2])
  return 1
end
return 0
)lua";

// A live's hosts: prunes expired members (score <= now), then GETs each member's claim
// (ARGV[1] = the claim key prefix "strata:stream:{live}/") and returns {host1, value1, ...}
// for the claims that exist; a member whose claim key is gone is removed as well. (The claim
// keys are not in KEYS: fine on the one Redis this backend runs on, like its SCANs.)
constexpr const char* kLiveScript = R"lua(
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, host in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local value = redis.call('GET', ARGV[1] .. host)
  if value then
    out[#out + 1] = host
    out[#out + 1] = value
  else
    redis.call('ZREM', KEYS[1], host)
  end
end
return out
)lua";

// Scores are expiry times on the server's clock (ms). The key's TTL is only lengthened,
// so one edge's short TTL never drops the others. ARGV: edge_id, ttl_ms.
constexpr const char* kPutRelayScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl), ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1
)lua";

// Prunes expired members (score <= now) and returns the live ones.
constexpr const char* kRelaysScript = R"lua(
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
)lua";

// GET and PTTL of every key: {value1, pttl1, value2, pttl2, ...}; a missing key gives
// false (nil in the reply) and PTTL -2.
constexpr const char* kGetWithTtlScript = R"lua(
local out = {}
for i, k in ipairs(KEYS) do
  out[2 * i - 1] = redis.call('GET', k)
  out[2 * i] = redis.call('PTTL', k)
end
return out
)lua";

constexpr auto kSubscribeBackoffMin = 100ms;
constexpr auto kSubscribeBackoffMax = 1000ms;

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// PX takes whole milliseconds; a TTL under 1 ms is rejected by both backends.
std::optional<std::string> ttl_ms(Duration ttl) {
  int64_t ms = to_millis(ttl);
  if (ms < 1) return std::nullopt;
  return std::to_string(ms);
}

// SCAN MATCH uses glob patterns: escape the caller's text so "*" in a region is literal.
std::string glob_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

std::string_view reply_string(const redisReply* r) { return {r->str, r->len}; }

bool is_ok_status(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STATUS && reply_string(r) == "OK";
}

// EVAL of a claim script on `stream`'s key; for a host stream ("{live}/{host}") also the
// live's hosts set as KEYS[2] and the host as the last ARGV.
std::vector<std::string> claim_eval(const std::string& script, std::string_view stream,
                                    std::vector<std::string> argv) {
  const bool hosted = stream.find('/') != std::string_view::npos;
  std::vector<std::string> args{"EVAL", script, hosted ? "2" : "1", RedisRegistry::stream_key(stream)};
  if (hosted) {
    auto [live, host] = split_host_stream(stream);
    args.push_back(RedisRegistry::live_hosts_key(live));
    argv.emplace_back(host);
  }
  args.insert(args.end(), std::make_move_iterator(argv.begin()), std::make_move_iterator(argv.end()));
  return args;
}

}  // namespace

void RedisRegistry::ReplyDeleter::operator()(redisReply* reply) const {
  if (reply) freeReplyObject(reply);
}

RedisRegistry::RedisRegistry(Options options) : options_(std::move(options)) {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    signal(SIGPIPE, SIG_IGN);
  }
  if (pipe(wake_pipe_) != 0) wake_pipe_[0] = wake_pipe_[1] = -1;
}

RedisRegistry::~RedisRegistry() {
  stopping_ = true;
  if (wake_pipe_[1] >= 0) {
    char byte = 1;
    [[maybe_unused]] ssize_t n = write(wake_pipe_[1], &byte, 1);
  }
  sub_cv_.notify_all();
  if (subscriber_.joinable()) subscriber_.join();
  for (int fd : wake_pipe_) {
    if (fd >= 0) close(fd);
  }
  std::lock_guard lock(cmd_mu_);
  drop_connection_locked();
}

std::string RedisRegistry::node_key(std::string_view region, std::string_view id) {
  return "strata:region:" + std::string(region) + ":node:" + std::string(id);
}

std::string RedisRegistry::stream_key(std::string_view name) {
  return "strata:stream:" + std::string(name);
}

std::string RedisRegistry::live_hosts_key(std::string_view live) {
  return "strata:live:" + std::string(live) + ":hosts";
}

std::string RedisRegistry::relays_key(std::string_view region, std::string_view stream) {
  return "strata:region:" + std::string(region) + ":relays:" + std::string(stream);
}

// ---- connection -------------------------------------------------------------------

redisContext* RedisRegistry::connect() const {
  redisContext* ctx =
      redisConnectWithTimeout(options_.host.c_str(), options_.port, to_timeval(options_.connect_timeout));
  if (!ctx) return nullptr;
  if (ctx->err || redisSetTimeout(ctx, to_timeval(options_.command_timeout)) != REDIS_OK) {
    redisFree(ctx);
    return nullptr;
  }
  redisEnableKeepAlive(ctx);
  return ctx;
}

bool RedisRegistry::ensure_connected_locked() {
  if (ctx_) return true;
  const auto now = std::chrono::steady_clock::now();
  if (ever_attempted_ && now - last_attempt_ < options_.reconnect_interval) return false;
  ever_attempted_ = true;
  last_attempt_ = now;
  ctx_ = connect();
  healthy_ = ctx_ != nullptr;
  return ctx_ != nullptr;
}

void RedisRegistry::drop_connection_locked() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
  healthy_ = false;
  // Pace the next attempt from the failure, so calls in between fail fast.
  ever_attempted_ = true;
  last_attempt_ = std::chrono::steady_clock::now();
}

RedisRegistry::ReplyPtr RedisRegistry::command_locked(const std::vector<std::string>& args) {
  if (!ensure_connected_locked()) return nullptr;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data()));
  if (!raw || ctx_->err) {
    if (raw) freeReplyObject(raw);
    drop_connection_locked();
    return nullptr;
  }
  return ReplyPtr(raw);
}

RedisRegistry::ReplyPtr RedisRegistry::command(const std::vector<std::string>& args) {
  std::lock_guard lock(cmd_mu_);
  return command_locked(args);
}

bool RedisRegistry::healthy() {
  auto reply = command({"PING"});
  return reply && reply->type == REDIS_REPLY_STATUS;
}

std::optional<std::vector<std::string>> RedisRegistry::scan_keys(const std::string& pattern) {
  std::set<std::string> keys;  // SCAN may return a key more than once
  std::string cursor = "0";
  do {
    auto reply = command({"SCAN", cursor, "MATCH", pattern, "COUNT", "200"});
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return std::nullopt;
    const redisReply* next = reply->element[0];
    const redisReply* batch = reply->element[1];
    if (next->type != REDIS_REPLY_STRING || batch->type != REDIS_REPLY_ARRAY) return std::nullopt;
    cursor = std::string(reply_string(next));
    for (size_t i = 0; i < batch->elements; ++i) {
      if (batch->element[i]->type == REDIS_REPLY_STRING) keys.emplace(reply_string(batch->element[i]));
    }
  } while (cursor != "0");
  return std::vector<std::string>(keys.begin(), keys.end());
}

std::optional<std::vector<RedisRegistry::ValueTtl>> RedisRegistry::get_with_ttl(const std::vector<std::string>& keys) {
  if (keys.empty()) return std::vector<ValueTtl>{};
  std::vector<std::string> args{"EVAL", kGetWithTtlScript, std::to_string(keys.size())};
  args.insert(args.end(), keys.begin(), keys.end());
  auto reply = command(args);
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 * keys.size()) return std::nullopt;
  std::vector<ValueTtl> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const redisReply* value = reply->element[2 * i];
    const redisReply* pttl = reply->element[2 * i + 1];
    if (value->type == REDIS_REPLY_STRING) out[i].value = std::string(reply_string(value));
    // PTTL: -2 no key, -1 no expiry (never written so by us; "not known").
    if (pttl->type == REDIS_REPLY_INTEGER && pttl->integer >= 0) out[i].ttl_left = std::chrono::milliseconds(pttl->integer);
    if (pttl->type == REDIS_REPLY_INTEGER && pttl->integer == -2) out[i].value.reset();
  }
  return out;
}

// ---- nodes ------------------------------------------------------------------------

bool RedisRegistry::put_node(const NodeRecord& node, Duration ttl) {
  auto ms = ttl_ms(ttl);
  if (!ms || node.id.empty()) return false;
  return is_ok_status(command({"SET", node_key(node.region, node.id), node_to_json(node), "PX", *ms}).get());
}

bool RedisRegistry::remove_node(const NodeRecord& node) {
  auto reply = command({"DEL", node_key(node.region, node.id)});
  return reply && reply->type == REDIS_REPLY_INTEGER;
}

Read<std::vector<NodeRecord>> RedisRegistry::read_nodes(std::string_view region) {
  auto keys = scan_keys("strata:region:" + glob_escape(region) + ":node:*");
  if (!keys) return {};
  auto values = get_with_ttl(*keys);
  if (!values) return {};
  Read<std::vector<NodeRecord>> out{{}, true};
  for (auto& v : *values) {
    if (!v.value) continue;  // expired between SCAN and GET
    auto node = node_from_json(*v.value);
    if (!node || node->region != region) continue;
    node->ttl_left = v.ttl_left;
    out.value.push_back(std::move(*node));
  }
  std::sort(out.value.begin(), out.value.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

// ---- stream directory ---------------------------------------------------------------

ClaimResult RedisRegistry::claim_stream(const StreamClaim& claim, Duration ttl) {
  auto ms = ttl_ms(ttl);
  if (!ms || claim.stream.empty() || claim.origin_id.empty()) return ClaimResult::kError;
  auto reply = command(claim_eval(kClaimScript, claim.stream, {claim_to_json(claim), *ms, claim.origin_id}));
  if (!reply || reply->type != REDIS_REPLY_INTEGER) return ClaimResult::kError;
  switch (reply->integer) {
    case 0: return ClaimResult::kClaimed;
    case 1: return ClaimResult::kAlreadyOurs;
    case 2: return ClaimResult::kTaken;
    default: return ClaimResult::kError;
  }
}

bool RedisRegistry::refresh_claim(const StreamClaim& claim, Duration ttl) {
  auto ms = ttl_ms(ttl);
  if (!ms || claim.stream.empty()) return false;
  auto reply = command(claim_eval(kRefreshScript, claim.stream, {claim.origin_id, *ms}));
  return reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

bool RedisRegistry::release_claim(const StreamClaim& claim) {
  if (claim.stream.empty()) return false;
  auto reply = command(claim_eval(kReleaseScript, claim.stream, {claim.origin_id}));
  return reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

Read<std::optional<StreamClaim>> RedisRegistry::read_stream(std::string_view name) {
  if (name.empty()) return {std::nullopt, true};
  auto reply = command({"GET", stream_key(name)});
  if (!reply) return {};
  if (reply->type == REDIS_REPLY_NIL) return {std::nullopt, true};
  if (reply->type != REDIS_REPLY_STRING) return {};
  // A claim this node cannot read is no claim it could redirect to.
  return {claim_from_json(name, reply_string(reply.get())), true};
}

Read<std::vector<StreamClaim>> RedisRegistry::read_streams() {
  static const std::string kPrefix = "strata:stream:";
  auto keys = scan_keys(kPrefix + "*");
  if (!keys) return {};
  auto values = get_with_ttl(*keys);
  if (!values) return {};
  Read<std::vector<StreamClaim>> out{{}, true};
  for (size_t i = 0; i < values->size(); ++i) {
    if (!(*values)[i].value) continue;
    std::string_view name = std::string_view((*keys)[i]).substr(kPrefix.size());
    if (auto claim = claim_from_json(name, *(*values)[i].value)) out.value.push_back(std::move(*claim));
  }
  return out;  // keys came sorted from scan_keys
}

Read<std::vector<StreamClaim>> RedisRegistry::read_live(std::string_view live) {
  if (live.empty()) return {{}, true};
  const std::string prefix = stream_key(host_stream(live, ""));
  auto reply = command({"EVAL", kLiveScript, "1", live_hosts_key(live), prefix});
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) return {};
  Read<std::vector<StreamClaim>> out{{}, true};
  for (size_t i = 0; i + 1 < reply->elements; i += 2) {
    const redisReply* host = reply->element[i];
    const redisReply* value = reply->element[i + 1];
    if (host->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) return {};
    if (auto claim = claim_from_json(host_stream(live, reply_string(host)), reply_string(value))) {
      out.value.push_back(std::move(*claim));
    }
  }
  std::sort(out.value.begin(), out.value.end(), [](const auto& a, const auto& b) { return a.stream < b.stream; });
  return out;
}

// ---- relays ---------------------------------------------------------------------

bool RedisRegistry::put_relay(std::string_view region, std::string_view stream, std::string_view edge_id,
                              Duration ttl) {
  auto ms = ttl_ms(ttl);
  if (!ms || stream.empty() || edge_id.empty()) return false;
  auto reply = command({"EVAL", kPutRelayScript, "1", relays_key(region, stream), std::string(edge_id), *ms});
  return reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
}

bool RedisRegistry::remove_relay(std::string_view region, std::string_view stream, std::string_view edge_id) {
  auto reply = command({"ZREM", relays_key(region, stream), std::string(edge_id)});
  return reply && reply->type == REDIS_REPLY_INTEGER;
}

Read<std::vector<std::string>> RedisRegistry::read_relays(std::string_view region, std::string_view stream) {
  auto reply = command({"EVAL", kRelaysScript, "1", relays_key(region, stream)});
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return {};
  Read<std::vector<std::string>> out{{}, true};
  for (size_t i = 0; i < reply->elements; ++i) {
    if (reply->element[i]->type == REDIS_REPLY_STRING) out.value.emplace_back(reply_string(reply->element[i]));
  }
  std::sort(out.value.begin(), out.value.end());
  return out;
}

// ---- events -----------------------------------------------------------------------

bool RedisRegistry::publish(const Event& event) {
  auto reply = command({"PUBLISH", kEventsChannel, event_to_json(event)});
  return reply && reply->type == REDIS_REPLY_INTEGER;
}

void RedisRegistry::subscribe(std::function<void(const Event&)> handler) {
  if (!handler) return;
  std::unique_lock lock(sub_mu_);
  handlers_.push_back(std::move(handler));
  if (subscriber_.joinable()) return;
  subscriber_ = std::thread([this] { subscriber_loop(); });
  // Wait (bounded) for the subscription to be live so the caller does not miss events
  // published right after subscribe() returns. If Redis is down, give up quietly: the
  // thread keeps retrying.
  sub_cv_.wait_for(lock, options_.connect_timeout + options_.command_timeout,
                   [this] { return subscribed_ || stopping_; });
}

void RedisRegistry::sleep_interruptible(std::chrono::milliseconds d) {
  pollfd pfd{wake_pipe_[0], POLLIN, 0};
  poll(&pfd, wake_pipe_[0] >= 0 ? 1 : 0, static_cast<int>(d.count()));
}

void RedisRegistry::subscriber_loop() {
  auto backoff = std::chrono::milliseconds(kSubscribeBackoffMin);
  while (!stopping_) {
    redisContext* ctx = connect();
    if (ctx) {
      auto* raw = static_cast<redisReply*>(redisCommand(ctx, "SUBSCRIBE %s", kEventsChannel));
      ReplyPtr confirm(raw);
      if (confirm && !ctx->err && confirm->type == REDIS_REPLY_ARRAY) {
        {
          std::lock_guard lock(sub_mu_);
          subscribed_ = true;
        }
        sub_cv_.notify_all();
        backoff = kSubscribeBackoffMin;
        pump_subscription(ctx);
        std::lock_guard lock(sub_mu_);
        subscribed_ = false;
      }
      redisFree(ctx);
    }
    if (stopping_) break;
    sleep_interruptible(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kSubscribeBackoffMax);
  }
}

bool RedisRegistry::pump_subscription(redisContext* ctx) {
  while (!stopping_) {
    // Drain replies already buffered (several messages can arrive in one read).
    void* raw = nullptr;
    while (true) {
      if (redisGetReplyFromReader(ctx, &raw) != REDIS_OK) return false;
      if (!raw) break;
      ReplyPtr reply(static_cast<redisReply*>(raw));
      deliver_message(reply.get());
    }
    pollfd pfds[2] = {{ctx->fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int n = poll(pfds, wake_pipe_[0] >= 0 ? 2 : 1, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (stopping_) return false;
    if (n == 0) continue;
    if (pfds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
      if (redisBufferRead(ctx) != REDIS_OK) return false;  // EOF: Redis went away
    }
  }
  return false;
}

void RedisRegistry::deliver_message(redisReply* reply) {
  // ["message", channel, payload]
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return;
  if (reply->element[0]->type != REDIS_REPLY_STRING || reply_string(reply->element[0]) != "message") return;
  if (reply->element[2]->type != REDIS_REPLY_STRING) return;
  auto event = event_from_json(reply_string(reply->element[2]));
  if (!event) return;
  std::vector<Handler> handlers;
  {
    std::lock_guard lock(sub_mu_);
    handlers = handlers_;
  }
  for (const auto& handler : handlers) handler(*event);
}

}  // namespace strata::registry
