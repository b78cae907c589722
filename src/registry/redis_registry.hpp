// Redis backend of the cluster registry (docs/ARCHITECTURE.md, "Cluster"), on hiredis (blocking API).
//
// Key layout (per-region keys carry the region so a region can move to its own Redis;
// the stream directory is global):
//
//   strata:region:{region}:node:{id}       string, JSON NodeRecord
//                                            {id, role, region, http_url, cpu, egress_bps,
//                                             sessions, capacity, draining}
//                                            SET ... PX ttl; nodes(region) = SCAN MATCH
//                                            strata:region:{region}:node:* + GET and PTTL
//                                            of each in one script (keys that vanish in
//                                            between are skipped; PTTL is the record's
//                                            ttl_left)
//   strata:stream:{name}                   string, JSON {origin_id, origin_region, origin_url}
//                                            claim = Lua: SET NX PX, else if ours SET PX
//                                            (kAlreadyOurs) else kTaken; refresh/release =
//                                            Lua compare-and-set on origin_id (PEXPIRE/DEL),
//                                            so another origin's claim is never touched;
//                                            streams() = SCAN MATCH strata:stream:* + GET
//   strata:live:{live}:hosts               sorted set, member = host, score = expiry in ms
//                                            (server clock, as relays below) of the host
//                                            stream strata:stream:{live}/{host}; written by
//                                            the claim/refresh/release scripts of a stream
//                                            with '/' in the same step as the claim key
//                                            (ZADD, PEXPIRE only lengthened / ZREM);
//                                            read_live = one script: ZREMRANGEBYSCORE -inf
//                                            now, then GET of each member's claim (a member
//                                            whose claim is gone is ZREMed)
//   strata:region:{region}:relays:{stream} sorted set, member = edge id, score = expiry in
//                                            ms of the Redis server's clock (TIME, read inside
//                                            the Lua script, so clients' clocks never matter);
//                                            put_relay = ZADD + PEXPIRE key (only ever
//                                            lengthened); relays() = ZREMRANGEBYSCORE -inf now
//                                            + ZRANGEBYSCORE (now +inf; remove_relay = ZREM
//   strata:events                          pub/sub channel, JSON {kind, stream, origin_id},
//                                            kind = "stream_ended" | "stream_moved"
//
// Glob characters in a region are escaped in SCAN patterns. Regions and ids should not
// contain ':' (a region "eu:node:x" would alias another region's keys).
//
// Connections. Commands share one connection guarded by a mutex, with connect and command
// timeouts (500 ms by default). Any I/O error marks the registry unhealthy and frees the
// connection; the next call reconnects, at most once per reconnect_interval (200 ms):
// calls in between fail fast. Nothing throws; a call blocks at most about one timeout
// per Redis command it issues. subscribe() runs one registry-owned thread with its own
// connection (SUBSCRIBE strata:events) that reconnects with backoff (100 ms doubling to
// 1 s) while Redis is away; handlers run on that thread. The first subscribe() waits up
// to the connect timeout for the subscription to be live, so an event published right
// after it returns is received.
//
// SIGPIPE: hiredis writes with write(2); the constructor sets SIGPIPE to SIG_IGN (if it is
// still SIG_DFL) so a dead Redis socket gives EPIPE instead of killing the process.
//
// The Clock passed to make_registry is not used for TTLs here: Redis expires keys on its
// own clock, and reconnect pacing is real (steady) time because it is about real sockets.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "registry/registry.hpp"

struct redisContext;
struct redisReply;

namespace strata::registry {

class RedisRegistry final : public Registry {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::chrono::milliseconds connect_timeout{500};
    std::chrono::milliseconds command_timeout{500};
    std::chrono::milliseconds reconnect_interval{200};
  };

  explicit RedisRegistry(Options options);
  ~RedisRegistry() override;
  RedisRegistry(const RedisRegistry&) = delete;
  RedisRegistry& operator=(const RedisRegistry&) = delete;

  bool put_node(const NodeRecord& node, Duration ttl) override;
  bool remove_node(const NodeRecord& node) override;
  Read<std::vector<NodeRecord>> read_nodes(std::string_view region) override;

  ClaimResult claim_stream(const StreamClaim& claim, Duration ttl) override;
  bool refresh_claim(const StreamClaim& claim, Duration ttl) override;
  bool release_claim(const StreamClaim& claim) override;
  Read<std::optional<StreamClaim>> read_stream(std::string_view name) override;
  Read<std::vector<StreamClaim>> read_streams() override;
  Read<std::vector<StreamClaim>> read_live(std::string_view live) override;

  bool put_relay(std::string_view region, std::string_view stream, std::string_view edge_id, Duration ttl) override;
  bool remove_relay(std::string_view region, std::string_view stream, std::string_view edge_id) override;
  Read<std::vector<std::string>> read_relays(std::string_view region, std::string_view stream) override;

  bool publish(const Event& event) override;
  void subscribe(std::function<void(const Event&)> handler) override;

  bool healthy() override;

  // Key names (public for tests and docs).
  static std::string node_key(std::string_view region, std::string_view id);
  static std::string stream_key(std::string_view name);
  static std::string live_hosts_key(std::string_view live);
  static std::string relays_key(std::string_view region, std::string_view stream);
  static constexpr const char* kEventsChannel = "strata:events";

 private:
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;
  using Handler = std::function<void(const Event&)>;

  // Runs one command on the shared connection; nullptr on I/O failure (connection
  // dropped) or when not connected. Redis error replies are returned (check type).
  ReplyPtr command(const std::vector<std::string>& args);
  ReplyPtr command_locked(const std::vector<std::string>& args);  // cmd_mu_ held
  bool ensure_connected_locked();
  void drop_connection_locked();
  redisContext* connect() const;  // a fresh context with timeouts set, or nullptr

  // nullopt when a command failed (so a failed read is never mistaken for "no keys").
  std::optional<std::vector<std::string>> scan_keys(const std::string& pattern);
  struct ValueTtl {
    std::optional<std::string> value;  // nullopt: the key expired in between
    Duration ttl_left = Duration::max();
  };
  // GET and PTTL of every key in one round trip (a Lua script).
  std::optional<std::vector<ValueTtl>> get_with_ttl(const std::vector<std::string>& keys);

  // Subscriber thread.
  void subscriber_loop();
  bool pump_subscription(redisContext* ctx);  // false when the connection broke or stopping
  void deliver_message(redisReply* reply);
  void sleep_interruptible(std::chrono::milliseconds d);

  const Options options_;

  std::mutex cmd_mu_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point last_attempt_{};
  bool ever_attempted_ = false;
  std::atomic<bool> healthy_{false};

  std::mutex sub_mu_;
  std::condition_variable sub_cv_;
  std::vector<Handler> handlers_;
  bool subscribed_ = false;  // the subscriber connection is live
  std::thread subscriber_;
  std::atomic<bool> stopping_{false};
  int wake_pipe_[2] = {-1, -1};  // wakes the subscriber's poll() on shutdown
};

}  // namespace strata::registry
