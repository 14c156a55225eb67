#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/clock.hpp"
#include "actors/rspec.hpp"

// Daily byte caps (issue #6 point 8; node manager's bwmon): per-slice
// transmit accounting over a one-day window. Past `net_thresh_kbyte` a
// slice's ceiling drops to what is left of `net_max_kbyte` spread over the
// time left in the window, never below `net_min_rate`; a new window restores
// `net_max_rate`. The exempt (Internet2) class has its own counters and
// `net_i2_*` values. Plain logic: time comes from a `pl::clock`.

namespace pl::node {

/// Holds one slice's accounting (persisted across restarts, like bwmon.dat).
struct byte_cap_record {
  /// The start of the slice's current window, epoch seconds.
  std::int64_t window_start = 0;
  /// Bytes sent in the window, ordinary and exempt.
  std::int64_t sent = 0;
  std::int64_t sent_i2 = 0;
  /// The last counter readings (cumulative bytes of the slice's classes).
  std::int64_t last_counter = 0;
  std::int64_t last_counter_i2 = 0;
  /// Set when the slice left the node: its record is kept until the window
  /// ends, so a slice cannot escape its cap by being recreated.
  bool retired = false;

  friend bool operator==(const byte_cap_record&, const byte_cap_record&) = default;
};

/// Says what one slice may send now.
struct byte_cap_status {
  /// The ceilings to enforce, kbps (the rspec's maxima while not capped).
  std::int64_t net_max_rate = 0;
  std::int64_t net_i2_max_rate = 0;
  /// Whether a ceiling is below the rspec's maximum because of the cap.
  bool capped = false;
  bool i2_capped = false;
  /// Whether a cap started with this update (for a log line or a mail).
  bool newly_capped = false;
  std::int64_t sent = 0;
  std::int64_t sent_i2 = 0;
  /// When the current window ends and the ceilings return.
  std::int64_t window_end = 0;

  friend bool operator==(const byte_cap_status&, const byte_cap_status&) = default;
};

/// Returns the ceiling in kbps for a class that has sent `sent` bytes,
/// `remaining` seconds before its window ends (bwmon's formula: above the
/// threshold, the bytes left of the maximum times 8 over the time left, but
/// at least `min_rate` and at most `max_rate`). Limits are the rspec's units:
/// KiB for the byte values, kbps for rates.
std::int64_t capped_rate(std::int64_t sent, std::int64_t thresh_kbyte, std::int64_t max_kbyte,
                         std::int64_t remaining, std::int64_t min_rate, std::int64_t max_rate);

/// Accounts the transmit bytes of every slice on a node.
class byte_caps {
public:
  explicit byte_caps(const pl::clock& clock, std::chrono::seconds window = std::chrono::hours{24});

  /// Records the slice's current counters (cumulative bytes sent by its
  /// ordinary and exempt classes; a counter that went backwards restarted,
  /// e.g. its class was recreated, and counts from 0) and returns what the
  /// slice may send, given its effective rspec. Opens a new window when the
  /// old one has ended (windows keep the slice's daily schedule; bytes of the
  /// update that crosses the boundary count for the old window).
  byte_cap_status update(const std::string& slice, std::int64_t counter, std::int64_t counter_i2,
                         const rspec& effective);

  /// Returns the slice's status as of the last update, or nothing.
  std::optional<byte_cap_status> status(const std::string& slice) const;

  /// Marks a slice gone; its bytes still count should it return within its
  /// window.
  void retire(const std::string& slice);

  /// Drops retired slices whose window has ended; returns their names.
  std::vector<std::string> prune();

  /// Returns every record, for persisting.
  const std::map<std::string, byte_cap_record>& records() const { return records_; }

  /// Replaces every record with persisted ones (at start-up).
  void restore(std::map<std::string, byte_cap_record> records);

private:
  std::int64_t window_end(const byte_cap_record& r) const;

  const pl::clock& clock_;
  std::int64_t window_;
  std::map<std::string, byte_cap_record> records_;
  std::map<std::string, byte_cap_status> last_;
};

} // namespace pl::node
