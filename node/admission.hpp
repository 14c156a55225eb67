#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "actors/rspec.hpp"

// Admission control (issue #6 point 2): a node never promises more than it
// has. Guarantees (cpu_pct, net_min_rate, net_i2_min_rate) and disk quotas
// are promises; their sum over the slivers the node holds must fit the
// node. Shares and other limits are not promises and are never refused.

namespace pl::node {

/// Describes what a node can promise to its slivers.
struct node_capacity {
  /// The fraction of the node's CPU that cpu_pct reservations may promise in
  /// total (0..1); the rest stays for the root context and slivers without a
  /// reservation.
  double cpu_reservable = 0.8;
  /// The node's outbound cap in kbps (the primary interface's bwlimit, else
  /// bwlimit's bwmax of 1 Gbit/s): net_min_rate guarantees must fit under it.
  std::int64_t net_cap_kbps = 1'000'000;
  /// The cap of the exempt (Internet2) branch in kbps, for net_i2_min_rate.
  std::int64_t net_i2_cap_kbps = 1'000'000;
  /// The sliver disk pool in 1K blocks, which disk_max quotas must fit;
  /// empty when unknown (then disk is not checked).
  std::optional<std::int64_t> disk_pool_kb;
};

/// Sums the promises of a set of slivers.
struct promises {
  std::int64_t cpu_pct = 0;
  std::int64_t net_min_rate = 0;
  std::int64_t net_i2_min_rate = 0;
  std::int64_t disk_max = 0;

  friend bool operator==(const promises&, const promises&) = default;
};

/// Returns the sum of the promised resources of `slivers`.
promises total(const std::map<std::string, rspec>& slivers);

/// Returns whether `after` promises more than `before` of any resource
/// admission watches (a decrease or an unrelated change needs no check).
bool promises_more(const rspec& before, const rspec& after);

/// Decides whether a node can give a sliver what its rspec promises.
class admission {
public:
  explicit admission(node_capacity capacity = {})
      : capacity_(capacity) {}

  const node_capacity& capacity() const { return capacity_; }
  void capacity(node_capacity x) { capacity_ = x; }

  /// Returns why sliver `name` cannot have `candidate` while the node holds
  /// `admitted`, or nothing when it fits. An entry for `name` in `admitted`
  /// is what the sliver holds now: the candidate replaces it, and only the
  /// resources it raises are checked (a node whose capacity shrank keeps its
  /// slivers and refuses only growth). The reason names the first resource
  /// that does not fit, what is asked, what the others hold and the limit.
  std::optional<std::string> check(const std::string& name, const rspec& candidate,
                                   const std::map<std::string, rspec>& admitted) const;

private:
  node_capacity capacity_;
};

} // namespace pl::node
