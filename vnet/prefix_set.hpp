#pragma once

#include "vnet/types.hpp"

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace pl::vnet {

/// Holds a set of IPv4 prefixes as merged address ranges for fast lookup.
///
/// PLC's blacklist changes rarely and is read for every outbound datagram, so
/// updates rebuild a sorted vector of disjoint ranges and lookups are one
/// binary search (none at all when the set is empty).
class prefix_set {
public:
  /// Replaces the contents with `prefixes`; on a bad prefix changes nothing.
  error assign(std::span<const prefix> prefixes);

  /// Adds one prefix; on a bad prefix changes nothing.
  error add(prefix p);

  /// Removes one prefix previously added; returns `not_bound` if it is absent.
  error remove(prefix p);

  /// Tells whether `a` lies in any prefix of the set.
  bool contains(ipv4_addr a) const noexcept;

  /// Returns the prefixes as given (duplicates removed, sorted).
  const std::vector<prefix>& prefixes() const noexcept { return prefixes_; }

  /// Tells whether the set is empty.
  bool empty() const noexcept { return prefixes_.empty(); }

private:
  void rebuild();

  std::vector<prefix> prefixes_;
  // Disjoint, sorted, inclusive [first, last] ranges covering the prefixes.
  std::vector<std::pair<ipv4_addr, ipv4_addr>> ranges_;
};

} // namespace pl::vnet
