// The cgroup drivers for real (root; cgroup v1 on CI): CPU shares 1:3 on one
// CPU, OOM kill at the memory limit, the fair victim, the task limit, adoption
// after a restart, and nothing left behind.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstring>
#include <sched.h>
#include <sys/mman.h>
#include <thread>

#include "drivers/linux/cgroup.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/linux/memory_policy.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;
namespace fs = std::filesystem;

namespace {

struct cgroup_fixture {
  test::temp_dir tmp;
  std::shared_ptr<const linux_cg::layout> layout;
  std::shared_ptr<linux_cg::cpu_driver> cpu;
  std::shared_ptr<linux_cg::memory_driver> mem;
  std::shared_ptr<linux_cg::tasks_driver> tasks;
  std::string parent = "pltest-" + std::to_string(::getpid());

  cgroup_fixture() {
    auto l = linux_cg::layout::detect(
        {.fs_root = "/sys/fs/cgroup", .self_cgroup = {}, .parent_name = parent});
    REQUIRE(l);
    layout = std::make_shared<const linux_cg::layout>(std::move(*l));
    cpu = std::make_shared<linux_cg::cpu_driver>(layout, tmp.path / "cpu");
    mem = std::make_shared<linux_cg::memory_driver>(layout, tmp.path / "memory");
    tasks = std::make_shared<linux_cg::tasks_driver>(layout, tmp.path / "tasks");
  }

  // Removes everything, also after a failed REQUIRE, and checks it is gone.
  ~cgroup_fixture() {
    for (auto* d :
         std::initializer_list<linux_cg::cgroup_driver*>{cpu.get(), mem.get(), tasks.get()}) {
      for (const auto& s : d->slivers())
        d->remove(s);
      d->remove_parents();
    }
    for (const auto& c : layout->controllers())
      if (fs::exists(c.parent))
        std::printf("LEFT BEHIND: %s\n", c.parent.c_str());
  }

  void join(const std::string& sliver) {
    for (const auto& c : layout->controllers())
      if (fs::exists(layout->dir(c, sliver)))
        REQUIRE_FALSE(layout->attach(c, sliver, ::getpid()));
  }
};

// Touches `bytes` of fresh memory so it is charged.
void touch(std::size_t bytes) {
  auto* p = static_cast<char*>(
      ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (p == MAP_FAILED)
    ::_exit(3);
  for (std::size_t i = 0; i < bytes; i += 4096)
    p[i] = 1;
}

} // namespace

TEST_CASE_METHOD(cgroup_fixture, "two busy slivers with shares 1:3 on one CPU get 1:3", "[linux]") {
  if (!test::require_root("cpu shares"))
    return;
  REQUIRE(layout->find("cpu") != nullptr);
  REQUIRE_FALSE(cpu->apply({"low", mechanism::cpu, {{"cpu_share", 32}}}));
  REQUIRE_FALSE(cpu->apply({"high", mechanism::cpu, {{"cpu_share", 96}}}));
  auto spin = [this](const char* sliver) {
    return [this, sliver](test::child& self) {
      join(sliver);
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(0, &set);
      if (::sched_setaffinity(0, sizeof(set), &set) != 0)
        return 4;
      self.report(1);
      volatile unsigned long x = 0;
      for (;;)
        x = x + 1;
      return 0;
    };
  };
  test::child a{spin("low")}, b{spin("high")};
  long ready;
  REQUIRE(a.receive(ready));
  REQUIRE(b.receive(ready));
  // Measuring a rate over a bounded interval is the point of this test.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto a0 = cpu->usage("low", "cpu_time"), b0 = cpu->usage("high", "cpu_time");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto a1 = cpu->usage("low", "cpu_time"), b1 = cpu->usage("high", "cpu_time");
  REQUIRE(a0);
  REQUIRE(a1);
  REQUIRE(b0);
  REQUIRE(b1);
  double ratio = static_cast<double>(*b1 - *b0) / static_cast<double>(*a1 - *a0);
  std::printf("cpu ratio high/low = %.3f (want 3 +- 15%%)\n", ratio);
  CHECK(ratio > 3 * 0.85);
  CHECK(ratio < 3 * 1.15);
}

TEST_CASE_METHOD(cgroup_fixture,
                 "a sliver past its memory limit is OOM-killed, its neighbour "
                 "survives",
                 "[linux]") {
  if (!test::require_root("memory limit"))
    return;
  REQUIRE_FALSE(mem->apply({"hog", mechanism::memory, {{"mem_limit", 4096}}}));  // 16 MiB
  REQUIRE_FALSE(mem->apply({"calm", mechanism::memory, {{"mem_limit", 4096}}})); // 16 MiB
  test::child calm{[this](test::child& self) {
    join("calm");
    touch(4 << 20);
    self.report(1);
    self.wait_go();
    return 0;
  }};
  long ready;
  REQUIRE(calm.receive(ready));
  test::child hog{[this](test::child&) {
    join("hog");
    touch(64 << 20);
    return 0;
  }};
  auto st = hog.wait();
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGKILL);
  CHECK(calm.alive());
  CHECK(*mem->usage("calm", "mem_limit") >= 1024);
  calm.go();
  CHECK(WIFEXITED(calm.wait()));
}

