#include "drivers/linux/disk.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "actors/errors.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/fs_util.hpp"

namespace fs = std::filesystem;

namespace pl::drivers::linux_disk {

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

bool is_mounted(const fs::path& dir) {
  auto text = linux_fs::read_text("/proc/self/mountinfo");
  if (!text)
    return false;
  return text->find(" " + dir.string() + " ") != std::string::npos;
}

} // namespace

disk_driver::disk_driver(fs::path dir)
    : dir_(std::move(dir))
    , state_(dir_ / "records") {}

std::optional<std::string> disk_driver::loop_of(const std::string& sliver) const {
  // The kernel is the record of which loop device holds the image.
  auto image = (dir_ / sliver / "image.ext4").string();
  auto out = linux_exec::run({"losetup", "-j", image, "-O", "NAME", "-n"});
  if (!out || trim(*out).empty())
    return std::nullopt;
  auto name = trim(*out);
  if (auto nl = name.find('\n'); nl != std::string::npos)
    name = name.substr(0, nl);
  return name;
}

std::optional<fs::path> disk_driver::mount_point(const std::string& sliver) const {
  auto mnt = dir_ / sliver / "fs";
  if (is_mounted(mnt))
    return mnt;
  return std::nullopt;
}

std::optional<std::string> disk_driver::device(const std::string& sliver) const {
  auto loop = loop_of(sliver);
  if (!loop)
    return std::nullopt;
  struct stat st;
  if (::stat(loop->c_str(), &st) != 0)
    return std::nullopt;
  return std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
}

caf::error disk_driver::attach_and_mount(const std::string& sliver) {
  auto image = dir_ / sliver / "image.ext4";
  auto mnt = dir_ / sliver / "fs";
  auto loop = loop_of(sliver);
  if (!loop) {
    auto out = linux_exec::run({"losetup", "--find", "--show", image.string()});
    if (!out)
      return out.error();
    loop = trim(*out);
  }
  std::error_code ec;
  fs::create_directories(mnt, ec);
  if (!is_mounted(mnt) && ::mount(loop->c_str(), mnt.c_str(), "ext4", 0, nullptr) != 0)
    return linux_fs::os_error("mount " + *loop + " on " + mnt.string(), errno);
  return {};
}

caf::error disk_driver::resize(const std::string& sliver, std::int64_t old_blocks,
                               std::int64_t blocks) {
  auto image = dir_ / sliver / "image.ext4";
  auto loop = loop_of(sliver);
  if (!loop)
    return make_error(errc::mechanism_failure, "no loop device for " + sliver);
  if (blocks > old_blocks) {
    // Grow online: larger file, loop device re-reads its size, ext4 grows.
    if (::truncate(image.c_str(), blocks * 1024) != 0)
      return linux_fs::os_error("truncate " + image.string(), errno);
    if (auto out = linux_exec::run({"losetup", "-c", *loop}); !out)
      return out.error();
    if (auto out = linux_exec::run({"resize2fs", *loop}))
      return {};
    // Online growth needs free blocks; a full file system grows offline.
  }
  // Offline: ext4 cannot shrink while mounted.
  auto mnt = dir_ / sliver / "fs";
  if (::umount(mnt.c_str()) != 0)
    return linux_fs::os_error("umount " + mnt.string() + " (busy?)", errno);
  caf::error result;
  if (auto out = linux_exec::run({"e2fsck", "-f", "-p", *loop}); !out)
    result = out.error();
  else if (auto out = linux_exec::run({"resize2fs", *loop, std::to_string(blocks) + "K"}); !out)
    result = out.error();
  else if (blocks < old_blocks && ::truncate(image.c_str(), blocks * 1024) != 0)
    result = linux_fs::os_error("truncate " + image.string(), errno);
  else if (auto out = linux_exec::run({"losetup", "-c", *loop}); !out)
    result = out.error();
  if (auto err = attach_and_mount(sliver); err && !result)
    result = err;
  return result;
}

