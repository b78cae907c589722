#include "loadtest/churn.hpp"

#include <algorithm>

namespace strata::loadtest {
namespace {

using namespace std::chrono_literals;

double ms(Duration d) { return double(d.count()) / 1000.0; }

}  // namespace

ChurnDriver::ChurnDriver(const ChurnBehaviour& churn, int hosts, double duration_s, ChurnActions& actions)
    : c_(churn), hosts_(std::max(1, hosts)), duration_s_(duration_s), a_(actions), rng_(churn.seed) {}

void ChurnDriver::run() {
  start_ = a_.now();
  end_ = start_ + seconds(duration_s_);
  const Timestamp ramp_end = start_ + seconds(ramp_seconds(c_));
  // Churn starts once the population is complete, so it stays near `viewers` from then on.
  if (c_.joins_per_s > 0) next_join_ = ramp_end + seconds(1 / c_.joins_per_s);
  if (c_.leaves_per_s > 0) next_leave_ = ramp_end + seconds(1 / c_.leaves_per_s);
  if (c_.host_restart_s > 0) next_restart_ = start_ + seconds(c_.host_restart_s);
  next_poll_ = start_;
  for (Timestamp t; (t = next_event()) < end_;) {
    a_.wait_until(t);
    // A late wake-up (a loaded machine) must not fire what is due at or after the end.
    step(std::min(a_.now(), end_ - Duration(1)));
  }
  a_.wait_until(end_);
}

Timestamp ChurnDriver::next_event() const {
  Timestamp t = std::min({next_join_, next_leave_, next_restart_, next_poll_});
  if (ramp_joined_ < c_.viewers) t = std::min(t, ramp_at(ramp_joined_));
  return t;
}

void ChurnDriver::step(Timestamp now) {
  ramp_and_churn(now);
  if (now >= next_restart_) {
    begin_restart(restart_count_++ % hosts_, now);
    next_restart_ += seconds(c_.host_restart_s);
  }
  if (now >= next_poll_) {
    poll(now);
    // Finer while a restart is under way: the re-joins' times include this delay.
    next_poll_ = now + (restart_active() ? Duration(20ms) : Duration(100ms));
  }
}

// Events that fell behind (a slow loop) are caught up at once: the rates hold on average.
void ChurnDriver::ramp_and_churn(Timestamp now) {
  while (ramp_joined_ < c_.viewers && ramp_at(ramp_joined_) <= now) {
    join_member(ramp_joined_++ % hosts_, now);
    ++counts_.initial_joins;
  }
  for (; next_join_ <= now; next_join_ += seconds(1 / c_.joins_per_s)) join_member(counts_.joins++ % hosts_, now);
  for (; next_leave_ <= now; next_leave_ += seconds(1 / c_.leaves_per_s)) ++owed_leaves_;
  while (owed_leaves_ > 0 && leave_random(now)) --owed_leaves_;
}

uint64_t ChurnDriver::join_member(int host, Timestamp now) {
  uint64_t id = a_.join(host);
  member_index_[id] = members_.size();
  members_.push_back({id, host, now});
  started_.push_back({id, host});
  return id;
}

void ChurnDriver::remove_member(uint64_t id) {
  auto it = member_index_.find(id);
  if (it == member_index_.end()) return;
  size_t i = it->second;
  member_index_.erase(it);
  if (i + 1 != members_.size()) {
    members_[i] = members_.back();
    member_index_[members_[i].id] = i;
  }
  members_.pop_back();
}

// Uniform over the viewers old enough, that have had media, and are not awaiting a
// restart's end (their fate is the restart's to count). A viewer still without media is
// never picked: if it never gets any, the report counts a join failure instead of a leave
// hiding it. None eligible (right after a restart every viewer is new or pending): false,
// and the leave stays owed, so the population still returns to `viewers`.
bool ChurnDriver::leave_random(Timestamp now) {
  std::vector<uint64_t> old_enough;
  for (auto& m : members_)
    if (now - m.joined >= kMinAge && !pending_.count(m.id)) old_enough.push_back(m.id);
  if (old_enough.empty()) return false;
  auto probes = a_.probe(old_enough);
  std::vector<uint64_t> eligible;
  for (uint64_t id : old_enough)
    if (auto p = probes.find(id); p != probes.end() && p->second.last_media != Timestamp{}) eligible.push_back(id);
  if (eligible.empty()) return false;
  uint64_t id = eligible[std::uniform_int_distribution<size_t>(0, eligible.size() - 1)(rng_)];
  a_.leave(id);
  left_.insert(id);
  remove_member(id);
  ++counts_.leaves;
  return true;
}

void ChurnDriver::begin_restart(int host, Timestamp now) {
  for (auto& r : restarts_)
    if (r.report.host == host && !r.publishing) return;  // still coming back from the last one
  size_t index = restarts_.size();
  Restart& r = restarts_.emplace_back();
  r.at = now;
  r.report.at_s = ms(now - start_) / 1000.0;
  r.report.host = host;
  for (auto& m : members_)
    if (m.host == host) pending_[m.id] = index, ++r.report.viewers;
  a_.stop_host(host);
  r.deleted = a_.now();
  publish(r, r.deleted);
}

void ChurnDriver::publish(Restart& r, Timestamp now) {
  std::string error;
  if (a_.start_host(r.report.host, &error)) {
    r.publishing = true;
    return;
  }
  ++r.report.publish_failures;
  r.retry_at = now + 1s;
}

void ChurnDriver::poll(Timestamp now) {
  for (auto& e : a_.take_ended()) on_ended(e, now);
  for (size_t i = 0; i < restarts_.size(); ++i) {
    Restart& r = restarts_[i];
    if (!r.publishing && now >= r.retry_at) publish(r, now);
    if (r.publishing && !r.sending && a_.host_sending(r.report.host)) {
      r.sending = true;
      r.report.host_down_ms = ms(a_.now() - r.at);
    }
    if (!r.checked && now >= r.at + kCheckAfter) check_restart(r, i, now);
  }
  auto due = std::partition(delayed_.begin(), delayed_.end(), [&](const Delayed& d) { return d.at > now; });
  std::vector<Delayed> ready(due, delayed_.end());
  delayed_.erase(due, delayed_.end());
  for (auto& d : ready) rejoin(d.host, d.restart, now);
}

void ChurnDriver::on_ended(const EndedSession& e, Timestamp now) {
  auto m = member_index_.find(e.id);
  if (m == member_index_.end()) return;  // it had left already
  int host = members_[m->second].host;
  int restart = -1;
  if (auto p = pending_.find(e.id); p != pending_.end()) {
    restart = int(p->second);
    HostRestartReport& r = restarts_[p->second].report;
    ++(e.bye ? r.ended_with_bye : r.ended_otherwise);
    pending_.erase(p);
  } else {
    ++counts_.ended_outside_restarts;
  }
  remove_member(e.id);
  // A failed POST already retried (409/503) for seconds; a pause keeps a server that is
  // down from being hammered by every viewer at once.
  if (e.signaling_failed) delayed_.push_back({now + 1s, host, restart});
  else rejoin(host, restart, now);
}

void ChurnDriver::rejoin(int host, int restart, Timestamp now) {
  uint64_t id = join_member(host, now);
  ++counts_.rejoins;
  if (restart < 0) return;
  restarts_[size_t(restart)].rejoins.push_back(id);
  ++restarts_[size_t(restart)].report.rejoined;
}

// kCheckAfter after the restart, each viewer of the host not yet ended is one of:
//  - in flight: its POST is still retrying, or it receives on a session it POSTed after the
//    DELETE went out (of the new live);
//  - survived: it receives on a session from before the restart;
//  - silent: no media for kSilentFor. Left and re-joined. This includes a POST that reached
//    the old live while the DELETE was under way: the live ended before that session's
//    DTLS was up, so the server could not say goodbye, and its ICE would fail only after
//    10 s.
void ChurnDriver::check_restart(Restart& r, size_t index, Timestamp now) {
  r.checked = true;
  std::vector<uint64_t> ids;
  for (auto& [id, k] : pending_)
    if (k == index) ids.push_back(id);
  auto probes = a_.probe(ids);
  for (uint64_t id : ids) {
    pending_.erase(id);
    if (!member_index_.count(id)) continue;
    const ViewerProbe& p = probes[id];
    bool receiving = p.last_media != Timestamp{} && now - p.last_media < kSilentFor;
    if (!p.has_session || (receiving && p.post_sent >= r.at)) {
      ++r.report.in_flight;
    } else if (receiving) {
      ++r.report.survived;
    } else {
      ++r.report.silent;
      int host = members_[member_index_[id]].host;
      a_.leave(id);
      remove_member(id);
      rejoin(host, int(index), now);
    }
  }
}

bool ChurnDriver::restart_active() const {
  return std::any_of(restarts_.begin(), restarts_.end(), [](const Restart& r) { return !r.checked || !r.sending; });
}

void ChurnDriver::fill_restart_figures(Restart& r) {
  std::vector<double> first_frame, rejoin_first_frame;
  for (uint64_t id : r.rejoins) {
    const ViewerStats* st = a_.stats(id);
    if (st && st->post_attempts > 1) ++r.report.rejoins_retried;
    if (!st || !st->has_media()) continue;
    ++r.report.rejoined_with_media;
    if (st->first_keyframe == Timestamp{}) continue;
    first_frame.push_back(ms(st->first_keyframe - r.at));
    rejoin_first_frame.push_back(ms(st->first_keyframe - st->post_sent));
  }
  r.report.first_frame_ms = distribution(first_frame);
  r.report.rejoin_first_frame_ms = distribution(rejoin_first_frame);
}

// The session's life overlaps the restart's DELETE (a POST sent while the DELETE was
// under way may have reached the old live).
bool ChurnDriver::cut_by_restart(int host, Timestamp post_sent, Timestamp stop) const {
  return std::any_of(restarts_.begin(), restarts_.end(), [&](const Restart& r) {
    return r.report.host == host && post_sent <= r.deleted && stop >= r.at;
  });
}

ChurnReport ChurnDriver::report(Timestamp end) {
  ChurnReport out = counts_;
  out.population_end = int(members_.size());
  out.sessions = int(started_.size());
  for (auto& s : started_) {
    const ViewerStats* st = a_.stats(s.id);
    if (st && st->has_media()) {
      ++out.with_media;
    } else if (!st) {
      // Signaling failed (409/503 retries included), or it left before its POST succeeded.
      if (!left_.count(s.id)) ++out.join_failures;
    } else {
      Timestamp stop = st->closed_at != Timestamp{} ? st->closed_at : end;
      if (cut_by_restart(s.host, st->post_sent, stop)) ++out.cut_by_restart;
      else if (stop - st->post_sent >= kMinAge) ++out.join_failures;
    }
  }
  for (auto& r : restarts_) {
    fill_restart_figures(r);
    out.restarts.push_back(r.report);
  }
  return out;
}

bool churn_failed(const ChurnReport& r) {
  return r.join_failures > 0 ||
         std::any_of(r.restarts.begin(), r.restarts.end(), [](const HostRestartReport& h) { return h.host_down_ms < 0; });
}

}  // namespace strata::loadtest
