#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

namespace pl {

/// Holds a sliver's resource specification: resource-table name -> value in
/// the table's unit. A resource missing from `values` has its table default.
struct rspec {
  std::map<std::string, std::int64_t> values;

  /// Returns the value of `name`, its table default when absent, 0 for a name
  /// that is not in the resource table.
  std::int64_t value_of(std::string_view name) const;

  friend bool operator==(const rspec&, const rspec&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, rspec& x) {
  return f(caf::meta::type_name("rspec"), x.values);
}

/// Returns an rspec holding the table default of every resource.
rspec default_rspec();

/// Builds an rspec from defaults overridden by slice tags. Every key of
/// `resource_tags` must name a resource (split other tags off with
/// `is_resource` first); every value must parse. The first bad tag is
/// returned as an error (`errc::unknown_resource`, `errc::not_a_number`,
/// `errc::negative_value`, `errc::out_of_range`).
caf::expected<rspec> make_rspec(const std::map<std::string, std::string>& resource_tags);

/// Checks an rspec received from elsewhere: every key names a resource and
/// every value lies within the table's range. Returns the first problem.
caf::error validate(const rspec& x);

} // namespace pl
