// Two sctp::Associations back to back on fake time, through links that can lose packets: the
// harness of the association and data channel tests.
#pragma once
#include <algorithm>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "common/time.hpp"
#include "sctp/association.hpp"

namespace strata::sctp::testing {

using std::chrono::milliseconds;

inline AssociationConfig config_for(uint32_t tag, uint32_t tsn) {
  AssociationConfig c;
  c.local_tag = tag;
  c.initial_tsn = tsn;
  return c;
}

struct Link {
  // Decides, per packet in order of sending, whether it is lost.
  std::function<bool(size_t index, const Bytes&)> lose = [](size_t, const Bytes&) { return false; };
  Duration delay = milliseconds(10);
  size_t sent = 0;
  size_t lost = 0;
};

struct InFlight {
  Timestamp at;
  bool to_b;
  Bytes packet;
};

class Pair {
 public:
  explicit Pair(AssociationConfig ca = config_for(0x0A0A0A0A, 0xFFFFFFF0u), AssociationConfig cb = config_for(0x0B0B0B0B, 100))
      : a(ca), b(cb) {}

  // Moves packets and time until both are quiet or `until` passes.
  void run(Duration for_time) {
    const Timestamp until = clock.now() + for_time;
    for (int guard = 0; guard < 1'000'000; ++guard) {
      collect();
      Timestamp next = std::min({a.next_timeout(), b.next_timeout(), until});
      for (const auto& f : wire) next = std::min(next, f.at);
      if (next >= until && wire.empty()) {
        clock.set(until);
        return;
      }
      if (next > clock.now()) clock.set(next);
      if (next >= until) {
        clock.set(until);
        deliver_due();
        return;
      }
      deliver_due();
      if (a.next_timeout() <= clock.now()) a.handle_timeout(clock.now());
      if (b.next_timeout() <= clock.now()) b.handle_timeout(clock.now());
      if (on_step) on_step();
    }
    FAIL() << "no quiet point";
  }

  void collect() {
    for (auto* side : {&a, &b}) {
      for (Bytes& p : side->packets()) {
        Link& l = side == &a ? a_to_b : b_to_a;
        const size_t index = l.sent++;
        if (l.lose(index, p)) {
          ++l.lost;
          continue;
        }
        wire.push_back({clock.now() + l.delay, side == &a, std::move(p)});
      }
      side->packets().clear();
    }
  }

  void deliver_due() {
    for (size_t i = 0; i < wire.size();) {
      if (wire[i].at > clock.now()) {
        ++i;
        continue;
      }
      InFlight f = std::move(wire[i]);
      wire.erase(wire.begin() + long(i));
      (f.to_b ? b : a).handle_packet(f.packet, clock.now());
      if (on_step) on_step();
      collect();
    }
  }

  std::vector<ReceivedMessage> take(Association& side) {
    std::vector<ReceivedMessage> out(std::make_move_iterator(side.messages().begin()),
                                     std::make_move_iterator(side.messages().end()));
    side.messages().clear();
    return out;
  }

  void connect_a() {
    a.connect(clock.now());
    run(milliseconds(100));
  }

  std::function<void()> on_step;  // after every packet delivered and every timer round
  FakeClock clock;
  Association a;
  Association b;
  Link a_to_b;
  Link b_to_a;
  std::vector<InFlight> wire;
};

}  // namespace strata::sctp::testing
