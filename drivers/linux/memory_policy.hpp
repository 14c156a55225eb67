#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "drivers/linux/cgroup.hpp"
#include "drivers/mechanism_driver.hpp"

namespace pl::drivers::linux_cg {

/// The fair-victim memory policy on the `planetlab` parent: when the parent's
/// use reaches `threshold_percent` of its limit (or the kernel reports it
/// under OOM), kills every process of the sliver furthest over its share of
/// the parent (`pick_fair_victim`, shares from the memory driver's
/// `mem_share`). A sliver within its share is never the victim. `check` is one
/// step; the memory policy actor calls it on a timer.
class memory_policy {
public:
  memory_policy(std::shared_ptr<const layout> cgroups, std::shared_ptr<mechanism_driver> memory,
                std::int64_t threshold_percent = 90);

  /// Sets the parent's limit (pages; v1 `memory.limit_in_bytes`, v2
  /// `memory.max`) that the slivers' shares divide.
  caf::error parent_limit(std::int64_t pages);

  /// Returns the parent's use in pages.
  caf::expected<std::int64_t> parent_usage() const;

  /// Runs the policy once; returns the victim it killed, if any.
  caf::expected<std::optional<std::string>> check();

private:
  std::shared_ptr<const layout> cgroups_;
  std::shared_ptr<mechanism_driver> memory_;
  std::int64_t threshold_;
};

} // namespace pl::drivers::linux_cg
