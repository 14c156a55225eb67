#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/linux/cgroup.hpp"
#include "drivers/mechanism_driver.hpp"
#include "drivers/state_store.hpp"

namespace pl::drivers::linux_cg {

/// Shares the bookkeeping of the cgroup-based drivers: the layout, the
/// controllers a mechanism uses, and a state record per sliver for the values
/// the kernel does not hold.
class cgroup_driver : public mechanism_driver {
public:
  cgroup_driver(std::shared_ptr<const layout> cgroups, std::filesystem::path state_dir,
                std::vector<std::string> controllers);

  caf::error remove(const std::string& sliver) override;
  caf::expected<allocation> read(const std::string& sliver) const override;
  std::vector<std::string> slivers() const override;

  /// Returns the controllers this driver uses that the host has.
  std::vector<const controller*> used() const;

  /// Removes the parent groups when no sliver is left (suite teardown).
  caf::error remove_parents();

protected:
  /// Creates the sliver's groups in every used controller.
  caf::error ensure(const std::string& sliver);

  /// Returns the first used controller named `name`, or an error.
  caf::expected<const controller*> need(const std::string& name) const;

  /// Records `a` after the kernel accepted it.
  caf::error record(const allocation& a);

  std::shared_ptr<const layout> cgroups_;
  state_store state_;
  std::vector<std::string> names_;
};

/// Drives `cpu_share` (v1 `cpu.shares` = share x 32; v2 `cpu.weight` by runc's
/// conversion of that), the optional hard cap `cpu_cap` (percent of one CPU;
/// v1 `cpu.cfs_quota_us` over `cpu.cfs_period_us`, v2 `cpu.max`) and records
/// `cpu_pct`. Use: `cpu_time` in nanoseconds (v1 `cpuacct.usage`, v2
/// `cpu.stat` usage_usec).
class cpu_driver : public cgroup_driver {
public:
  cpu_driver(std::shared_ptr<const layout> cgroups, std::filesystem::path state_dir);
  mechanism kind() const override { return mechanism::cpu; }
  caf::error apply(const allocation& a) override;
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;
};

/// Drives `mem_limit` (v1 `memory.limit_in_bytes`, v2 `memory.max`, pages x
/// 4096) and records `mem_share` for the fair-victim policy. Use of
/// `mem_limit`: v1 `memory.usage_in_bytes`, v2 `memory.current`, in pages.
class memory_driver : public cgroup_driver {
public:
  memory_driver(std::shared_ptr<const layout> cgroups, std::filesystem::path state_dir);
  mechanism kind() const override { return mechanism::memory; }
  caf::error apply(const allocation& a) override;
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;
};

/// Drives `tasks_max` (`pids.max` on v1 and v2). Use: `pids.current`.
class tasks_driver : public cgroup_driver {
public:
  tasks_driver(std::shared_ptr<const layout> cgroups, std::filesystem::path state_dir);
  mechanism kind() const override { return mechanism::tasks; }
  caf::error apply(const allocation& a) override;
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;
};

/// Finds the block device (major:minor) of a sliver for the I/O driver.
using device_lookup = std::function<std::optional<std::string>(const std::string& sliver)>;

/// Drives `io_weight` (v1 `blkio.weight` or `blkio.bfq.weight`, clamped to
/// 10..1000; v2 `io.weight`) and `io_max_rate` in KiB/s on the sliver's own
/// block device, read and write each (v1 `blkio.throttle.{read,write}_bps_device`,
/// v2 `io.max` rbps/wbps); 0 means unlimited. Extra key `io_max_iops` limits
/// read and write operations per second the same way.
class io_driver : public cgroup_driver {
public:
  io_driver(std::shared_ptr<const layout> cgroups, std::filesystem::path state_dir,
            device_lookup devices);
  mechanism kind() const override { return mechanism::disk_io; }
  caf::error apply(const allocation& a) override;
  caf::expected<std::int64_t> usage(const std::string& sliver,
                                    std::string_view resource) const override;

private:
  device_lookup devices_;
};

} // namespace pl::drivers::linux_cg
