#pragma once

// The simulator's clock and agenda: a single-threaded discrete-event queue.
// Events run strictly in (time, insertion order), so a run is a pure function
// of the scenario and the seed. In real-time mode the queue waits for the
// wall clock to reach each event's time before running it.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <thread>
#include <vector>

namespace pl::sim {

/// Simulation time in microseconds since the start of the run.
using sim_time = std::int64_t;

inline constexpr sim_time seconds_to_time(double s) {
  return static_cast<sim_time>(s * 1e6);
}

class event_queue {
public:
  using action = std::function<void()>;

  /// `real_time`: run each event no earlier than its time after the start.
  explicit event_queue(bool real_time = false)
      : real_time_{real_time}
      , start_{std::chrono::steady_clock::now()} {}

  /// Schedules `a` at `t` (an earlier time than now runs it now, after the
  /// events already due).
  void at(sim_time t, action a) { items_.push(item{t < now_ ? now_ : t, seq_++, std::move(a)}); }

  void after(sim_time d, action a) { at(now_ + d, std::move(a)); }

  sim_time now() const { return now_; }

  /// Real time: lets the wall clock catch up with work that took wall time
  /// but no simulated time (the testbed's set-up), so the next events are
  /// due that much later instead of all at once.
  void resync_wall_clock() {
    start_ = std::chrono::steady_clock::now() - std::chrono::microseconds{now_};
  }
  bool empty() const { return items_.empty(); }
  sim_time next_time() const { return items_.top().t; }
  std::uint64_t executed() const { return executed_; }

  /// Real time: called at least every 100 ms while the queue waits for the
  /// wall clock (it may throw to abandon the run).
  void set_wait_hook(action hook) { wait_hook_ = std::move(hook); }

  /// Runs the next event (advancing the time to it); false when none is left.
  bool step() {
    if (items_.empty())
      return false;
    auto it = items_.top();
    items_.pop();
    if (real_time_) {
      auto due = start_ + std::chrono::microseconds{it.t};
      for (auto now = std::chrono::steady_clock::now(); due > now;
           now = std::chrono::steady_clock::now()) {
        if (wait_hook_)
          wait_hook_();
        std::this_thread::sleep_until(std::min(due, now + std::chrono::milliseconds{100}));
      }
    }
    now_ = it.t;
    ++executed_;
    it.a();
    return true;
  }

  /// Runs every event up to and including `t`, then sets the time to `t`.
  void run_until(sim_time t) {
    while (!items_.empty() && items_.top().t <= t)
      step();
    if (t > now_)
      now_ = t;
  }

private:
  struct item {
    sim_time t;
    std::uint64_t seq;
    action a;
  };
  struct later {
    bool operator()(const item& x, const item& y) const {
      return x.t != y.t ? x.t > y.t : x.seq > y.seq;
    }
  };
  bool real_time_;
  action wait_hook_;
  std::chrono::steady_clock::time_point start_;
  std::priority_queue<item, std::vector<item>, later> items_;
  sim_time now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t executed_ = 0;
};

} // namespace pl::sim
