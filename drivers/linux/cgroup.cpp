#include "drivers/linux/cgroup.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <sstream>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <thread>
#include <unistd.h>

#include <linux/magic.h>

#include "actors/errors.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/mechanism_driver.hpp"

namespace fs = std::filesystem;

namespace pl::drivers::linux_cg {

std::string_view v2_name(std::string_view v1_name) {
  if (v1_name == "blkio")
    return "io";
  if (v1_name == "cpuacct")
    return "cpu";
  return v1_name;
}

namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// Returns the path of this process in the hierarchy whose controller list
// contains `name` ("" for the v2 line "0::").
std::optional<std::string> own_path(std::string_view self_cgroup, std::string_view name) {
  std::istringstream in{std::string{self_cgroup}};
  std::string line;
  while (std::getline(in, line)) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos)
      continue;
    auto ctls = line.substr(first + 1, second - first - 1);
    auto path = line.substr(second + 1);
    if (name.empty()) {
      if (line.substr(0, first) == "0" && ctls.empty())
        return path;
      continue;
    }
    for (const auto& c : split(ctls, ','))
      if (c == name)
        return path;
  }
  return std::nullopt;
}

fs::path below(const fs::path& mount, const std::string& own) {
  auto rel = own;
  while (!rel.empty() && rel.front() == '/')
    rel.erase(rel.begin());
  return rel.empty() ? mount : mount / rel;
}

bool is_cgroupfs(const fs::path& dir) {
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0)
    return false;
  return st.f_type == CGROUP_SUPER_MAGIC || st.f_type == CGROUP2_SUPER_MAGIC;
}

caf::error make_dir(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return linux_fs::os_error("mkdir " + dir.string(), errno);
  return {};
}

} // namespace

caf::expected<layout> layout::detect(const layout_options& opts) {
  if (!valid_sliver_name(opts.parent_name))
    return make_error(errc::invalid_argument, "bad parent group name '" + opts.parent_name + "'");
  std::string self = opts.self_cgroup;
  if (self.empty()) {
    auto text = linux_fs::read_text("/proc/self/cgroup");
    if (!text)
      return text.error();
    self = std::move(*text);
  }
  fs::path unified;
  std::error_code ec;
  if (fs::exists(opts.fs_root / "cgroup.controllers", ec))
    unified = opts.fs_root;
  else if (fs::exists(opts.fs_root / "unified" / "cgroup.controllers", ec))
    unified = opts.fs_root / "unified";
  std::vector<std::string> v2_enabled;
  if (!unified.empty()) {
    if (auto text = linux_fs::read_text(unified / "cgroup.controllers")) {
      std::istringstream in{*text};
      std::string word;
      while (in >> word)
        v2_enabled.push_back(word);
    }
  }
  layout out;
  for (std::string name : {"cpu", "cpuacct", "memory", "pids", "blkio"}) {
    auto v2 = std::string{v2_name(name)};
    if (std::find(v2_enabled.begin(), v2_enabled.end(), v2) != v2_enabled.end()) {
      auto own = own_path(self, "");
      if (!own)
        continue;
      out.controllers_.push_back({name, version::v2, below(unified, *own) / opts.parent_name});
      continue;
    }
    auto mount = opts.fs_root / name;
    if (!fs::is_directory(mount, ec))
      continue;
    auto own = own_path(self, name);
    if (!own)
      continue;
    out.controllers_.push_back({name, version::v1, below(mount, *own) / opts.parent_name});
  }
  return out;
}

const controller* layout::find(std::string_view name) const {
  for (const auto& c : controllers_)
    if (c.name == name)
      return &c;
  return nullptr;
}

fs::path layout::dir(const controller& ctl, std::string_view sliver) const {
  return ctl.parent / std::string{sliver};
}

caf::error layout::ensure(const controller& ctl, std::string_view sliver) const {
  if (!valid_sliver_name(sliver))
    return make_error(errc::invalid_argument, "bad sliver name '" + std::string{sliver} + "'");
  if (ctl.ver == version::v2) {
    // Children of a v2 group only get a controller its parent enables.
    auto enable = "+" + std::string{v2_name(ctl.name)};
    if (auto err =
            linux_fs::write_text(ctl.parent.parent_path() / "cgroup.subtree_control", enable))
      return err;
    if (auto err = make_dir(ctl.parent))
      return err;
    if (auto err = linux_fs::write_text(ctl.parent / "cgroup.subtree_control", enable))
      return err;
  } else if (auto err = make_dir(ctl.parent)) {
    return err;
  }
  return make_dir(dir(ctl, sliver));
}

std::vector<pid_t> layout::procs(const controller& ctl, std::string_view sliver) const {
  std::vector<pid_t> out;
  auto text = linux_fs::read_text(dir(ctl, sliver) / "cgroup.procs");
  if (!text)
    return out;
  std::istringstream in{*text};
  pid_t pid;
  while (in >> pid)
    out.push_back(pid);
  return out;
}

caf::error layout::remove(const controller& ctl, std::string_view sliver) const {
  auto d = dir(ctl, sliver);
  std::error_code ec;
  if (!fs::exists(d, ec))
    return {};
  if (!is_cgroupfs(d)) {
    // A fake tree (tests): plain directories with plain files.
    fs::remove_all(d, ec);
    if (ec)
      return make_error(errc::mechanism_failure, "remove " + d.string() + ": " + ec.message());
    return {};
  }
  // A group with processes cannot be removed: kill them and wait (bounded)
  // until the kernel has moved them out.
  for (int round = 0; round < 200; ++round) {
    auto pids = procs(ctl, sliver);
    if (pids.empty())
      break;
    for (auto pid : pids)
      ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int round = 0; round < 100; ++round) {
    if (::rmdir(d.c_str()) == 0 || errno == ENOENT)
      return {};
    if (errno != EBUSY)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return linux_fs::os_error("rmdir " + d.string(), errno);
}

std::vector<std::string> layout::children(const controller& ctl) const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator{ctl.parent, ec})
    if (entry.is_directory(ec) && valid_sliver_name(entry.path().filename().string()))
      out.push_back(entry.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

caf::error layout::attach(const controller& ctl, std::string_view sliver, pid_t pid) const {
  return linux_fs::write_text(dir(ctl, sliver) / "cgroup.procs", std::to_string(pid));
}

caf::error layout::remove_parent_if_empty(const controller& ctl) const {
  std::error_code ec;
  if (!fs::exists(ctl.parent, ec) || !children(ctl).empty())
    return {};
  if (!is_cgroupfs(ctl.parent)) {
    fs::remove_all(ctl.parent, ec);
    return {};
  }
  if (::rmdir(ctl.parent.c_str()) != 0 && errno != ENOENT)
    return linux_fs::os_error("rmdir " + ctl.parent.string(), errno);
  return {};
}

} // namespace pl::drivers::linux_cg
