// plnode-setup: one-time node setup steps for nodemgr. `plnode-setup ssh`
// prepares slice logins (issue #6 point 10): installs pl-vsh setuid root with
// its pl-vsh.conf, creates the slice accounts' group and writes the sshd
// drop-in (keys from nodemgr's state, no forwarding for slice accounts).
// Idempotent; run as root. See node/README.md, "Logins".
#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/linux/exec.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/login.hpp"

namespace fs = std::filesystem;
using namespace pl;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::cerr << "plnode-setup: " << why << std::endl;
  std::exit(1);
}

// Writes `data` to `file` with `mode` through a temporary file and rename.
void install(const fs::path& file, const std::string& data, mode_t mode) {
  auto tmp = file.string() + ".new";
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    out << data;
    out.flush();
    if (!out)
      die("cannot write " + tmp);
  }
  if (::chown(tmp.c_str(), 0, 0) != 0 || ::chmod(tmp.c_str(), mode) != 0)
    die("chown/chmod " + tmp + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    die("rename " + tmp + ": " + std::strerror(errno));
}

std::string slurp(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    die("cannot read " + file.string());
  return {std::istreambuf_iterator<char>(in), {}};
}

// pl-vsh runs setuid root and trusts its directory: root-owned, nobody else
// may write it or any directory above it.
void check_secure_dir(const fs::path& dir) {
  for (auto p = fs::absolute(dir);; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0)
      die("stat " + p.string() + ": " + std::strerror(errno));
    bool sticky_root = p == p.root_path();
    if (st.st_uid != 0 || ((st.st_mode & 022) != 0 && !sticky_root))
      die(p.string() + " must be owned by root and writable by nobody else (pl-vsh is setuid)");
    if (p == p.parent_path())
      break;
  }
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"plnode-setup: one-time node setup for nodemgr"};
  app.require_subcommand(1);
  auto* ssh = app.add_subcommand("ssh", "slice logins: pl-vsh, its group, the sshd drop-in");
  fs::path state_dir = "/var/lib/planetlab/nodemgr", bin_dir = "/usr/local/sbin",
           sshd_dir = "/etc/ssh/sshd_config.d", vsh_source;
  std::string group = "slices";
  ssh->add_option("--state-dir", state_dir,
                  "nodemgr's state directory (its keys/ holds the authorized keys)");
  ssh->add_option("--bin-dir", bin_dir, "where pl-vsh is installed (default /usr/local/sbin)");
  ssh->add_option("--sshd-dir", sshd_dir,
                  "sshd's drop-in directory (default /etc/ssh/sshd_config.d)");
  ssh->add_option("--group", group, "the slice accounts' group (default slices)");
  ssh->add_option("--vsh", vsh_source, "the pl-vsh to install (default: next to plnode-setup)");
  CLI11_PARSE(app, argc, argv);

  if (::geteuid() != 0)
    die("must run as root");
  if (!state_dir.is_absolute())
    die("--state-dir must be an absolute path");
  if (group.empty() || !drivers::valid_sliver_name(group))
    die("--group: bad group name '" + group + "'");
  if (vsh_source.empty()) {
    std::error_code ec;
    vsh_source = fs::read_symlink("/proc/self/exe", ec).parent_path() / "pl-vsh";
  }
  if (!fs::is_regular_file(vsh_source))
    die("no pl-vsh at " + vsh_source.string() + " (--vsh PATH)");
  std::error_code ec;
  fs::create_directories(bin_dir, ec);
  fs::create_directories(sshd_dir, ec);
  fs::create_directories(state_dir / "keys", ec);
  bin_dir = fs::absolute(bin_dir);
  check_secure_dir(bin_dir);

  node::login::login_options lo;
  lo.vsh = bin_dir / "pl-vsh";
  lo.keys_dir = state_dir / "keys";
  lo.group = group;
  install(bin_dir / "pl-vsh.conf", node::login::vsh_config_text({.state_dir = state_dir}), 0644);
  install(lo.vsh, slurp(vsh_source), 04755);
  if (auto r = drivers::linux_exec::run({"getent", "group", group}); !r)
    if (auto made = drivers::linux_exec::run({"groupadd", "-r", group}); !made)
      die(drivers::describe(made.error()));
  install(sshd_dir / "planetlab.conf", node::login::sshd_dropin(lo), 0644);
  std::cout << "plnode-setup: installed " << lo.vsh.string() << " (setuid root) and "
            << (bin_dir / "pl-vsh.conf").string() << "; sshd drop-in "
            << (sshd_dir / "planetlab.conf").string() << "\n"
            << "plnode-setup: give nodemgr [login] vsh = \"" << lo.vsh.string()
            << "\" (and the same state_dir), then reload sshd" << std::endl;
  return 0;
}
