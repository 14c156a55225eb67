#include "drivers/linux/container.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "actors/errors.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/mechanism_driver.hpp"

namespace fs = std::filesystem;

namespace pl::drivers::linux_ct {

namespace {

// Returns field 22 (start time) of /proc/<pid>/stat, or -1; zombies count as
// gone (-1).
std::int64_t start_time(pid_t pid) {
  auto text = linux_fs::read_text("/proc/" + std::to_string(pid) + "/stat");
  if (!text)
    return -1;
  auto close = text->rfind(')');
  if (close == std::string::npos)
    return -1;
  std::istringstream in{text->substr(close + 2)};
  std::string field;
  std::vector<std::string> fields;
  while (in >> field)
    fields.push_back(field);
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X")
    return -1;
  return std::stoll(fields[19]);
}

void write_all(int fd, const char* s) {
  auto n = ::strlen(s);
  [[maybe_unused]] auto r = ::write(fd, s, n);
}

// Returns `ip [-n netns] args...`.
std::vector<std::string> ip_argv(const linux_net::veth_config& v, std::vector<std::string> args) {
  std::vector<std::string> out{"ip"};
  if (!v.netns.empty()) {
    out.push_back("-n");
    out.push_back(v.netns);
  }
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

bool link_exists(const linux_net::veth_config& v) {
  return static_cast<bool>(linux_exec::run(ip_argv(v, {"link", "show", "dev", v.host_ifname})));
}

// Returns the `cgroup.procs` files of the cgroups `pid` is in, in every
// hierarchy mounted here (v1 controllers and named hierarchies, v2), found
// through this process's mount table.
std::vector<std::string> cgroups_of(pid_t pid) {
  std::vector<std::string> out;
  auto self = linux_fs::read_text("/proc/" + std::to_string(pid) + "/cgroup");
  auto mounts = linux_fs::read_text("/proc/self/mountinfo");
  if (!self || !mounts)
    return out;
  // v1: mount point and super options (the controllers); v2: its mount point.
  std::vector<std::pair<std::string, std::vector<std::string>>> v1;
  std::string v2;
  std::istringstream min{*mounts};
  std::string line;
  while (std::getline(min, line)) {
    std::istringstream fields{line};
    std::vector<std::string> f;
    std::string x;
    while (fields >> x)
      f.push_back(x);
    auto dash = std::find(f.begin(), f.end(), "-");
    if (f.size() < 5 || dash == f.end() || f.end() - dash < 4)
      continue; // "- fstype source super_options" after the optional fields
    auto fstype = *(dash + 1);
    if (fstype == "cgroup2" && v2.empty())
      v2 = f[4];
    if (fstype == "cgroup") {
      std::vector<std::string> opts;
      std::istringstream o{*(dash + 3)};
      while (std::getline(o, x, ','))
        opts.push_back(x);
      v1.emplace_back(f[4], std::move(opts));
    }
  }
  std::istringstream cin{*self};
  while (std::getline(cin, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos)
      continue;
    auto ctrls = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::string mount;
    if (ctrls.empty()) {
      mount = v2;
    } else {
      std::vector<std::string> want;
      std::istringstream w{ctrls};
      std::string x;
      while (std::getline(w, x, ','))
        want.push_back(x);
      for (const auto& [point, opts] : v1)
        if (std::all_of(want.begin(), want.end(), [&](const std::string& c) {
              return std::find(opts.begin(), opts.end(), c) != opts.end();
            })) {
          mount = point;
          break;
        }
    }
    if (mount.empty())
      continue;
    auto procs = mount + (path == "/" ? std::string{} : path) + "/cgroup.procs";
    std::error_code ec;
    if (fs::exists(procs, ec))
      out.push_back(procs);
  }
  return out;
}

} // namespace

linux_containers::linux_containers(container_options opts)
    : opts_(std::move(opts))
    , state_(opts_.dir / "records") {}

caf::error linux_containers::mount_root(const std::string& name, const std::string& vref) {
  auto lower = opts_.images_dir / vref;
  std::error_code ec;
  if (vref.empty() || vref.find('/') != std::string::npos || !fs::is_directory(lower, ec))
    return make_error(errc::invalid_argument,
                      "no reference image '" + vref + "' in " + opts_.images_dir.string());
  auto base = opts_.dir / name;
  if (opts_.writable)
    if (auto w = opts_.writable(name))
      base = *w;
  auto upper = base / "upper", work = base / "work", merged = root(name);
  for (const auto& d : {upper, work, merged}) {
    fs::create_directories(d, ec);
    if (ec)
      return make_error(errc::mechanism_failure, "mkdir " + d.string() + ": " + ec.message());
  }
  auto mounts = linux_fs::read_text("/proc/self/mountinfo");
  if (mounts && mounts->find(" " + merged.string() + " ") != std::string::npos)
    return {};
  auto data =
      "lowerdir=" + lower.string() + ",upperdir=" + upper.string() + ",workdir=" + work.string();
  if (::mount("overlay", merged.c_str(), "overlay", 0, data.c_str()) != 0)
    return linux_fs::os_error("mount overlay on " + merged.string(), errno);
  return {};
}

caf::error linux_containers::create(const sliver_spec& spec) {
  if (!valid_sliver_name(spec.name))
    return make_error(errc::invalid_argument, "bad sliver name '" + spec.name + "'");
  if (auto err = mount_root(spec.name, spec.vref))
    return err;
  auto uid = slice_uid(spec);
  auto shell = std::string{"/bin/sh"};
  if (auto i = spec.attributes.find("shell"); i != spec.attributes.end() && !i->second.empty())
    shell = i->second;
  auto r = root(spec.name);
  std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
  if (auto text = linux_fs::read_text(r / "etc" / "passwd"))
    passwd = *text;
  std::istringstream in{passwd};
  std::string line, out;
  bool present = false;
  while (std::getline(in, line)) {
    if (line.rfind(spec.name + ":", 0) == 0) {
      // Keep the user's own edits (e.g. a changed shell) on an update.
      present = true;
    }
    out += line + "\n";
  }
  if (!present)
    out += spec.name + ":x:" + std::to_string(uid) + ":" + std::to_string(uid) +
           ":PlanetLab slice " + spec.name + ":/home/" + spec.name + ":" + shell + "\n";
  std::error_code ec;
  fs::create_directories(r / "etc", ec);
  if (auto err = linux_fs::write_text(r / "etc" / "passwd", out))
    return err;
  fs::create_directories(r / "home" / spec.name, ec);
  if (::chown((r / "home" / spec.name).c_str(), uid, uid) != 0)
    return linux_fs::os_error("chown home of " + spec.name, errno);
  fs::create_directories(r / "proc", ec);
  auto rec = state_.get(spec.name).value_or(state_store::values{});
  rec["uid"] = uid;
  return state_.put(spec.name, rec);
}

std::optional<pid_t> linux_containers::init_pid(const std::string& name) const {
  auto rec = state_.get(name);
  if (!rec || !rec->count("pid") || !rec->count("start"))
    return std::nullopt;
  auto pid = static_cast<pid_t>(rec->at("pid"));
  if (start_time(pid) != rec->at("start"))
    return std::nullopt;
  return pid;
}

bool linux_containers::running(const std::string& name) const {
  return init_pid(name).has_value();
}

std::vector<std::string> linux_containers::died() const {
  // `stop` erases the pid, so a recorded pid without its process is a death.
  std::vector<std::string> out;
  for (const auto& name : state_.list())
    if (auto rec = state_.get(name); rec && rec->count("pid") && !init_pid(name))
      out.push_back(name);
  return out;
}

caf::error linux_containers::start(const std::string& name) {
  auto rec = state_.get(name);
  if (!rec)
    return make_error(errc::unknown_sliver, name);
  if (running(name))
    return {};
  auto r = root(name);
  // Everything the children need is prepared before fork: after fork in a
  // multi-threaded process only async-signal-safe calls are allowed.
  auto root_str = r.string();
  std::vector<std::string> procs;
  if (opts_.cgroup_procs)
    for (const auto& p : opts_.cgroup_procs(name))
      procs.push_back(p.string());
  // The local API's socket directory, bound into the sliver's own mount
  // namespace at each start (so once per running init: idempotent).
  std::string api_src, api_dst;
  if (opts_.api_dir) {
    auto src = opts_.api_dir(name);
    auto dst = r / opts_.api_mount.relative_path();
    std::error_code ec;
    fs::create_directories(src, ec);
    if (ec)
      return make_error(errc::mechanism_failure, "mkdir " + src.string() + ": " + ec.message());
    fs::create_directories(dst, ec);
    if (ec)
      return make_error(errc::mechanism_failure, "mkdir " + dst.string() + ": " + ec.message());
    api_src = src.string();
    api_dst = dst.string();
  }
  const char* argv[] = {"sleep", "2147483647", nullptr};
  const char* envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", nullptr};
  int pid_pipe[2], ready[2];
  if (::pipe2(pid_pipe, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0)
    return linux_fs::os_error("pipe", errno);
  // The init's stdio: not the node manager's (a log pipe held open by every
  // sliver would never see EOF); the image need not have a /dev/null.
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return linux_fs::os_error("open /dev/null", errno);
  auto mid = ::fork();
  if (mid < 0) {
    auto err = errno;
    ::close(devnull);
    return linux_fs::os_error("fork", err);
  }
  if (mid == 0) {
    for (const auto& p : procs) {
      int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        ::_exit(10);
      write_all(fd, "0");
      ::close(fd);
    }
    if (::unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID) != 0)
      ::_exit(11);
    auto init = ::fork();
    if (init < 0)
      ::_exit(12);
    if (init == 0) {
      ::close(ready[0]);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        ::_exit(13);
      if (::sethostname(name.data(), name.size()) != 0)
        ::_exit(14);
      if (!api_src.empty() &&
          ::mount(api_src.c_str(), api_dst.c_str(), nullptr, MS_BIND, nullptr) != 0)
        ::_exit(21);
      if (::chdir(root_str.c_str()) != 0)
        ::_exit(15);
      if (::syscall(SYS_pivot_root, ".", ".") != 0)
        ::_exit(16);
      if (::umount2(".", MNT_DETACH) != 0)
        ::_exit(17);
      if (::chdir("/") != 0)
        ::_exit(18);
      if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        ::_exit(19);
      if (::dup2(devnull, 0) < 0 || ::dup2(devnull, 1) < 0 || ::dup2(devnull, 2) < 0)
        ::_exit(22);
      ::setsid();
      ::execve("/bin/sleep", const_cast<char**>(argv), const_cast<char**>(envp));
      ::_exit(20);
    }
    [[maybe_unused]] auto n = ::write(pid_pipe[1], &init, sizeof(init));
    ::_exit(0);
  }
  ::close(devnull);
  ::close(pid_pipe[1]);
  ::close(ready[1]);
  pid_t init = -1;
  auto n = ::read(pid_pipe[0], &init, sizeof(init));
  ::close(pid_pipe[0]);
  int status = 0;
  ::waitpid(mid, &status, 0);
  // EOF on `ready` means the init exec'd (close-on-exec) or died.
  char c;
  while (::read(ready[0], &c, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (n != sizeof(init) || init <= 0)
    return make_error(errc::mechanism_failure,
                      "starting " + name + " failed (setup step " +
                          std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  auto st = start_time(init);
  if (st < 0)
    return make_error(errc::mechanism_failure, "the init of " + name + " died during setup");
  (*rec)["pid"] = init;
  (*rec)["start"] = st;
  if (auto err = state_.put(name, *rec))
    return err;
  if (opts_.network)
    if (auto err = add_veth(name, init)) {
      [[maybe_unused]] auto ignored = stop(name);
      return err;
    }
  return {};
}

std::optional<linux_net::veth_config> linux_containers::veth(const std::string& name) const {
  auto text = linux_fs::read_text(opts_.dir / name / "veth");
  if (!text)
    return std::nullopt;
  std::istringstream in{*text};
  linux_net::veth_config v;
  std::getline(in, v.host_ifname);
  std::getline(in, v.netns);
  if (v.host_ifname.empty())
    return std::nullopt;
  return v;
}

caf::error linux_containers::add_veth(const std::string& name, pid_t init) {
  auto v = opts_.network(name);
  if (!v)
    return v.error();
  const auto& host = v->host_ifname;
  auto run = [](const std::vector<std::string>& argv, const std::string& ns = {}) -> caf::error {
    if (auto r = linux_exec::run_in(ns, argv); !r)
      return r.error();
    return {};
  };
  if (link_exists(*v))
    if (auto err = run(ip_argv(*v, {"link", "del", host})))
      return err;
  // Recorded first, so that `stop` removes a half-made pair.
  if (auto err = linux_fs::write_text(opts_.dir / name / "veth", host + "\n" + v->netns + "\n"))
    return err;
  auto host_ns = v->netns.empty() ? std::string{} : "/run/netns/" + v->netns;
  auto inside = "/proc/" + std::to_string(init) + "/ns/net";
  auto len = "/" + std::to_string(v->prefix_len);
  for (const auto& [argv, ns] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {ip_argv(*v, {"link", "add", host, "type", "veth", "peer", "name", "eth0", "netns",
                         std::to_string(init)}),
            ""},
           {ip_argv(*v, {"addr", "add", v->host_address + len, "dev", host}), ""},
           {ip_argv(*v, {"link", "set", host, "up"}), ""},
           {{"sysctl", "-qw", "net.ipv4.conf." + host + ".rp_filter=1"}, host_ns},
           {{"ip", "link", "set", "lo", "up"}, inside},
           {{"ip", "addr", "add", v->sliver_address + len, "dev", "eth0"}, inside},
           {{"ip", "link", "set", "eth0", "up"}, inside},
           {{"ip", "route", "add", "default", "via", v->host_address}, inside},
       })
    if (auto err = run(argv, ns))
      return err;
  return {};
}

caf::error linux_containers::del_veth(const std::string& name) {
  auto v = veth(name);
  if (!v)
    return {};
  // Deleting one end deletes both, synchronously (a dying namespace would
  // take its end only later).
  if (link_exists(*v))
    if (auto r = linux_exec::run(ip_argv(*v, {"link", "del", v->host_ifname})); !r)
      return r.error();
  std::error_code ec;
  fs::remove(opts_.dir / name / "veth", ec);
  return {};
}

caf::error linux_containers::stop(const std::string& name) {
  auto rec = state_.get(name);
  if (!rec)
    return make_error(errc::unknown_sliver, name);
  if (auto err = del_veth(name))
    return err;
  if (auto pid = init_pid(name)) {
    // Killing PID 1 of a PID namespace kills every process in it.
    ::kill(*pid, SIGKILL);
    for (int i = 0; i < 500 && start_time(*pid) >= 0; ++i) {
      ::waitpid(*pid, nullptr, WNOHANG);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  rec->erase("pid");
  rec->erase("start");
  return state_.put(name, *rec);
}

caf::error linux_containers::destroy(const std::string& name) {
  if (!valid_sliver_name(name))
    return make_error(errc::invalid_argument, "bad sliver name '" + name + "'");
  if (state_.get(name))
    if (auto err = stop(name))
      return err;
  auto r = root(name);
  auto mounts = linux_fs::read_text("/proc/self/mountinfo");
  if (mounts && mounts->find(" " + r.string() + " ") != std::string::npos &&
      ::umount(r.c_str()) != 0 && ::umount2(r.c_str(), MNT_DETACH) != 0)
    return linux_fs::os_error("umount " + r.string(), errno);
  std::error_code ec;
  if (opts_.writable)
    if (auto w = opts_.writable(name)) {
      fs::remove_all(*w / "upper", ec);
      fs::remove_all(*w / "work", ec);
    }
  fs::remove_all(opts_.dir / name, ec);
  return state_.erase(name);
}

std::vector<std::string> linux_containers::containers_list() const {
  return state_.list();
}

caf::expected<std::string> linux_containers::login_shell(const std::string& name) const {
  auto passwd = linux_fs::read_text(root(name) / "etc" / "passwd");
  if (!passwd)
    return passwd.error();
  std::istringstream in{*passwd};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0)
      return line.substr(line.rfind(':') + 1);
  return make_error(errc::unknown_sliver, "no account " + name + " in its /etc/passwd");
}

caf::expected<int> linux_containers::enter(const std::string& name,
                                           const std::vector<std::string>& argv, bool as_slice,
                                           int out_fd) {
  enter_options opts;
  opts.as_slice = as_slice;
  opts.out_fd = out_fd;
  return enter(name, argv, opts);
}

caf::expected<int> linux_containers::enter(const std::string& name,
                                           const std::vector<std::string>& argv,
                                           const enter_options& opts) {
  auto pid = init_pid(name);
  if (!pid)
    return make_error(errc::unknown_sliver, name + " is not running");
  if (argv.empty())
    return make_error(errc::invalid_argument, "enter needs a command");
  auto rec = state_.get(name);
  auto uid =
      opts.uid ? *opts.uid : static_cast<uid_t>(rec && rec->count("uid") ? rec->at("uid") : 1000);
  bool as_slice = opts.as_slice;
  int out_fd = opts.out_fd;
  std::vector<int> ns;
  for (auto kind : {"ipc", "uts", "net", "pid", "mnt"}) {
    int fd =
        ::open(("/proc/" + std::to_string(*pid) + "/ns/" + kind).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      auto err = errno;
      for (auto x : ns)
        ::close(x);
      return linux_fs::os_error("open namespace of " + name, err);
    }
    ns.push_back(fd);
  }
  // The init's own cgroups (not recomputed from this process's cgroup, which
  // differs for pl-vsh in a login session).
  auto procs = cgroups_of(*pid);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env = opts.env;
  if (env.empty())
    env = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TERM=dumb"};
  std::vector<char*> envp;
  for (const auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  auto cwd = opts.cwd.empty() ? std::string{"/"} : opts.cwd;
  auto mid = ::fork();
  if (mid < 0) {
    auto err = errno;
    for (auto x : ns)
      ::close(x);
    return linux_fs::os_error("fork", err);
  }
  if (mid == 0) {
    for (const auto& p : procs) {
      int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0)
        ::_exit(120);
      write_all(fd, "0");
      ::close(fd);
    }
    for (auto fd : ns)
      if (::setns(fd, 0) != 0)
        ::_exit(121);
    if (::chdir("/") != 0)
      ::_exit(122);
    auto child = ::fork(); // joins the PID namespace
    if (child < 0)
      ::_exit(123);
    if (child == 0) {
      if (out_fd >= 0) {
        ::dup2(out_fd, 1);
        ::dup2(out_fd, 2);
      }
      // No supplementary group of the caller (root's or a login's) survives.
      if (as_slice && (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0))
        ::_exit(124);
      if (::chdir(cwd.c_str()) != 0 && ::chdir("/") != 0)
        ::_exit(125);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
    int st = 0;
    while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  for (auto x : ns)
    ::close(x);
  int status = 0;
  while (::waitpid(mid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

} // namespace pl::drivers::linux_ct
