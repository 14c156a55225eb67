#include "drivers/linux/memory_policy.hpp"

#include <csignal>
#include <vector>

#include "actors/errors.hpp"
#include "drivers/fair_victim.hpp"
#include "drivers/knobs.hpp"
#include "drivers/linux/fs_util.hpp"

namespace pl::drivers::linux_cg {

memory_policy::memory_policy(std::shared_ptr<const layout> cgroups,
                             std::shared_ptr<mechanism_driver> memory,
                             std::int64_t threshold_percent)
    : cgroups_(std::move(cgroups))
    , memory_(std::move(memory))
    , threshold_(threshold_percent) {}

caf::error memory_policy::parent_limit(std::int64_t pages) {
  const auto* mem = cgroups_->find("memory");
  if (mem == nullptr)
    return make_error(errc::unsupported, "no memory controller");
  if (auto err =
          linux_fs::write_text(mem->parent.parent_path() / "cgroup.subtree_control", "+memory");
      err && mem->ver == version::v2)
    return err;
  std::error_code ec;
  std::filesystem::create_directories(mem->parent, ec);
  auto knob = mem->ver == version::v1 ? "memory.limit_in_bytes" : "memory.max";
  return linux_fs::write_text(mem->parent / knob, std::to_string(pages_to_bytes(pages)));
}

caf::expected<std::int64_t> memory_policy::parent_usage() const {
  const auto* mem = cgroups_->find("memory");
  if (mem == nullptr)
    return make_error(errc::unsupported, "no memory controller");
  auto knob = mem->ver == version::v1 ? "memory.usage_in_bytes" : "memory.current";
  auto bytes = linux_fs::read_int(mem->parent / knob);
  if (!bytes)
    return bytes.error();
  return bytes_to_pages(*bytes);
}

caf::expected<std::optional<std::string>> memory_policy::check() {
  const auto* mem = cgroups_->find("memory");
  if (mem == nullptr)
    return make_error(errc::unsupported, "no memory controller");
  auto knob = mem->ver == version::v1 ? "memory.limit_in_bytes" : "memory.max";
  auto limit_bytes = linux_fs::read_int(mem->parent / knob);
  if (!limit_bytes)
    return limit_bytes.error();
  auto limit = bytes_to_pages(*limit_bytes);
  auto usage = parent_usage();
  if (!usage)
    return usage.error();
  bool under_oom = false;
  if (mem->ver == version::v1)
    if (auto text = linux_fs::read_text(mem->parent / "memory.oom_control"))
      under_oom = text->find("under_oom 1") != std::string::npos;
  if (!under_oom && !parent_short(*usage, limit, threshold_))
    return std::optional<std::string>{};
  std::vector<victim_candidate> xs;
  for (const auto& s : memory_->slivers()) {
    auto use = memory_->usage(s, "mem_limit");
    if (!use)
      continue;
    auto share = std::int64_t{32};
    if (auto a = memory_->read(s))
      share = value_or_default(*a, "mem_share");
    xs.push_back({s, *use, share});
  }
  auto victim = pick_fair_victim(xs, limit);
  if (!victim)
    return std::optional<std::string>{};
  for (auto pid : cgroups_->procs(*mem, xs[*victim].sliver))
    ::kill(pid, SIGKILL);
  return std::optional<std::string>{xs[*victim].sliver};
}

} // namespace pl::drivers::linux_cg
