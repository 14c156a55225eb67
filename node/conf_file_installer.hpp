#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <caf/expected.hpp>

#include "node/desired_state.hpp"

// Installs GetSlivers' conf_files on the node as node manager's
// `conf_files.py` did (issue #6 point 9): fetch each enabled file from PLC's
// boot server, skip it when its SHA-1 matches the installed file (unless
// always_update), run preinstall_cmd (on failure: error_cmd, and stop
// unless ignore_cmd_errors), write it with its owner, group and mode, run
// postinstall_cmd (on failure: error_cmd).

namespace pl::node {

/// Connects the installer to the outside world; tests replace any of it.
struct conf_file_hooks {
  /// Fetches a URL's body (HTTPS with PLC's CA in the node manager).
  std::function<caf::expected<std::string>(const std::string& url)> fetch;
  /// Runs a shell command line and returns its exit status (non-zero also
  /// when it could not be run or was killed). Default: `/bin/sh -c`.
  std::function<int(const std::string& command)> run;
  /// Looks up a user or group id by name. Default: the node's passwd and
  /// group databases.
  std::function<std::optional<uid_t>(const std::string& name)> user;
  std::function<std::optional<gid_t>(const std::string& name)> group;
};

/// Configures a `conf_file_installer`.
struct conf_file_options {
  /// The host serving `source` paths (PLC_BOOT_HOST).
  std::string boot_host;
  /// Appended to each URL as `node_id=N`, as the original did; 0 for none.
  std::int32_t node_id = 0;
  /// Where `dest` paths are rooted ("/" on a node; a scratch directory in
  /// tests).
  std::filesystem::path root = "/";
};

/// Says what happened to one conf file.
enum class conf_file_outcome : std::uint8_t {
  /// Not enabled: nothing done.
  disabled,
  /// The installed file has the same SHA-1: not rewritten, no commands run
  /// (owner, group and mode are corrected if they differ).
  unchanged,
  installed,
  /// preinstall_cmd failed and errors are not ignored: not installed.
  refused,
  /// Not installed: bad record, unknown owner or group, fetch or write
  /// failure (see `detail`).
  failed,
};

/// Returns the outcome's name, e.g. `installed`.
std::string to_string(conf_file_outcome x);

/// Reports one conf file's installation.
struct conf_file_report {
  std::string dest;
  conf_file_outcome outcome = conf_file_outcome::failed;
  /// Says why for `refused` and `failed`, or which command failed after an
  /// install (`postinstall_cmd failed (status 3)`); empty otherwise.
  std::string detail;

  friend bool operator==(const conf_file_report&, const conf_file_report&) = default;
};

/// Returns the URL the original fetched: `https://<boot_host>/<source>`
/// plus `node_id=N` (after `?`, or `&` when the source has a query).
std::string conf_file_url(const conf_file_options& options, const std::string& source);

/// Returns the hex SHA-1 of `data`.
std::string sha1_hex(std::string_view data);

/// Installs conf files; one instance per node manager.
class conf_file_installer {
public:
  /// `hooks.fetch` is required; empty `run`, `user` and `group` get the
  /// defaults.
  conf_file_installer(conf_file_options options, conf_file_hooks hooks);

  /// Installs one file.
  conf_file_report install(const conf_file& file);

  /// Installs every file in order (one failure does not stop the others).
  std::vector<conf_file_report> install_all(const std::vector<conf_file>& files);

private:
  conf_file_options options_;
  conf_file_hooks hooks_;
};

/// Runs `command` with `/bin/sh -c` and returns its exit status (128 + the
/// signal number when killed, 127 when it could not be started).
int run_shell(const std::string& command);

} // namespace pl::node
