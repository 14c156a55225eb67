#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "drivers/mechanism_driver.hpp"
#include "drivers/state_store.hpp"

namespace pl::drivers::linux_disk {

/// Drives `disk_max` (1K blocks): each sliver gets its own sparse ext4 image
/// `<dir>/<sliver>/image.ext4` (`mkfs.ext4 -m 0`, lazy inode table and journal
/// init), attached to a loop device and mounted at `<dir>/<sliver>/fs`; the
/// container uses it as the overlay's writable layer, the I/O driver throttles
/// its loop device. A larger limit grows the image online (`losetup -c`,
/// `resize2fs`); a smaller one is refused below the blocks in use, otherwise
/// the file system is shrunk offline. Use: blocks in use (statvfs).
class disk_driver : public mechanism_driver {
public:
  explicit disk_driver(std::filesystem::path dir);

  mechanism kind() const override { return mechanism::disk_space; }
  caf::error apply(const allocation& a) override;
  caf::error remove(const std::string& sliver) override;
  caf::expected<allocation> read(const std::string& sliver) const override;
  std::vector<std::string> slivers() const override { return state_.list(); }
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;

  /// Returns the mount point of the sliver's file system, if mounted.
  std::optional<std::filesystem::path> mount_point(const std::string& sliver) const;

  /// Returns `major:minor` of the sliver's loop device, if attached.
  std::optional<std::string> device(const std::string& sliver) const;

  /// The smallest accepted limit (ext4 with a journal needs a few MiB).
  static constexpr std::int64_t min_blocks = 8192;

private:
  std::optional<std::string> loop_of(const std::string& sliver) const;
  caf::error attach_and_mount(const std::string& sliver);
  caf::error resize(const std::string& sliver, std::int64_t old_blocks, std::int64_t blocks);

  std::filesystem::path dir_;
  state_store state_;
};

} // namespace pl::drivers::linux_disk