caf::error disk_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::disk_space))
    return err;
  auto blocks = value_or_default(a, "disk_max");
  if (blocks < min_blocks)
    return make_error(errc::invalid_argument, "disk_max " + std::to_string(blocks) +
                                                  " is below the smallest file system (" +
                                                  std::to_string(min_blocks) + " blocks)");
  auto image = dir_ / a.sliver / "image.ext4";
  std::error_code ec;
  auto old = state_.get(a.sliver);
  if (!old || !fs::exists(image, ec)) {
    fs::create_directories(dir_ / a.sliver, ec);
    if (ec)
      return make_error(errc::mechanism_failure, "mkdir " + (dir_ / a.sliver).string());
    int fd = ::open(image.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
      return linux_fs::os_error("create " + image.string(), errno);
    auto rc = ::ftruncate(fd, blocks * 1024);
    auto err = errno;
    ::close(fd);
    if (rc != 0)
      return linux_fs::os_error("truncate " + image.string(), err);
    if (auto out = linux_exec::run({"mkfs.ext4", "-q", "-F", "-m", "0", "-E",
                                    "lazy_itable_init=1,lazy_journal_init=1", image.string()});
        !out) {
      fs::remove_all(dir_ / a.sliver, ec);
      return out.error();
    }
    if (auto err = attach_and_mount(a.sliver)) {
      remove(a.sliver);
      return err;
    }
    return state_.put(a.sliver, a.values);
  }
  if (auto err = attach_and_mount(a.sliver)) // adopted after a reboot
    return err;
  auto old_blocks = old->count("disk_max") ? old->at("disk_max") : blocks;
  if (blocks != old_blocks) {
    if (blocks < old_blocks) {
      auto use = usage(a.sliver, "disk_max");
      if (!use)
        return use.error();
      if (blocks < *use)
        return make_error(errc::invalid_argument, "disk_max " + std::to_string(blocks) +
                                                      " is below the " + std::to_string(*use) +
                                                      " blocks in use");
    }
    if (auto err = resize(a.sliver, old_blocks, blocks))
      return err;
  }
  return state_.put(a.sliver, a.values);
}

caf::error disk_driver::remove(const std::string& sliver) {
  if (!valid_sliver_name(sliver))
    return make_error(errc::invalid_argument, "bad sliver name '" + sliver + "'");
  auto mnt = dir_ / sliver / "fs";
  if (is_mounted(mnt) && ::umount(mnt.c_str()) != 0 && ::umount2(mnt.c_str(), MNT_DETACH) != 0)
    return linux_fs::os_error("umount " + mnt.string(), errno);
  while (auto loop = loop_of(sliver))
    if (auto out = linux_exec::run({"losetup", "-d", *loop}); !out)
      return out.error();
  std::error_code ec;
  fs::remove_all(dir_ / sliver, ec);
  return state_.erase(sliver);
}

caf::expected<allocation> disk_driver::read(const std::string& sliver) const {
  auto rec = state_.get(sliver);
  if (!rec)
    return make_error(errc::unknown_sliver, sliver);
  return allocation{sliver, mechanism::disk_space, *rec};
}

caf::expected<std::int64_t> disk_driver::usage(const std::string& sliver,
                                               std::string_view resource) const {
  if (resource != "disk_max")
    return make_error(errc::unsupported, "disk_space has no use of " + std::string{resource});
  auto mnt = mount_point(sliver);
  if (!mnt)
    return make_error(errc::unknown_sliver, sliver + " has no mounted file system");
  struct statvfs st;
  if (::statvfs(mnt->c_str(), &st) != 0)
    return linux_fs::os_error("statvfs " + mnt->string(), errno);
  return static_cast<std::int64_t>((st.f_blocks - st.f_bfree) * st.f_frsize / 1024);
}

} // namespace pl::drivers::linux_disk
