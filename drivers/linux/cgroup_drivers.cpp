#include "drivers/linux/cgroup_drivers.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <sstream>

#include "actors/errors.hpp"
#include "drivers/knobs.hpp"
#include "drivers/linux/fs_util.hpp"

namespace fs = std::filesystem;

namespace pl::drivers::linux_cg {

using linux_fs::read_int;
using linux_fs::read_text;
using linux_fs::write_text;

cgroup_driver::cgroup_driver(std::shared_ptr<const layout> cgroups, fs::path state_dir,
                             std::vector<std::string> controllers)
    : cgroups_(std::move(cgroups))
    , state_(std::move(state_dir))
    , names_(std::move(controllers)) {}

std::vector<const controller*> cgroup_driver::used() const {
  std::vector<const controller*> out;
  for (const auto& name : names_)
    if (const auto* c = cgroups_->find(name))
      out.push_back(c);
  return out;
}

caf::expected<const controller*> cgroup_driver::need(const std::string& name) const {
  if (const auto* c = cgroups_->find(name))
    return c;
  return make_error(errc::unsupported, "the host has no " + name + " cgroup controller");
}

caf::error cgroup_driver::ensure(const std::string& sliver) {
  for (const auto* c : used())
    if (auto err = cgroups_->ensure(*c, sliver))
      return err;
  return {};
}

caf::error cgroup_driver::record(const allocation& a) {
  return state_.put(a.sliver, a.values);
}

caf::error cgroup_driver::remove(const std::string& sliver) {
  if (!valid_sliver_name(sliver))
    return make_error(errc::invalid_argument, "bad sliver name '" + sliver + "'");
  for (const auto* c : used())
    if (auto err = cgroups_->remove(*c, sliver))
      return err;
  return state_.erase(sliver);
}

caf::expected<allocation> cgroup_driver::read(const std::string& sliver) const {
  auto rec = state_.get(sliver);
  if (!rec)
    return make_error(errc::unknown_sliver, sliver);
  auto cs = used();
  std::error_code ec;
  if (!cs.empty() && !fs::exists(cgroups_->dir(*cs.front(), sliver), ec))
    return make_error(errc::unknown_sliver, sliver + " (recorded, but its cgroup is gone)");
  return allocation{sliver, kind(), *rec};
}

std::vector<std::string> cgroup_driver::slivers() const {
  std::set<std::string> out;
  for (const auto& s : state_.list())
    out.insert(s);
  for (const auto* c : used())
    for (const auto& s : cgroups_->children(*c))
      out.insert(s);
  return {out.begin(), out.end()};
}

caf::error cgroup_driver::remove_parents() {
  for (const auto* c : used())
    if (auto err = cgroups_->remove_parent_if_empty(*c))
      return err;
  return {};
}

// -- cpu ----------------------------------------------------------------------

cpu_driver::cpu_driver(std::shared_ptr<const layout> cgroups, fs::path state_dir)
    : cgroup_driver(std::move(cgroups), std::move(state_dir), {"cpu", "cpuacct"}) {}

caf::error cpu_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::cpu, {"cpu_cap"}))
    return err;
  auto cap = value_or_default(a, "cpu_cap");
  if (cap > 100 * 1024)
    return make_error(errc::invalid_argument, "cpu_cap above 1024 CPUs");
  auto cpu = need("cpu");
  if (!cpu)
    return cpu.error();
  if (auto err = ensure(a.sliver))
    return err;
  auto dir = cgroups_->dir(**cpu, a.sliver);
  auto shares = cgroup_cpu_shares(value_or_default(a, "cpu_share"));
  auto quota = cfs_quota_us(cap);
  if ((*cpu)->ver == version::v1) {
    if (auto err = write_text(dir / "cpu.shares", std::to_string(shares)))
      return err;
    if (auto err = write_text(dir / "cpu.cfs_period_us", std::to_string(cfs_period_us)))
      return err;
    if (auto err = write_text(dir / "cpu.cfs_quota_us", std::to_string(quota)))
      return err;
  } else {
    if (auto err = write_text(dir / "cpu.weight", std::to_string(cpu_weight_from_shares(shares))))
      return err;
    auto max = (quota < 0 ? std::string{"max"} : std::to_string(quota)) + " " +
               std::to_string(cfs_period_us);
    if (auto err = write_text(dir / "cpu.max", max))
      return err;
  }
  return record(a);
}

caf::expected<std::int64_t> cpu_driver::usage(const std::string& sliver,
                                              std::string_view resource) const {
  if (resource != "cpu_time")
    return make_error(errc::unsupported, "cpu has no use of " + std::string{resource});
  if (const auto* acct = cgroups_->find("cpuacct"); acct && acct->ver == version::v1)
    return read_int(cgroups_->dir(*acct, sliver) / "cpuacct.usage");
  auto cpu = need("cpu");
  if (!cpu)
    return cpu.error();
  auto text = read_text(cgroups_->dir(**cpu, sliver) / "cpu.stat");
  if (!text)
    return text.error();
  std::istringstream in{*text};
  std::string key;
  std::int64_t value = 0;
  while (in >> key >> value)
    if (key == "usage_usec")
      return value * 1000;
  return make_error(errc::mechanism_failure, "cpu.stat without usage_usec");
}

// -- memory -------------------------------------------------------------------

