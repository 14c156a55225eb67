#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace pl::drivers {

/// One sliver as the fair-victim policy sees it.
struct victim_candidate {
  std::string sliver;
  /// Memory in use, 4 KiB pages.
  std::int64_t usage = 0;
  /// `mem_share` (fair-victim weight).
  std::int64_t share = 0;
};

/// Picks the fair victim when the `planetlab` parent is short of memory: each
/// sliver is entitled to `parent_limit x share / sum(shares)` pages; the
/// victim is the sliver furthest over its entitlement. A sliver within its
/// entitlement is never picked; returns nothing when every sliver is within.
/// Shares of 0 count as 1 so a zero-share sliver is still entitled to a part.
std::optional<std::size_t> pick_fair_victim(std::span<const victim_candidate> slivers,
                                            std::int64_t parent_limit);

/// Returns whether the parent counts as short: use at or above
/// `threshold_percent` of its limit.
bool parent_short(std::int64_t usage, std::int64_t limit, std::int64_t threshold_percent);

} // namespace pl::drivers