TEST_CASE_METHOD(cgroup_fixture,
                 "under a parent limit the sliver furthest over its share is the "
                 "fair victim",
                 "[linux]") {
  if (!test::require_root("fair victim"))
    return;
  linux_cg::memory_policy policy{layout, mem, 85};
  REQUIRE_FALSE(policy.parent_limit(65536)); // 256 MiB
  for (auto s : {"big", "small"})
    REQUIRE_FALSE(mem->apply({s, mechanism::memory, {{"mem_limit", 131072}, {"mem_share", 32}}}));
  auto hold = [this](const char* sliver, std::size_t mib) {
    return [this, sliver, mib](test::child& self) {
      join(sliver);
      touch(mib << 20);
      self.report(1);
      self.wait_go();
      return 0;
    };
  };
  // Within the parent limit nobody is a victim.
  test::child small{hold("small", 70)};
  long ready;
  REQUIRE(small.receive(ready));
  auto none = policy.check();
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  test::child big{hold("big", 160)};
  REQUIRE(big.receive(ready));
  std::printf("parent use %lld pages of 65536\n", static_cast<long long>(*policy.parent_usage()));
  auto victim = policy.check();
  REQUIRE(victim);
  REQUIRE(victim->has_value());
  CHECK(**victim == "big");
  auto st = big.wait();
  CHECK(WIFSIGNALED(st));
  CHECK(small.alive());
  small.go();
  CHECK(WIFEXITED(small.wait()));
}

TEST_CASE_METHOD(cgroup_fixture, "a fork loop stops at the task limit", "[linux]") {
  if (!test::require_root("task limit"))
    return;
  REQUIRE_FALSE(tasks->apply({"forky", mechanism::tasks, {{"tasks_max", 20}}}));
  test::child loop{[this](test::child& self) {
    join("forky");
    long n = 0;
    for (int i = 0; i < 1000; ++i) {
      auto pid = ::fork();
      if (pid < 0) {
        self.report(n);
        self.report(errno);
        self.wait_go();
        return 0;
      }
      if (pid == 0) {
        ::pause();
        ::_exit(0);
      }
      ++n;
    }
    self.report(n);
    self.report(0);
    return 0;
  }};
  long n = 0, err = 0;
  REQUIRE(loop.receive(n));
  REQUIRE(loop.receive(err));
  CHECK(n == 19); // the loop itself is the 20th task
  CHECK(err == EAGAIN);
  CHECK(*tasks->usage("forky", "tasks_max") == 20);
  REQUIRE_FALSE(tasks->remove("forky")); // kills the whole group
  loop.wait();
}

TEST_CASE_METHOD(cgroup_fixture, "a restarted driver adopts existing slivers unchanged",
                 "[linux]") {
  if (!test::require_root("adoption"))
    return;
  allocation a{"kept", mechanism::cpu, {{"cpu_share", 64}, {"cpu_cap", 50}}};
  REQUIRE_FALSE(cpu->apply(a));
  const auto* c = layout->find("cpu");
  auto shares_before = linux_fs::read_text(layout->dir(*c, "kept") / "cpu.shares");
  // A new layout and driver over the same parent and state: a restart.
  auto l2 = linux_cg::layout::detect(
      {.fs_root = "/sys/fs/cgroup", .self_cgroup = {}, .parent_name = parent});
  REQUIRE(l2);
  linux_cg::cpu_driver again{std::make_shared<const linux_cg::layout>(std::move(*l2)),
                             tmp.path / "cpu"};
  CHECK(again.slivers() == std::vector<std::string>{"kept"});
  auto read = again.read("kept");
  REQUIRE(read);
  CHECK(*read == a);
  CHECK(linux_fs::read_text(layout->dir(*c, "kept") / "cpu.shares") == shares_before);
  CHECK(*linux_fs::read_int(layout->dir(*c, "kept") / "cpu.cfs_quota_us") == 50000);
  REQUIRE_FALSE(again.remove("kept"));
  REQUIRE_FALSE(again.remove_parents());
  CHECK_FALSE(fs::exists(c->parent));
}
