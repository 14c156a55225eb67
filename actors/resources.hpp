#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "actors/errors.hpp"

namespace pl {

/// Says how a resource's value is enforced relative to other slivers.
enum class resource_kind : std::uint8_t {
  /// A weight: only the ratio to other slivers' shares matters, under contention.
  share,
  /// A reservation the sliver receives even under contention; never a cap.
  guarantee,
  /// A cap the sliver cannot exceed, contended or not.
  limit,
};

/// Names a kernel mechanism, i.e. one driver actor per node.
///
/// `container` enforces no resource row; it creates and destroys the sliver's
/// namespaces and root file system.
enum class mechanism : std::uint8_t {
  cpu,
  memory,
  tasks,
  disk_io,
  disk_space,
  net,
  container,
};

/// Describes one resource a slice can be given (one row of the resource table).
struct resource_info {
  /// The slice tag name, also the key in an `rspec`.
  std::string_view name;
  /// The unit of `default_value`, `loan_minimum` and of every tag value.
  std::string_view unit;
  /// The value a sliver gets when no slice tag sets it.
  std::int64_t default_value;
  /// The amount a lender keeps when it lends; empty when the resource cannot be
  /// lent (node manager 1.5 `MINIMUM_ALLOCATION`).
  std::optional<std::int64_t> loan_minimum;
  resource_kind kind;
  mechanism enforced_by;
  /// The smallest accepted value.
  std::int64_t min_value;
  /// The largest accepted value.
  std::int64_t max_value;
  /// One sentence for docs, the GUI and PLC's tag type descriptions.
  std::string_view description;

  /// Returns whether slivers may lend this resource.
  constexpr bool loanable() const { return loan_minimum.has_value(); }
};

/// Returns every row of the resource table, in a fixed order.
std::span<const resource_info> resource_table();

/// Returns the row for `name`, or `nullptr` if no resource has that name.
const resource_info* find_resource(std::string_view name);

/// Returns whether `name` is in the resource table.
inline bool is_resource(std::string_view name) {
  return find_resource(name) != nullptr;
}

/// Returns whether `name` is a resource that slivers may lend.
bool is_loanable(std::string_view name);

/// Parses a slice tag value for `resource`: a decimal integer within the row's
/// range. Errors: `errc::not_a_number`, `errc::negative_value`,
/// `errc::out_of_range`.
caf::expected<std::int64_t> parse_resource_value(const resource_info& resource,
                                                 std::string_view text);

/// Checks a numeric value against the row's range (same errors as parsing).
caf::error check_resource_value(const resource_info& resource, std::int64_t value);

/// Returns the name of a kind: `share`, `guarantee` or `limit`.
std::string to_string(resource_kind x);

/// Returns the name of a mechanism, e.g. `disk_io`.
std::string to_string(mechanism x);

} // namespace pl
