#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "drivers/container_backend.hpp"

// Logins (issue #6 point 10, the original's vsh): a slice's members ssh to the
// node as the slice account and land inside the sliver. The node holds one
// host account per sliver (uid as in the sliver, primary group `slices`, login
// shell pl-vsh, no password), and the slice members' keys from GetSlivers in
// `<keys_dir>/<slice>`, which sshd reads through the drop-in `plnode-setup ssh`
// writes. pl-vsh (setuid root) enters the sliver of its caller's account with
// the linux container driver's `enter` and runs the login shell from the
// sliver's own /etc/passwd. See node/README.md, "Logins".

namespace pl::node::login {

/// Where a node's login pieces are.
struct login_options {
  /// The slice accounts' login shell on the host: the installed pl-vsh.
  std::filesystem::path vsh = "/usr/local/sbin/pl-vsh";
  /// Authorized keys, one root-owned file per slice account.
  std::filesystem::path keys_dir = "/var/lib/planetlab/nodemgr/keys";
  /// The slice accounts' primary group on the host (created when missing).
  std::string group = "slices";
};

/// Makes or updates the host account `name` (uid `uid`) and writes `keys` as
/// its authorized keys; refuses an existing account that is not a slice
/// account (another login shell), changing nothing.
caf::error add_account(const login_options& opts, const std::string& name, unsigned uid,
                       const std::vector<std::string>& keys);

/// Removes the host account `name` (when it is a slice account) and its keys.
caf::error remove_account(const login_options& opts, const std::string& name);

/// Returns whether the host account `name` exists and has pl-vsh as its shell.
bool is_slice_account(const login_options& opts, const std::string& name);

/// Returns the sshd_config drop-in for these options (keys file per account;
/// no forwarding for the `group`, whose accounts live in their slivers).
std::string sshd_dropin(const login_options& opts);

/// Wraps a container backend: `create` also makes the sliver's host account
/// and keys (slivers without a slice id get none: their uid would be shared),
/// `destroy` removes them. Other calls pass through.
std::shared_ptr<drivers::container_backend>
with_logins(std::shared_ptr<drivers::container_backend> inner, login_options opts);

/// pl-vsh's configuration: `<dir of pl-vsh>/pl-vsh.conf`, lines `key=value`
/// (`state_dir`, nodemgr's state directory). Only a root-owned file that
/// nobody else may write is read (pl-vsh runs setuid root).
struct vsh_config {
  std::filesystem::path state_dir = "/var/lib/planetlab/nodemgr";
};

/// Reads and checks a vsh_config file.
caf::expected<vsh_config> load_vsh_config(const std::filesystem::path& file);

/// Returns the text of a vsh_config file.
std::string vsh_config_text(const vsh_config& cfg);

} // namespace pl::node::login
