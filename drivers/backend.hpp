#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "drivers/container_backend.hpp"
#include "drivers/override_driver.hpp"

namespace pl::drivers {

/// Chooses and configures the backend at start-up.
struct backend_options {
  /// `linux` (kernel knobs) or `sim` (in-memory model).
  std::string kind = "linux";
  /// Where drivers record what they created and resman its overrides; for
  /// `sim`, empty keeps those records in the backend (in memory).
  std::filesystem::path state_dir = "/var/lib/planetlab/drivers";
  /// cgroupfs location (a fake tree in tests).
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  /// The parent group below this process's cgroup in every hierarchy.
  std::string cgroup_parent = "planetlab";
  /// Where reference images live: `<images_dir>/<vref>`.
  std::filesystem::path images_dir = "/var/lib/planetlab/images";
  /// The device carrying the bwlimit HTB tree (empty: the one recorded under
  /// `state_dir` by an earlier `init`, else no net driver).
  std::string net_device;
  /// The named network namespace (`ip netns`) of `net_device` and of the
  /// slivers' host-side veth ends (empty: this process's).
  std::string net_netns;
  /// The node's outbound cap in kbps (HTB class 1:10's ceil).
  std::int64_t net_cap_kbps = 1000000;
  /// Exempt (Internet2) destination prefixes, IPv4 `a.b.c.d/len`: traffic to
  /// them uses the slices' classes below 1:20 (net_i2_* rates).
  std::vector<std::string> net_exempt;
  /// The slivers' addresses: a /30 per slice xid from this /16 (or larger).
  std::string net_subnet = "10.213.0.0/16";
  /// The host-side veth of slice xid is `<net_veth_prefix><xid>`.
  std::string net_veth_prefix = "plv";
  /// The node manager's local API run directory: `<api_run_dir>/<sliver>`
  /// (its socket) is bind-mounted into each linux sliver at
  /// `/run/planetlab/api`. Empty: nothing is mounted.
  std::filesystem::path api_run_dir;
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