memory_driver::memory_driver(std::shared_ptr<const layout> cgroups, fs::path state_dir)
    : cgroup_driver(std::move(cgroups), std::move(state_dir), {"memory"}) {}

caf::error memory_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::memory))
    return err;
  auto mem = need("memory");
  if (!mem)
    return mem.error();
  if (auto err = ensure(a.sliver))
    return err;
  auto dir = cgroups_->dir(**mem, a.sliver);
  auto limit = pages_to_bytes(value_or_default(a, "mem_limit"));
  bool v1 = (*mem)->ver == version::v1;
  auto bytes =
      limit >= (std::int64_t{1} << 62) ? std::string{v1 ? "-1" : "max"} : std::to_string(limit);
  auto knob = v1 ? "memory.limit_in_bytes" : "memory.max";
  if (auto err = write_text(dir / knob, bytes))
    return err;
  return record(a);
}

caf::expected<std::int64_t> memory_driver::usage(const std::string& sliver,
                                                 std::string_view resource) const {
  if (resource != "mem_limit")
    return make_error(errc::unsupported, "memory has no use of " + std::string{resource});
  auto mem = need("memory");
  if (!mem)
    return mem.error();
  auto knob = (*mem)->ver == version::v1 ? "memory.usage_in_bytes" : "memory.current";
  auto bytes = read_int(cgroups_->dir(**mem, sliver) / knob);
  if (!bytes)
    return bytes.error();
  return bytes_to_pages(*bytes);
}

// -- tasks --------------------------------------------------------------------

tasks_driver::tasks_driver(std::shared_ptr<const layout> cgroups, fs::path state_dir)
    : cgroup_driver(std::move(cgroups), std::move(state_dir), {"pids"}) {}

caf::error tasks_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::tasks))
    return err;
  auto pids = need("pids");
  if (!pids)
    return pids.error();
  if (auto err = ensure(a.sliver))
    return err;
  auto dir = cgroups_->dir(**pids, a.sliver);
  // pids.max takes at most PID_MAX_LIMIT (4194304); above that means no limit.
  auto limit = value_or_default(a, "tasks_max");
  auto text = limit >= 4194304 ? std::string{"max"} : std::to_string(limit);
  if (auto err = write_text(dir / "pids.max", text))
    return err;
  return record(a);
}

caf::expected<std::int64_t> tasks_driver::usage(const std::string& sliver,
                                                std::string_view resource) const {
  if (resource != "tasks_max")
    return make_error(errc::unsupported, "tasks has no use of " + std::string{resource});
  auto pids = need("pids");
  if (!pids)
    return pids.error();
  return read_int(cgroups_->dir(**pids, sliver) / "pids.current");
}

// -- disk I/O -----------------------------------------------------------------

io_driver::io_driver(std::shared_ptr<const layout> cgroups, fs::path state_dir,
                     device_lookup devices)
    : cgroup_driver(std::move(cgroups), std::move(state_dir), {"blkio"})
    , devices_(std::move(devices)) {}

caf::error io_driver::apply(const allocation& a) {
  if (auto err = check_allocation(a, mechanism::disk_io, {"io_max_iops"}))
    return err;
  auto blkio = need("blkio");
  if (!blkio)
    return blkio.error();
  if (auto err = ensure(a.sliver))
    return err;
  auto dir = cgroups_->dir(**blkio, a.sliver);
  auto weight = value_or_default(a, "io_weight");
  auto rate = std::min<std::int64_t>(value_or_default(a, "io_max_rate"),
                                     std::numeric_limits<std::int64_t>::max() / 1024) *
              1024;
  auto iops = value_or_default(a, "io_max_iops");
  std::optional<std::string> dev = devices_ ? devices_(a.sliver) : std::nullopt;
  if ((*blkio)->ver == version::v1) {
    // Kernels without CFQ expose only BFQ's weight (and only with BFQ active);
    // a missing weight knob is not an error: the limits still hold.
    std::error_code ec;
    for (auto knob : {"blkio.weight", "blkio.bfq.weight"})
      if (fs::exists(dir / knob, ec)) {
        if (auto err = write_text(dir / knob, std::to_string(blkio_weight_v1(weight))))
          return err;
        break;
      }
    if (dev) {
      // 0 removes a throttle rule in v1.
      for (auto [knob, v] : {std::pair{"blkio.throttle.read_bps_device", rate},
                             std::pair{"blkio.throttle.write_bps_device", rate},
                             std::pair{"blkio.throttle.read_iops_device", iops},
                             std::pair{"blkio.throttle.write_iops_device", iops}})
        if (auto err = write_text(dir / knob, *dev + " " + std::to_string(v)))
          return err;
    }
  } else {
    if (auto err = write_text(dir / "io.weight", "default " + std::to_string(weight)))
      return err;
    if (dev) {
      auto r = rate > 0 ? std::to_string(rate) : std::string{"max"};
      auto o = iops > 0 ? std::to_string(iops) : std::string{"max"};
      if (auto err = write_text(dir / "io.max",
                                *dev + " rbps=" + r + " wbps=" + r + " riops=" + o + " wiops=" + o))
        return err;
    }
  }
  return record(a);
}

caf::expected<std::int64_t> io_driver::usage(const std::string&, std::string_view resource) const {
  return make_error(errc::unsupported, "disk_io has no use of " + std::string{resource});
}

} // namespace pl::drivers::linux_cg
