#include "actors/rspec.hpp"

#include "actors/errors.hpp"
#include "actors/resources.hpp"

namespace pl {

std::int64_t rspec::value_of(std::string_view name) const {
  if (auto i = values.find(std::string{name}); i != values.end())
    return i->second;
  if (const auto* row = find_resource(name))
    return row->default_value;
  return 0;
}

rspec default_rspec() {
  rspec result;
  for (const auto& row : resource_table())
    result.values.emplace(std::string{row.name}, row.default_value);
  return result;
}

caf::expected<rspec> make_rspec(const std::map<std::string, std::string>& resource_tags) {
  auto result = default_rspec();
  for (const auto& [name, text] : resource_tags) {
    const auto* row = find_resource(name);
    if (row == nullptr)
      return make_error(errc::unknown_resource, name);
    auto value = parse_resource_value(*row, text);
    if (!value)
      return std::move(value.error());
    result.values[name] = *value;
  }
  return result;
}

caf::error validate(const rspec& x) {
  for (const auto& [name, value] : x.values) {
    const auto* row = find_resource(name);
    if (row == nullptr)
      return make_error(errc::unknown_resource, name);
    if (auto err = check_resource_value(*row, value))
      return err;
  }
  return caf::none;
}

} // namespace pl
