#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "drivers/mechanism_driver.hpp"
#include "drivers/state_store.hpp"

namespace pl::drivers {

/// Puts an administrator's overrides (set with resman) in front of a
/// mechanism driver, so the node manager honours them without knowing them.
///
/// Precedence, highest first, per resource value:
/// 1. `off`: the resource is not enforced (limits unlimited, shares at their
///    default, guarantees 0) until `on`;
/// 2. an administrator's override (`resman setlimit`), until `default`;
/// 3. the node manager's allocation (slice tags, then loans, as the resource
///    controller computed them), recorded here as "managed";
/// 4. the resource table's default.
///
/// `apply` records the managed allocation and enforces the merge; `read`
/// returns what is in force. Records live in `<state>/managed/<mechanism>/`
/// and `<state>/overrides/<mechanism>/` (key `enforce` = 0 marks `off`); with
/// an empty `state_dir` they are kept in memory (state_store).
class override_driver : public mechanism_driver {
public:
  override_driver(std::shared_ptr<mechanism_driver> inner, const std::filesystem::path& state_dir);

  mechanism kind() const override { return inner_->kind(); }
  caf::error init() override { return inner_->init(); }
  caf::error apply(const allocation& a) override;
  caf::error remove(const std::string& sliver) override;
  caf::expected<allocation> read(const std::string& sliver) const override;
  std::vector<std::string> slivers() const override { return inner_->slivers(); }
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override {
    return inner_->usage(sliver, resource);
  }

  /// Sets an override of `resource` and enforces it (when `on`).
  caf::error set_override(const std::string& sliver, const std::string& resource,
                          std::int64_t value);

  /// Drops every override of `sliver` (`on` again) and re-enforces the managed
  /// allocation or the defaults.
  caf::error clear_overrides(const std::string& sliver);

  /// Switches enforcement of the sliver's resources of this mechanism.
  caf::error enforce(const std::string& sliver, bool on);

  /// Returns the overrides in force for `sliver` (without the `enforce` key).
  state_store::values overrides(const std::string& sliver) const;

  /// Returns whether enforcement is on for `sliver`.
  bool enforced(const std::string& sliver) const;

  mechanism_driver& inner() { return *inner_; }

private:
  caf::error reapply(const std::string& sliver);

  std::shared_ptr<mechanism_driver> inner_;
  state_store managed_;
  state_store overrides_;
};

/// Returns the value of a resource that is not enforced: the row's maximum for
/// limits (0 for a limit whose default 0 means unlimited), the default for shares, 0 for
/// guarantees.
std::int64_t unenforced_value(const resource_info& row);

} // namespace pl::drivers
