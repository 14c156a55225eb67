// pl-vsh: the slice accounts' login shell on a node (the original's vsh).
// Installed setuid root by `plnode-setup ssh`; sshd runs it as the account of
// a slice (`pl-vsh` for a login, `pl-vsh -c COMMAND` for a command). It enters
// the running sliver of that name with the linux container driver (all its
// namespaces and cgroups), becomes the caller's uid there and runs the login
// shell from the sliver's /etc/passwd. Root may name the sliver:
// `pl-vsh --sliver NAME [-c COMMAND]` (as the slice account). Its only input
// besides argv is `<dir of pl-vsh>/pl-vsh.conf` (root-owned).
#include <cstdio>
#include <cstdlib>
#include <pwd.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "drivers/linux/container.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/login.hpp"

namespace fs = std::filesystem;
using namespace pl;

namespace {

int fail(const std::string& why) {
  std::fprintf(stderr, "pl-vsh: %s\n", why.c_str());
  return 1;
}

// The fields of `name`'s line in a passwd text (empty when absent).
std::vector<std::string> passwd_line(const std::string& text, const std::string& name) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) {
      std::vector<std::string> f;
      std::istringstream l{line};
      std::string x;
      while (std::getline(l, x, ':'))
        f.push_back(x);
      return f;
    }
  return {};
}

} // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0)
    return fail("must run as root (installed setuid root by plnode-setup ssh)");
  auto caller = ::getuid();
  std::string sliver, command;
  bool has_command = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sliver" && i + 1 < argc && caller == 0) {
      sliver = argv[++i];
    } else if (a == "-c" && i + 1 < argc) {
      has_command = true;
      command = argv[++i];
      if (i + 1 != argc)
        return fail("-c takes one command string (as sh -c from sshd)");
    } else if (a == "-l" || a == "-i") {
      // a login shell's flags; pl-vsh always starts a login shell
    } else {
      return fail("usage: pl-vsh [-c COMMAND] (root: pl-vsh --sliver NAME [-c COMMAND])");
    }
  }
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return fail("cannot find its own path: " + ec.message());
  std::optional<uid_t> uid;
  if (caller != 0) {
    // The sliver is the caller's own account, which must be a slice account
    // (pl-vsh its login shell): nothing else is taken from the caller.
    auto pw = ::getpwuid(caller);
    if (!pw)
      return fail("no account for uid " + std::to_string(caller));
    sliver = pw->pw_name;
    uid = caller;
    std::error_code sec;
    if (fs::canonical(pw->pw_shell ? pw->pw_shell : "", sec) != self)
      return fail(sliver + " is not a slice account (its login shell is not pl-vsh)");
  } else if (sliver.empty()) {
    return fail("root has no sliver: pl-vsh --sliver NAME [-c COMMAND]");
  }
  if (!drivers::valid_sliver_name(sliver))
    return fail("'" + sliver + "' is not a sliver name");

  auto cfg = node::login::load_vsh_config(self.parent_path() / "pl-vsh.conf");
  if (!cfg)
    return fail(drivers::describe(cfg.error()));

  drivers::linux_ct::container_options copts;
  copts.dir = cfg->state_dir / "drivers" / "containers";
  drivers::linux_ct::linux_containers containers{copts};
  if (!containers.running(sliver))
    return fail("the sliver " + sliver + " is not running on this node");
  auto passwd = drivers::linux_fs::read_text(containers.root(sliver) / "etc" / "passwd");
  auto fields = passwd ? passwd_line(*passwd, sliver) : std::vector<std::string>{};
  if (fields.size() < 7)
    return fail("no account " + sliver + " in the sliver's /etc/passwd");
  auto home = fields[5], shell = fields[6];
  if (shell.empty() || shell.front() != '/')
    shell = "/bin/sh";

  drivers::linux_ct::enter_options opts;
  opts.as_slice = true;
  opts.uid = uid;
  opts.cwd = home;
  opts.env = {"HOME=" + home, "USER=" + sliver, "LOGNAME=" + sliver, "SHELL=" + shell,
              "PATH=/usr/local/bin:/usr/bin:/bin"};
  if (const char* term = std::getenv("TERM");
      term && std::string{term}.find('\n') == std::string::npos)
    opts.env.push_back(std::string{"TERM="} + term);
  std::vector<std::string> args{shell};
  if (has_command) {
    args.push_back("-c");
    args.push_back(command);
  } else {
    args.push_back("-l");
  }
  auto status = containers.enter(sliver, args, opts);
  if (!status)
    return fail(drivers::describe(status.error()));
  if (WIFEXITED(*status))
    return WEXITSTATUS(*status);
  return 128 + (WIFSIGNALED(*status) ? WTERMSIG(*status) : 0);
}
