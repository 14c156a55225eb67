#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/records.hpp"
#include "actors/resources.hpp"

namespace pl::drivers {

/// Enforces the allocations of one mechanism (cpu, memory, tasks, disk_io,
/// disk_space, net) on one node. Implemented by the `linux` backend (kernel
/// knobs) and the `sim` backend (an in-memory model); wrapped by one driver
/// actor each. No CAF actor machinery: only CAF's error values.
class mechanism_driver {
public:
  virtual ~mechanism_driver() = default;

  /// Returns the mechanism this driver enforces.
  virtual mechanism kind() const = 0;

  /// Prepares the node-wide objects of the mechanism (the net driver's HTB
  /// tree), adopting existing ones; idempotent. `apply` does it on demand.
  virtual caf::error init() { return {}; }

  /// Enforces `a` for `a.sliver`, creating what the sliver needs on first use;
  /// idempotent. Keys of `a.values` are resource names of this mechanism (plus
  /// documented extra knobs); an unknown key or a value out of range changes
  /// nothing and returns `errc::invalid_argument`.
  virtual caf::error apply(const allocation& a) = 0;

  /// Removes every setting and object of `sliver`; a no-op for an unknown one.
  virtual caf::error remove(const std::string& sliver) = 0;

  /// Reads back the settings in force for `sliver` (`errc::unknown_sliver`
  /// when the driver has nothing for it).
  virtual caf::expected<allocation> read(const std::string& sliver) const = 0;

  /// Lists the slivers this driver holds objects for (after a restart: the
  /// ones it adopted).
  virtual std::vector<std::string> slivers() const = 0;

  /// Returns the sliver's current use of `resource`, in the resource table's
  /// unit (pages, processes, 1K blocks); `errc::unsupported` for resources
  /// without a use (shares, rates).
  virtual caf::expected<std::int64_t> usage(const std::string& sliver,
                                            std::string_view resource) const = 0;
};

/// Returns whether `name` can name a sliver on disk and in cgroupfs: 1 to 64
/// characters of `[A-Za-z0-9_.-]`, not starting with `.` or `-`.
bool valid_sliver_name(std::string_view name);

/// Renders an error for people: `unknown_sliver: v_slice` for errors of the
/// `pl` category, CAF's rendering otherwise.
std::string describe(const caf::error& err);

/// Checks `a` against the resource table: every key must be a row enforced by
/// `m` or one of `extra_keys`, every row value within its range.
caf::error check_allocation(const allocation& a, mechanism m,
                            std::initializer_list<std::string_view> extra_keys = {});

/// Returns `values[key]` or the table default of `key` (0 for extra keys).
std::int64_t value_or_default(const allocation& a, std::string_view key);

} // namespace pl::drivers
