#include "node/login.hpp"
#include "node/atomic_file.hpp"

#include <cerrno>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "actors/errors.hpp"
#include "drivers/linux/container.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/mechanism_driver.hpp"

namespace fs = std::filesystem;

namespace pl::node::login {

namespace {

struct account {
  std::string name, shell;
  uid_t uid = 0;
};

std::optional<account> by_name(const std::string& name) {
  passwd pw{}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return account{pw.pw_name, pw.pw_shell ? pw.pw_shell : "", pw.pw_uid};
}

std::optional<account> by_uid(uid_t uid) {
  passwd pw{}, *found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found)
    return std::nullopt;
  return account{pw.pw_name, pw.pw_shell ? pw.pw_shell : "", pw.pw_uid};
}

bool group_exists(const std::string& name) {
  group gr{}, *found = nullptr;
  std::vector<char> buf(16384);
  return ::getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found;
}

caf::error write_keys(const login_options& opts, const std::string& name,
                      const std::vector<std::string>& keys) {
  std::error_code ec;
  fs::create_directories(opts.keys_dir, ec);
  if (ec)
    return make_error(errc::mechanism_failure,
                      "mkdir " + opts.keys_dir.string() + ": " + ec.message());
  fs::permissions(opts.keys_dir, fs::perms(0755), ec);
  std::string text;
  for (auto key : keys) {
    // One line per key: a key with a line break could smuggle in a second
    // line (with options such as command=...); it is left out.
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t'))
      key.pop_back();
    if (key.empty() || key.find_first_of("\r\n") != std::string::npos)
      continue;
    text += key + "\n";
  }
  // sshd reads it as the slice account: 0644, and never through a link.
  if (auto why = replace_file(opts.keys_dir / name, text, {.mode = 0644, .no_follow = true}))
    return make_error(errc::mechanism_failure, *why);
  return caf::none;
}

} // namespace

bool is_slice_account(const login_options& opts, const std::string& name) {
  auto a = by_name(name);
  return a && a->shell == opts.vsh.string();
}

caf::error add_account(const login_options& opts, const std::string& name, unsigned uid,
                       const std::vector<std::string>& keys) {
  if (!drivers::valid_sliver_name(name) || name.front() == '-')
    return make_error(errc::invalid_argument, "bad account name '" + name + "'");
  if (uid == 0)
    return make_error(errc::invalid_argument, "slice account " + name + " cannot have uid 0");
  if (auto a = by_name(name)) {
    if (a->shell != opts.vsh.string())
      return make_error(errc::invalid_argument, "host account " + name +
                                                    " exists and is not a slice account (shell " +
                                                    a->shell + ")");
    if (a->uid != uid)
      return make_error(errc::invalid_argument, "host account " + name + " has uid " +
                                                    std::to_string(a->uid) + ", its sliver " +
                                                    std::to_string(uid));
  } else {
    if (auto other = by_uid(uid))
      return make_error(errc::invalid_argument, "uid " + std::to_string(uid) + " of slice " + name +
                                                    " is taken by host account " + other->name);
    if (!group_exists(opts.group))
      if (auto r = drivers::linux_exec::run({"groupadd", "-r", opts.group}); !r)
        return r.error();
    // No password ('*': key logins only), no home on the host: pl-vsh takes
    // the session into the sliver, where the home is.
    if (auto r = drivers::linux_exec::run({"useradd", "-u", std::to_string(uid), "-g", opts.group,
                                           "-M", "-d", "/", "-s", opts.vsh.string(), "-p", "*",
                                           "-c", "PlanetLab slice " + name, name});
        !r)
      return r.error();
  }
  return write_keys(opts, name, keys);
}

caf::error remove_account(const login_options& opts, const std::string& name) {
  if (!drivers::valid_sliver_name(name) || name.front() == '-')
    return make_error(errc::invalid_argument, "bad account name '" + name + "'");
  std::error_code ec;
  fs::remove(opts.keys_dir / name, ec);
  if (is_slice_account(opts, name))
    if (auto r = drivers::linux_exec::run({"userdel", name}); !r)
      return r.error();
  return {};
}

std::string sshd_dropin(const login_options& opts) {
  std::ostringstream out;
  out << "# Written by plnode-setup ssh (node/README.md, Logins): slice accounts log in to\n"
         "# their slivers through pl-vsh, with the keys nodemgr writes from GetSlivers.\n"
      << "AuthorizedKeysFile .ssh/authorized_keys " << opts.keys_dir.string() << "/%u\n"
      << "Match Group " << opts.group << "\n"
      << "    AllowTcpForwarding no\n"
         "    AllowStreamLocalForwarding no\n"
         "    AllowAgentForwarding no\n"
         "    X11Forwarding no\n"
         "    PermitTunnel no\n"
         "    PasswordAuthentication no\n"
         "Match all\n";
  return out.str();
}

namespace {

class login_containers : public drivers::container_backend {
public:
  login_containers(std::shared_ptr<drivers::container_backend> inner, login_options opts)
      : inner_(std::move(inner))
      , opts_(std::move(opts)) {}

  caf::error create(const sliver_spec& spec) override {
    if (auto err = inner_->create(spec))
      return err;
    if (spec.slice_id <= 0)
      return {};
    return add_account(opts_, spec.name, drivers::linux_ct::slice_uid(spec), spec.keys);
  }

  caf::error start(const std::string& name) override { return inner_->start(name); }

  caf::error stop(const std::string& name) override { return inner_->stop(name); }

  caf::error destroy(const std::string& name) override {
    if (auto err = inner_->destroy(name))
      return err;
    return remove_account(opts_, name);
  }

  std::vector<std::string> containers() const override { return inner_->containers(); }

  bool running(const std::string& name) const override { return inner_->running(name); }

  std::vector<std::string> died() const override { return inner_->died(); }

  std::chrono::milliseconds watch_interval() const override { return inner_->watch_interval(); }

private:
  std::shared_ptr<drivers::container_backend> inner_;
  login_options opts_;
};

} // namespace

std::shared_ptr<drivers::container_backend>
with_logins(std::shared_ptr<drivers::container_backend> inner, login_options opts) {
  return std::make_shared<login_containers>(std::move(inner), std::move(opts));
}

caf::expected<vsh_config> load_vsh_config(const fs::path& file) {
  for (const auto& p : {file, file.parent_path()}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0)
      return drivers::linux_fs::os_error("stat " + p.string(), errno);
    if (st.st_uid != 0 || (st.st_mode & 022) != 0)
      return make_error(errc::invalid_argument,
                        p.string() + " must be owned by root and writable by nobody else");
  }
  auto text = drivers::linux_fs::read_text(file);
  if (!text)
    return text.error();
  vsh_config cfg;
  std::istringstream in{*text};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line.front() == '#')
      continue;
    auto eq = line.find('=');
    auto where = file.string() + ":" + std::to_string(n) + ": ";
    if (eq == std::string::npos)
      return make_error(errc::invalid_argument, where + "expected key=value");
    auto key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key != "state_dir")
      return make_error(errc::invalid_argument, where + "unknown key '" + key + "'");
    if (value.empty() || value.front() != '/')
      return make_error(errc::invalid_argument, where + "state_dir must be an absolute path");
    cfg.state_dir = value;
  }
  return cfg;
}

std::string vsh_config_text(const vsh_config& cfg) {
  return "# pl-vsh: where nodemgr keeps its state (written by plnode-setup ssh)\nstate_dir=" +
         cfg.state_dir.string() + "\n";
}

} // namespace pl::node::login
