#pragma once

#include "vnet/types.hpp"

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace pl::vnet {

/// Counts one slice's traffic through the engine.
struct slice_counters {
  std::uint64_t sent_packets = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t received_packets = 0;
  std::uint64_t received_bytes = 0;
  /// Outbound datagrams of this slice that the policy refused.
  std::uint64_t rejected_packets = 0;

  friend bool operator==(const slice_counters&, const slice_counters&) = default;
};

/// Counts the engine's decisions and table events.
struct engine_counters {
  /// Outbound refusals, indexed by `reason`.
  std::array<std::uint64_t, reason_count> outbound_rejects{};
  /// Inbound refusals, indexed by `reason`.
  std::array<std::uint64_t, reason_count> inbound_rejects{};
  std::uint64_t outbound_accepted = 0;
  std::uint64_t inbound_accepted = 0;
  /// Connections created (including ones replacing an expired entry).
  std::uint64_t connections_created = 0;
  /// Live connections removed to make room.
  std::uint64_t evictions = 0;
  /// Of those, connections whose port was bound.
  std::uint64_t bound_evictions = 0;
  /// Expired connections reclaimed.
  std::uint64_t expirations = 0;

  friend bool operator==(const engine_counters&, const engine_counters&) = default;
};

/// Keeps `slice_counters` per slice.
///
/// Context ids are small integers, so they index a vector; a map catches any
/// id beyond that range so that no input can make the vector huge.
class slice_counter_table {
public:
  /// Returns the counters of `s`, creating them at zero.
  slice_counters& at(slice_id s) {
    if (s < dense_limit) {
      if (s >= dense_.size())
        dense_.resize(s + 1);
      return dense_[s];
    }
    return sparse_[s];
  }

  /// Returns the counters of `s` (zero if it never had traffic).
  slice_counters get(slice_id s) const {
    if (s < dense_.size())
      return dense_[s];
    auto i = sparse_.find(s);
    return i == sparse_.end() ? slice_counters{} : i->second;
  }

  /// Calls `f(slice_id, const slice_counters&)` for every slice with traffic.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < dense_.size(); ++i)
      if (dense_[i] != slice_counters{})
        f(static_cast<slice_id>(i), dense_[i]);
    for (const auto& [s, c] : sparse_)
      f(s, c);
  }

private:
  static constexpr slice_id dense_limit = 1u << 16;
  std::vector<slice_counters> dense_;
  std::unordered_map<slice_id, slice_counters> sparse_;
};

} // namespace pl::vnet
