#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace pl {

/// Supplies the wall-clock time to logic that must also run in virtual time.
///
/// PLC logic (expiry, sessions, tickets, reaping) and node logic read the time
/// only through this interface, so the simulator can drive them with a
/// `manual_clock` while daemons use `system_clock_source`. Code that lives
/// beside actors can use `caf_clock` (actors/caf_clock.hpp), which reads the
/// actor system's clock: virtual time under CAF's test coordinator, so logic
/// and actor timers (`delayed_send`) agree on the time.
class clock {
public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  virtual ~clock() = default;

  /// Returns the current time.
  virtual time_point now() const = 0;

  /// Returns the current time as whole seconds since the Unix epoch, the unit
  /// PLCAPI uses for every timestamp.
  std::int64_t now_epoch() const {
    return std::chrono::duration_cast<std::chrono::seconds>(now().time_since_epoch()).count();
  }
};

/// Reads the system's real-time clock.
class system_clock_source final : public clock {
public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// Holds a time that moves only when told to; safe to read from many threads.
class manual_clock final : public clock {
public:
  explicit manual_clock(time_point start = time_point{std::chrono::seconds{1'000'000'000}})
      : ticks_(start.time_since_epoch().count()) {}

  time_point now() const override { return time_point{duration{ticks_.load()}}; }

  /// Moves the clock to `t`.
  void set(time_point t) { ticks_.store(t.time_since_epoch().count()); }

  /// Moves the clock forward by `d`.
  void advance(duration d) { ticks_.fetch_add(d.count()); }

private:
  std::atomic<duration::rep> ticks_;
};

} // namespace pl
