#include "drivers/override_driver.hpp"

#include "actors/errors.hpp"

namespace pl::drivers {

std::int64_t unenforced_value(const resource_info& row) {
  switch (row.kind) {
  case resource_kind::limit:
    // A limit whose default is 0 reads 0 as "unlimited" (io_max_rate).
    return row.default_value == 0 ? 0 : row.max_value;
  case resource_kind::share:
    return row.default_value;
  case resource_kind::guarantee:
    return 0;
  }
  return row.default_value;
}

override_driver::override_driver(std::shared_ptr<mechanism_driver> inner,
                                 const std::filesystem::path& state_dir)
    : inner_(std::move(inner))
    , managed_(state_dir.empty() ? state_dir : state_dir / "managed" / to_string(inner_->kind()))
    , overrides_(state_dir.empty() ? state_dir
                                   : state_dir / "overrides" / to_string(inner_->kind())) {}

caf::error override_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, kind(), {"cpu_cap", "io_max_iops"}))
    return err;
  auto old = managed_.get(a.sliver);
  if (auto err = managed_.put(a.sliver, a.values))
    return err;
  if (auto err = reapply(a.sliver)) {
    // Nothing changed: restore the previous record.
    if (old)
      managed_.put(a.sliver, *old);
    else
      managed_.erase(a.sliver);
    return err;
  }
  return {};
}

caf::error override_driver::reapply(const std::string& sliver) {
  allocation eff{sliver, kind(), {}};
  for (const auto& row : resource_table())
    if (row.enforced_by == kind())
      eff.values[std::string{row.name}] = row.default_value;
  if (auto m = managed_.get(sliver))
    for (const auto& [k, v] : *m)
      eff.values[k] = v;
  auto ov = overrides_.get(sliver).value_or(state_store::values{});
  for (const auto& [k, v] : ov)
    if (k != "enforce")
      eff.values[k] = v;
  if (auto i = ov.find("enforce"); i != ov.end() && i->second == 0) {
    for (auto& [k, v] : eff.values)
      if (const auto* row = find_resource(k))
        v = unenforced_value(*row);
    if (eff.values.count("cpu_cap"))
      eff.values["cpu_cap"] = 0;
    if (eff.values.count("io_max_iops"))
      eff.values["io_max_iops"] = 0;
  }
  return inner_->apply(eff);
}

caf::error override_driver::remove(const std::string& sliver) {
  if (auto err = inner_->remove(sliver))
    return err;
  managed_.erase(sliver);
  overrides_.erase(sliver);
  return {};
}

caf::expected<allocation> override_driver::read(const std::string& sliver) const {
  return inner_->read(sliver);
}

caf::error override_driver::set_override(const std::string& sliver, const std::string& resource,
                                         std::int64_t value) {
  auto old = overrides_.get(sliver);
  auto ov = old.value_or(state_store::values{});
  ov[resource] = value;
  if (auto err = overrides_.put(sliver, ov))
    return err;
  if (auto err = reapply(sliver)) {
    if (old)
      overrides_.put(sliver, *old);
    else
      overrides_.erase(sliver);
    return err;
  }
  return {};
}

caf::error override_driver::clear_overrides(const std::string& sliver) {
  auto old = overrides_.get(sliver);
  if (auto err = overrides_.erase(sliver))
    return err;
  if (auto err = reapply(sliver)) {
    if (old)
      overrides_.put(sliver, *old);
    return err;
  }
  return {};
}

caf::error override_driver::enforce(const std::string& sliver, bool on) {
  auto old = overrides_.get(sliver);
  auto ov = old.value_or(state_store::values{});
  if (on)
    ov.erase("enforce");
  else
    ov["enforce"] = 0;
  if (auto err = overrides_.put(sliver, ov))
    return err;
  if (auto err = reapply(sliver)) {
    if (old)
      overrides_.put(sliver, *old);
    else
      overrides_.erase(sliver);
    return err;
  }
  return {};
}

state_store::values override_driver::overrides(const std::string& sliver) const {
  auto ov = overrides_.get(sliver).value_or(state_store::values{});
  ov.erase("enforce");
  return ov;
}

bool override_driver::enforced(const std::string& sliver) const {
  auto ov = overrides_.get(sliver).value_or(state_store::values{});
  auto i = ov.find("enforce");
  return i == ov.end() || i->second != 0;
}

} // namespace pl::drivers
