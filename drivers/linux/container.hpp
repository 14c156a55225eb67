#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "drivers/container_backend.hpp"
#include "drivers/linux/htb.hpp"
#include "drivers/state_store.hpp"

namespace pl::drivers::linux_ct {

/// The slice account's uid in its sliver: 10000 + slice_id (1000 without an id).
inline uid_t slice_uid(const sliver_spec& spec) {
  return spec.slice_id > 0 ? static_cast<uid_t>(10000 + spec.slice_id) : 1000;
}

/// How `enter` runs its command.
struct enter_options {
  /// Run as the slice's account (its recorded uid and gid, no supplementary
  /// groups) instead of root.
  bool as_slice = false;
  /// With `as_slice`: this uid and gid instead of the recorded one (pl-vsh
  /// passes its caller's).
  std::optional<uid_t> uid;
  /// stdout and stderr of the command (-1: inherited).
  int out_fd = -1;
  /// The environment (`NAME=value`); empty: PATH and TERM=dumb.
  std::vector<std::string> env;
  /// The working directory inside the container ("/" when absent there).
  std::string cwd = "/";
};

/// Where a container's pieces come from.
struct container_options {
  /// Reference images: `<images_dir>/<vref>` is the overlay's lower layer.
  std::filesystem::path images_dir;
  /// The driver's own directory: `<dir>/<sliver>/{upper,work,root}`.
  std::filesystem::path dir;
  /// Returns the sliver's own file system (its disk image), used for the
  /// writable layer when present.
  std::function<std::optional<std::filesystem::path>(const std::string&)> writable;
  /// Returns the `cgroup.procs` files a sliver's processes must join.
  std::function<std::vector<std::filesystem::path>(const std::string&)> cgroup_procs;
  /// Returns the sliver's veth and addresses (assigning them when it has
  /// none); unset: the sliver's network namespace has only loopback.
  std::function<caf::expected<linux_net::veth_config>(const std::string&)> network;
  /// How often the container driver actor restarts containers whose init
  /// died (`died()`); zero: never.
  std::chrono::milliseconds watch_interval{10000};
  /// Returns the host directory holding the sliver's local API socket (the
  /// node manager's `<run_dir>/<sliver>`); `start` creates it when missing and
  /// bind-mounts it at `api_mount` inside the sliver, so a socket the node
  /// manager (re)creates there is the one the sliver sees. Unset: none.
  std::function<std::filesystem::path(const std::string&)> api_dir;
  /// Where `api_dir` appears inside every sliver.
  std::filesystem::path api_mount = "/run/planetlab/api";
};

/// Runs slivers as containers (the vserver replacement): an overlayfs
/// copy-on-write clone of the reference image as root, its own mount, PID,
/// UTS, IPC and network namespaces, its cgroups, and an `/etc/passwd` carrying
/// the slice's account and login shell (attribute `shell`, default `/bin/sh`;
/// a user may change it in that file, seed 4.2). The init (PID 1 inside) is
/// the image's `/bin/sleep`; its host pid and start time are recorded so a
/// restarted driver adopts running containers. With `network` set, `start`
/// adds a veth pair: the host end (`veth_config::host_ifname`, in its netns,
/// strict `rp_filter` so the sliver cannot send with another's address) and
/// `eth0` inside, with the /30 addresses and a default route via the host
/// end; `stop` deletes it (and so both ends) before killing the init.
class linux_containers : public container_backend {
public:
  explicit linux_containers(container_options opts);

  caf::error create(const sliver_spec& spec) override;
  caf::error start(const std::string& name) override;
  caf::error stop(const std::string& name) override;
  caf::error destroy(const std::string& name) override;
  std::vector<std::string> containers_list() const;
  std::vector<std::string> containers() const override { return containers_list(); }
  bool running(const std::string& name) const override;
  /// Started and not stopped, but the recorded init is gone.
  std::vector<std::string> died() const override;
  std::chrono::milliseconds watch_interval() const override { return opts_.watch_interval; }

  /// Runs `argv` inside the running container (all its namespaces and the
  /// cgroups its init is in), as root or, with `as_slice`, as the slice's
  /// account; output goes to `out_fd` (-1: inherited). Returns the wait status.
  caf::expected<int> enter(const std::string& name, const std::vector<std::string>& argv,
                           bool as_slice = false, int out_fd = -1);

  /// Same, with the environment, working directory and uid of `opts`.
  caf::expected<int> enter(const std::string& name, const std::vector<std::string>& argv,
                           const enter_options& opts);

  /// Returns the slice account's login shell from the container's passwd.
  caf::expected<std::string> login_shell(const std::string& name) const;

  /// Returns the host pid of the container's init, when running.
  std::optional<pid_t> init_pid(const std::string& name) const;

  /// Returns the merged root of the container.
  std::filesystem::path root(const std::string& name) const { return opts_.dir / name / "root"; }

  /// Returns the host end of the sliver's veth, while it has one.
  std::optional<linux_net::veth_config> veth(const std::string& name) const;

private:
  caf::error mount_root(const std::string& name, const std::string& vref);
  caf::error add_veth(const std::string& name, pid_t init);
  caf::error del_veth(const std::string& name);

  container_options opts_;
  state_store state_;
};

} // namespace pl::drivers::linux_ct
