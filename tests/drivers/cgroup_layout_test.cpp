// cgroup detection and knobs against fake trees laid out like cgroupfs: v2
// (unified root listing its controllers), v1, and a hybrid host like CI's.
#include <catch2/catch.hpp>

#include <fstream>

#include "drivers/knobs.hpp"
#include "drivers/linux/cgroup.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/fs_util.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream{p} << text;
}

std::string knob(const fs::path& p) {
  auto x = linux_fs::read_text(p);
  REQUIRE(x);
  return *x;
}

} // namespace

TEST_CASE("a pure v2 host: every listed controller is v2 below the process's own cgroup") {
  test::temp_dir tmp;
  write(tmp.path / "cgroup.controllers", "cpuset cpu io memory pids\n");
  fs::create_directories(tmp.path / "system.slice" / "nm.service");
  auto l = linux_cg::layout::detect(
      {.fs_root = tmp.path, .self_cgroup = "0::/system.slice/nm.service\n", .parent_name = "pl"});
  REQUIRE(l);
  for (auto name : {"cpu", "cpuacct", "memory", "pids", "blkio"}) {
    const auto* c = l->find(name);
    REQUIRE(c != nullptr);
    CHECK(c->ver == linux_cg::version::v2);
    CHECK(c->parent == tmp.path / "system.slice" / "nm.service" / "pl");
  }
  auto layout = std::make_shared<const linux_cg::layout>(std::move(*l));
  linux_cg::cpu_driver cpu{layout, tmp.path / "state" / "cpu"};
  REQUIRE_FALSE(cpu.apply({"s", mechanism::cpu, {{"cpu_share", 96}, {"cpu_cap", 50}}}));
  auto dir = tmp.path / "system.slice" / "nm.service" / "pl" / "s";
  CHECK(knob(dir / "cpu.weight") == std::to_string(cpu_weight_from_shares(3072)));
  CHECK(knob(dir / "cpu.max") == "50000 100000");
  CHECK(knob(tmp.path / "system.slice" / "nm.service" / "cgroup.subtree_control") == "+cpu");
  REQUIRE_FALSE(cpu.apply({"s", mechanism::cpu, {{"cpu_share", 32}}}));
  CHECK(knob(dir / "cpu.weight") == "100");
  CHECK(knob(dir / "cpu.max") == "max 100000");
  linux_cg::memory_driver mem{layout, tmp.path / "state" / "memory"};
  REQUIRE_FALSE(mem.apply({"s", mechanism::memory, {{"mem_limit", 32768}}}));
  CHECK(knob(dir / "memory.max") == "134217728");
  write(dir / "memory.current", "8192\n");
  CHECK(*mem.usage("s", "mem_limit") == 2);
  linux_cg::tasks_driver tasks{layout, tmp.path / "state" / "tasks"};
  REQUIRE_FALSE(tasks.apply({"s", mechanism::tasks, {{"tasks_max", 256}}}));
  CHECK(knob(dir / "pids.max") == "256");
  linux_cg::io_driver io{layout, tmp.path / "state" / "io",
                         [](const std::string&) { return std::optional<std::string>{"7:3"}; }};
  REQUIRE_FALSE(io.apply({"s", mechanism::disk_io, {{"io_weight", 500}, {"io_max_rate", 1024}}}));
  CHECK(knob(dir / "io.weight") == "default 500");
  CHECK(knob(dir / "io.max") == "7:3 rbps=1048576 wbps=1048576 riops=max wiops=max");
  // A restarted driver adopts the sliver and reads the same allocation back.
  linux_cg::cpu_driver again{layout, tmp.path / "state" / "cpu"};
  CHECK(again.slivers() == std::vector<std::string>{"s"});
  CHECK(again.read("s")->values.at("cpu_share") == 32);
  for (auto* d : std::initializer_list<linux_cg::cgroup_driver*>{&cpu, &mem, &tasks, &io})
    REQUIRE_FALSE(d->remove("s"));
  CHECK_FALSE(fs::exists(dir));
  REQUIRE_FALSE(cpu.remove_parents());
  CHECK_FALSE(fs::exists(tmp.path / "system.slice" / "nm.service" / "pl"));
}

TEST_CASE("a hybrid host: v2 only for controllers the unified root lists") {
  test::temp_dir tmp;
  write(tmp.path / "unified" / "cgroup.controllers", "memory\n");
  for (auto c : {"cpu", "cpuacct", "memory", "pids", "blkio"})
    fs::create_directories(tmp.path / c);
  fs::create_directories(tmp.path / "unified" / "u");
  fs::create_directories(tmp.path / "cpu" / "a");
  std::string self = "5:pids:/\n4:memory:/job/42\n2:cpuacct:/\n1:cpu:/a\n3:blkio:/\n0::/u\n";
  auto l =
      linux_cg::layout::detect({.fs_root = tmp.path, .self_cgroup = self, .parent_name = "pl"});
  REQUIRE(l);
  CHECK(l->find("memory")->ver == linux_cg::version::v2);
  CHECK(l->find("memory")->parent == tmp.path / "unified" / "u" / "pl");
  CHECK(l->find("cpu")->ver == linux_cg::version::v1);
  CHECK(l->find("cpu")->parent == tmp.path / "cpu" / "a" / "pl");
  CHECK(l->find("pids")->parent == tmp.path / "pids" / "pl");
  auto layout = std::make_shared<const linux_cg::layout>(std::move(*l));
  linux_cg::cpu_driver cpu{layout, tmp.path / "state"};
  REQUIRE_FALSE(cpu.apply({"s", mechanism::cpu, {{"cpu_share", 96}}}));
  CHECK(knob(tmp.path / "cpu" / "a" / "pl" / "s" / "cpu.shares") == "3072");
  CHECK(knob(tmp.path / "cpu" / "a" / "pl" / "s" / "cpu.cfs_quota_us") == "-1");
  linux_cg::tasks_driver tasks{layout, tmp.path / "state2"};
  REQUIRE_FALSE(tasks.apply({"s", mechanism::tasks, {{"tasks_max", 9223372036854775807}}}));
  CHECK(knob(tmp.path / "pids" / "pl" / "s" / "pids.max") == "max");
}

TEST_CASE("a parent name that is not a plain name is refused; absent controllers are absent") {
  test::temp_dir tmp;
  CHECK_FALSE(linux_cg::layout::detect(
      {.fs_root = tmp.path, .self_cgroup = "0::/\n", .parent_name = "../x"}));
  auto l = linux_cg::layout::detect(
      {.fs_root = tmp.path, .self_cgroup = "0::/\n", .parent_name = "planetlab"});
  REQUIRE(l);
  CHECK(l->controllers().empty());
  auto layout = std::make_shared<const linux_cg::layout>(std::move(*l));
  linux_cg::cpu_driver cpu{layout, tmp.path / "state"};
  auto err = cpu.apply({"s", mechanism::cpu, {}});
  CHECK(err.code() == static_cast<std::uint8_t>(errc::unsupported));
}
