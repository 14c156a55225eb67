#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/records.hpp"
#include "actors/resources.hpp"
#include "actors/rspec.hpp"

// What a resource controller decides (issue #6 point 1): every sliver's
// effective rspec -> the allocations one mechanism's driver enforces. Plain
// logic, no actors.

namespace pl::node {

/// Holds one sliver's CPU inputs: its `cpu_share` and its `cpu_pct`
/// reservation.
struct cpu_input {
  std::int64_t share = 0;
  std::int64_t pct = 0;
};

/// Returns the CPU weight (in `cpu_share` units) of every sliver such that,
/// when every sliver wants all the CPU it can get, each sliver with a
/// `cpu_pct` reservation receives at least that percentage of what the
/// slivers share: weight / sum of weights >= pct / 100.
///
/// A sliver whose own share already gives it its percentage keeps its
/// share; the others get the smallest integer weight that does. Slivers
/// without a reservation keep their share. The reservations must sum to less
/// than 100 (admission keeps them within `cpu_reservable`); when they do
/// not, reserving slivers get weights in proportion to their percentages.
std::map<std::string, std::int64_t> cpu_weights(const std::map<std::string, cpu_input>& slivers);

/// Turns the effective rspecs of a node's slivers into allocations for one
/// mechanism and remembers which are in force, so only changes are applied.
///
/// `cpu`: `cpu_share` is the weight from `cpu_weights` (so a change of one
/// sliver's reservation can change every sliver's allocation), `cpu_pct`
/// is passed on for the record. Other mechanisms: the sliver's values of
/// the resources the table assigns to that mechanism.
class allocation_policy {
public:
  explicit allocation_policy(mechanism m)
      : kind_(m) {}

  mechanism kind() const { return kind_; }

  /// Sets sliver `name`'s effective rspec (the policy keeps only the values
  /// its mechanism's allocations depend on).
  void put(const std::string& name, const rspec& effective);

  /// Forgets sliver `name` (its allocation is no longer in force either).
  void remove(const std::string& name);

  /// Returns every sliver's allocation as the policy computes it now.
  std::map<std::string, allocation> compute() const;

  /// Returns the allocations that differ from what is in force, `first`'s
  /// (if it has one) first, then by name.
  std::vector<allocation> pending(const std::string& first = {}) const;

  /// Records that `a` is in force (the driver applied it).
  void applied(const allocation& a);

  /// Returns the allocation in force for `name`, if any.
  std::optional<allocation> in_force(const std::string& name) const;

  /// Returns whether the policy holds sliver `name`.
  bool holds(const std::string& name) const { return rspecs_.count(name) > 0; }

private:
  /// Returns the part of `rs` this mechanism's allocations read: the
  /// resources the table assigns to it (cpu: also `cpu_share`, `cpu_pct`).
  rspec relevant(const rspec& rs) const;
  /// Returns `name`'s allocation from its own rspec (cpu: weight = share).
  allocation own(const std::string& name, const rspec& rs) const;

  /// Returns whether one sliver's change can change others' allocations
  /// (cpu with reservations: the weights depend on every share).
  bool coupled() const { return kind_ == mechanism::cpu && reserving_ > 0; }

  void all_dirty();

  mechanism kind_;
  std::map<std::string, rspec> rspecs_;
  std::map<std::string, allocation> applied_;
  /// The slivers whose allocation may differ from the one in force; every
  /// other sliver's is in force. Keeps a change of one sliver from
  /// recomputing all of them (1,000 slivers: one change in O(n), not O(n^2)).
  std::set<std::string> dirty_;
  /// cpu: how many slivers reserve (cpu_pct > 0).
  std::size_t reserving_ = 0;
};

} // namespace pl::node
