#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace pl::drivers::linux_cg {

/// Says which cgroup interface serves a controller.
enum class version : std::uint8_t { v1 = 1, v2 = 2 };

/// One controller as the drivers use it.
struct controller {
  /// The v1 name: `cpu`, `cpuacct`, `memory`, `pids` or `blkio`.
  std::string name;
  version ver = version::v1;
  /// The `planetlab` parent: below this process's own cgroup in the
  /// controller's hierarchy, never the hierarchy's root.
  std::filesystem::path parent;
};

/// Where cgroupfs is and what the drivers' parent group is called.
struct layout_options {
  /// The directory holding the v1 hierarchies and/or the v2 mount
  /// (`/sys/fs/cgroup`; a fake tree in tests).
  std::filesystem::path fs_root = "/sys/fs/cgroup";
  /// The text of `/proc/self/cgroup`; read from procfs when empty.
  std::string self_cgroup;
  /// The name of the parent group created below the process's own cgroup.
  std::string parent_name = "planetlab";
};

/// Finds each controller's version and parent, and creates, fills and removes
/// the slivers' groups. A controller is v2 only when the unified root lists
/// it in `cgroup.controllers` (`<fs_root>/cgroup.controllers` on a pure v2
/// host, `<fs_root>/unified/...` on a hybrid one); otherwise v1 when
/// `<fs_root>/<name>` is mounted; otherwise absent.
class layout {
public:
  /// Detects the controllers; fails when `parent_name` is not a plain name.
  static caf::expected<layout> detect(const layout_options& opts);

  /// Returns the controller, or nullptr when the host has none of that name.
  const controller* find(std::string_view name) const;

  /// Returns every detected controller.
  const std::vector<controller>& controllers() const { return controllers_; }

  /// Returns the sliver's group in controller `ctl`.
  std::filesystem::path dir(const controller& ctl, std::string_view sliver) const;

  /// Creates the parent (enabling v2 controllers for its children) and the
  /// sliver's group; idempotent.
  caf::error ensure(const controller& ctl, std::string_view sliver) const;

  /// Kills the group's processes, then removes the group; no-op when absent.
  caf::error remove(const controller& ctl, std::string_view sliver) const;

  /// Lists the slivers' groups under the parent of `ctl`.
  std::vector<std::string> children(const controller& ctl) const;

  /// Moves process `pid` into the sliver's group of `ctl`.
  caf::error attach(const controller& ctl, std::string_view sliver, pid_t pid) const;

  /// Returns the pids in the sliver's group of `ctl`.
  std::vector<pid_t> procs(const controller& ctl, std::string_view sliver) const;

  /// Removes the parent group of `ctl` when it holds no sliver group.
  caf::error remove_parent_if_empty(const controller& ctl) const;

private:
  std::vector<controller> controllers_;
};

/// Returns the v2 name of a v1 controller (`blkio` -> `io`, `cpuacct` -> `cpu`).
std::string_view v2_name(std::string_view v1_name);

} // namespace pl::drivers::linux_cg
