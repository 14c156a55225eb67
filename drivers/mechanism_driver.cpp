#include "drivers/mechanism_driver.hpp"

#include <algorithm>

#include <caf/message.hpp>

namespace pl::drivers {

bool valid_sliver_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.' || name.front() == '-')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

std::string describe(const caf::error& err) {
  if (!err)
    return "ok";
  if (err.category() == caf::atom("pl")) {
    std::string out = to_string(static_cast<errc>(err.code()));
    const auto& ctx = err.context();
    if (ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  }
  return to_string(err);
}

caf::error check_allocation(const allocation& a, mechanism m,
                            std::initializer_list<std::string_view> extra_keys) {
  if (!valid_sliver_name(a.sliver))
    return make_error(errc::invalid_argument, "bad sliver name '" + a.sliver + "'");
  if (a.enforced_by != m)
    return make_error(errc::invalid_argument, "allocation for mechanism " +
                                                  to_string(a.enforced_by) + " sent to the " +
                                                  to_string(m) + " driver");
  for (const auto& [key, value] : a.values) {
    if (std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end()) {
      if (value < 0)
        return make_error(errc::invalid_argument, key + " must not be negative");
      continue;
    }
    const auto* row = find_resource(key);
    if (row == nullptr || row->enforced_by != m)
      return make_error(errc::invalid_argument,
                        "'" + key + "' is not a resource of mechanism " + to_string(m));
    if (auto err = check_resource_value(*row, value))
      return make_error(errc::invalid_argument,
                        key + " = " + std::to_string(value) + " is out of range");
  }
  return {};
}

std::int64_t value_or_default(const allocation& a, std::string_view key) {
  if (auto i = a.values.find(std::string{key}); i != a.values.end())
    return i->second;
  if (const auto* row = find_resource(key))
    return row->default_value;
  return 0;
}

} // namespace pl::drivers
