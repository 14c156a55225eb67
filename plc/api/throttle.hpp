#pragma once

#include "actors/clock.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pl::plc::api {

/// Limits on failed password logins ([auth] in plcd's configuration).
struct throttle_config {
  bool enabled = true;
  /// Failures of one account (by lowercased Username) within `window` that block it.
  std::size_t account_failures = 5;
  /// Failures from one source address within `window` that block it; higher,
  /// since many users may share a NAT.
  std::size_t address_failures = 20;
  /// Failures older than this are forgotten; a blocked key is free again once
  /// its oldest counted failure is this old.
  std::chrono::seconds window{300};
  /// Most accounts plus addresses tracked at once; the stalest go first.
  std::size_t max_tracked = 65536;
};

/// Counts failed logins per account and per source address in a sliding
/// window, in bounded memory, on an injectable clock. Thread-safe.
class login_throttle {
public:
  login_throttle(throttle_config cfg, const pl::clock& clock);

  /// Returns how long the caller must wait before trying `account` from
  /// `address` again, or zero when the attempt may proceed.
  std::chrono::seconds retry_after(const std::string& account, const std::string& address);

  /// Records a failed attempt (unknown account or wrong password).
  void failure(const std::string& account, const std::string& address);

  /// Forgets the account's failures after a successful login. The address's
  /// failures stay until they age out, so one good login does not excuse
  /// guesses at other accounts from the same place.
  void success(const std::string& account);

  /// Returns the number of keys tracked (for tests and metrics).
  std::size_t tracked() const;

  const throttle_config& config() const { return cfg_; }

private:
  using time_point = pl::clock::time_point;
  std::chrono::seconds wait_for(const std::string& key, std::size_t limit, time_point now);
  void record(const std::string& key, std::size_t limit, time_point now);
  void make_room(time_point now);

  throttle_config cfg_;
  const pl::clock& clock_;
  mutable std::mutex mtx_;
  /// Key ("a:<account>" or "ip:<address>") -> times of its recent failures,
  /// oldest first, at most the key's limit.
  std::unordered_map<std::string, std::deque<time_point>> failures_;
};

} // namespace pl::plc::api
