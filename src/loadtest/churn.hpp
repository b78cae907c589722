// The churn scenario (soak runs, bench/scenarios/README.md): a steady population of viewers
// with joins and leaves at fixed rates, and a host restart on a period (its publisher
// session DELETEd, then published again under the same name).
//
// A live ends with its only host: the server closes the live's viewers (RTCP BYE, DTLS
// close_notify; signaling::SessionManager::end_stream_locked), so a restart ends them all.
// The driver re-joins every viewer a restart ended, as a player that reloads would, and
// reports how long each took to show a picture again. A viewer the server never told
// (no BYE, no failure) but that gets no media 5 s after the restart is left and re-joined
// too, and counted apart ("silent"), so a lost BYE shows up instead of a viewer stuck
// on a dead session.
//
// The driver only decides what happens when; the bench runner does it (ChurnActions), so
// a unit test can drive the same schedule with a fake.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time.hpp"
#include "loadtest/report.hpp"
#include "loadtest/scenario.hpp"
#include "loadtest/viewer.hpp"

namespace strata::loadtest {

struct EndedSession {
  uint64_t id = 0;
  bool bye = false;               // the server said goodbye (RTCP BYE)
  bool signaling_failed = false;  // the WHEP POST never got a 201
};

// What a viewer looks like right now, for the check after a restart.
struct ViewerProbe {
  bool has_session = false;  // false: the WHEP POST has not succeeded (yet)
  Timestamp post_sent{}, last_media{};
};

class ChurnActions {
 public:
  virtual ~ChurnActions() = default;
  virtual Timestamp now() = 0;
  virtual void wait_until(Timestamp t) = 0;  // the bench's own per-second work runs meanwhile
  virtual uint64_t join(int host) = 0;       // a viewer of `host`; the WHEP POST runs in the background
  virtual void leave(uint64_t id) = 0;       // WHEP DELETE and close
  // Sessions that ended without leave() since the last call (closed by this call), and
  // joins whose signaling failed.
  virtual std::vector<EndedSession> take_ended() = 0;
  virtual std::unordered_map<uint64_t, ViewerProbe> probe(const std::vector<uint64_t>& ids) = 0;
  // DELETE the host's publisher session (returns once the server answered) and stop it.
  virtual void stop_host(int host) = 0;
  virtual bool start_host(int host, std::string* error) = 0;  // WHIP POST under the same name
  virtual bool host_sending(int host) = 0;                   // ICE + DTLS up, media going out
  // After the run: a session's stats, nullptr when it never had one (signaling failed).
  virtual const ViewerStats* stats(uint64_t id) = 0;
};

class ChurnDriver {
 public:
  // After a restart, a viewer neither ended nor receiving by then is "silent".
  static constexpr Duration kCheckAfter = std::chrono::seconds(5);
  static constexpr Duration kSilentFor = std::chrono::seconds(2);
  // Leaves pick viewers at least this old, so every counted session had a chance to get
  // media (the report's "no media within >= 3 s" rule).
  static constexpr Duration kMinAge = std::chrono::seconds(3);

  ChurnDriver(const ChurnBehaviour& churn, int hosts, double duration_s, ChurnActions& actions);
  static double ramp_seconds(const ChurnBehaviour& c) { return c.ramp > 0 ? c.viewers / c.ramp : 0; }

  void run();                // returns duration_s after it started
  ChurnReport report(Timestamp end);  // after the run; `end` closes sessions still open

 private:
  struct Member {
    uint64_t id = 0;
    int host = 0;
    Timestamp joined{};
  };
  struct Started {  // every session, for the report
    uint64_t id = 0;
    int host = 0;
  };
  struct Delayed {  // a re-join after a signaling failure
    Timestamp at{};
    int host = 0, restart = -1;  // -1: not for a restart
  };
  struct Restart {
    HostRestartReport report;
    Timestamp at{}, deleted{}, retry_at{};  // DELETE sent, DELETE answered, next WHIP attempt
    bool publishing = false, sending = false, checked = false;
    std::vector<uint64_t> rejoins;
  };

  Timestamp next_event() const;
  void step(Timestamp now);
  void ramp_and_churn(Timestamp now);
  uint64_t join_member(int host, Timestamp now);
  void remove_member(uint64_t id);
  bool leave_random(Timestamp now);
  void begin_restart(int host, Timestamp now);
  void publish(Restart& r, Timestamp now);
  void poll(Timestamp now);
  void on_ended(const EndedSession& e, Timestamp now);
  void rejoin(int host, int restart, Timestamp now);
  void check_restart(Restart& r, size_t index, Timestamp now);
  bool restart_active() const;  // a restart not yet checked, or its host not yet sending
  Timestamp ramp_at(int i) const { return start_ + seconds(c_.ramp > 0 ? i / c_.ramp : 0); }  // i-th initial join
  void fill_restart_figures(Restart& r);
  bool cut_by_restart(int host, Timestamp post_sent, Timestamp stop) const;
  Duration seconds(double s) const { return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s)); }

  ChurnBehaviour c_;
  int hosts_;
  double duration_s_;
  ChurnActions& a_;
  std::mt19937_64 rng_;
  Timestamp start_{}, end_{};
  Timestamp next_join_ = kNever, next_leave_ = kNever, next_restart_ = kNever, next_poll_{};
  int ramp_joined_ = 0, restart_count_ = 0, owed_leaves_ = 0;
  std::vector<Member> members_;
  std::unordered_map<uint64_t, size_t> member_index_;
  std::unordered_map<uint64_t, size_t> pending_;  // viewer id -> the restart whose end it awaits
  std::vector<Delayed> delayed_;
  std::vector<Restart> restarts_;
  std::vector<Started> started_;
  std::unordered_set<uint64_t> left_;  // by leave_random()
  ChurnReport counts_;
};

// A churn run failed when a join never got media for a reason other than a restart, or a
// restarted host never came back.
bool churn_failed(const ChurnReport& r);

}  // namespace strata::loadtest
