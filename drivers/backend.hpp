#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "drivers/container_backend.hpp"
#include "drivers/override_driver.hpp"

namespace pl::drivers {

/// Chooses and configures the backend at start-up.
struct backend_options {
  /// `linux` (kernel knobs) or `sim` (in-memory model).
  std::string kind = "linux";
  /// Where drivers record what they created and resman its overrides.
  std::filesystem::path state_dir = "/var/lib/planetlab/drivers";
  /// cgroupfs location (a fake tree in tests).
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  /// The parent group below this process's cgroup in every hierarchy.
  std::string cgroup_parent = "planetlab";
  /// Where reference images live: `<images_dir>/<vref>`.
  std::filesystem::path images_dir = "/var/lib/planetlab/images";
  /// The device carrying the bwlimit HTB tree (empty: no net driver).
  std::string net_device;
  /// The network namespace of `net_device` (empty: this process's).
  std::string net_netns;
  /// The node's outbound cap in kbps (HTB class 1:1).
  std::int64_t net_cap_kbps = 1000000;
};

/// Holds one driver per mechanism (each behind an `override_driver`) and the
/// container backend.
struct backend {
  std::string kind;
  std::map<mechanism, std::shared_ptr<override_driver>> drivers;
  std::shared_ptr<container_backend> containers;
  /// Keeps backend-specific objects alive (the sim model, the cgroup layout).
  std::shared_ptr<void> keep;

  /// Returns the driver of `m`, or nullptr when the host lacks it.
  override_driver* find(mechanism m) const;
};

/// Builds the backend `opts.kind`; fails for an unknown kind or when the
/// linux backend finds no cgroup controllers.
caf::expected<backend> make_backend(const backend_options& opts);

} // namespace pl::drivers
