// resman for real (root): the seed's example verbatim through the installed
// names, and refusals that leave the kernel knobs unchanged.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>

#include "drivers/backend.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/fs_util.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;
namespace fs = std::filesystem;

namespace {

struct resman_fixture {
  test::temp_dir tmp;
  std::string parent = "pltest-resman-" + std::to_string(::getpid());
  backend b;
  std::shared_ptr<const linux_cg::layout> layout;

  resman_fixture() {
    backend_options o;
    o.state_dir = tmp.path;
    o.cgroup_parent = parent;
    auto x = make_backend(o);
    REQUIRE(x);
    b = std::move(*x);
    layout = std::static_pointer_cast<const linux_cg::layout>(b.keep);
  }

  ~resman_fixture() {
    for (auto& [m, d] : b.drivers) {
      for (const auto& s : d->slivers())
        d->remove(s);
      if (auto* cg = dynamic_cast<linux_cg::cgroup_driver*>(&d->inner()))
        cg->remove_parents();
    }
    for (const auto& c : layout->controllers())
      if (fs::exists(c.parent))
        std::printf("LEFT BEHIND: %s\n", c.parent.c_str());
  }

  // Runs a shell script with the resman names on PATH; returns the exit
  // status, stdout+stderr in `out`.
  int sh(const std::string& script, std::string& out) {
    std::string cmd = "env PATH=" PL_RESMAN_DIR ":$PATH PL_DRIVERS_STATE=" + tmp.path.string() +
                      " PL_CGROUP_PARENT=" + parent + " bash -c '" + script + "' 2>&1";
    out.clear();
    auto* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 256> buf;
    while (auto n = std::fread(buf.data(), 1, buf.size(), p))
      out.append(buf.data(), n);
    auto st = ::pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  std::string knob(const char* ctl, const char* sliver, const char* name) {
    auto x = linux_fs::read_text(layout->dir(*layout->find(ctl), sliver) / name);
    REQUIRE(x);
    return *x;
  }
};

} // namespace

TEST_CASE_METHOD(resman_fixture, "the seed's cpulimit example works verbatim", "[linux]") {
  if (!test::require_root("resman"))
    return;
  REQUIRE_FALSE(b.find(mechanism::cpu)->apply({"v_slice", mechanism::cpu, {{"cpu_share", 32}}}));
  std::string out;
  REQUIRE(sh("set -e; cur=$(cpulimit getlimit v_slice); let cur=$cur+4; "
             "cpulimit setlimit v_slice $cur; cpulimit on v_slice",
             out) == 0);
  CHECK(out.empty());
  CHECK(knob("cpu", "v_slice", "cpu.shares") == "1152\n"); // 36 shares x 32
  CHECK(sh("cpulimit getlimit v_slice", out) == 0);
  CHECK(out == "36\n");
  // The node manager applying its value again does not undo the override.
  REQUIRE_FALSE(b.find(mechanism::cpu)->apply({"v_slice", mechanism::cpu, {{"cpu_share", 40}}}));
  CHECK(knob("cpu", "v_slice", "cpu.shares") == "1152\n");
  CHECK(sh("cpulimit off v_slice && cpulimit getlimit v_slice", out) == 0);
  CHECK(out == "32\n");
  CHECK(sh("cpulimit on v_slice && cpulimit default v_slice && cpulimit getlimit v_slice", out) ==
        0);
  CHECK(out == "40\n");
  CHECK(knob("cpu", "v_slice", "cpu.shares") == "1280\n");
  for (auto tool : {"cpulimit", "memlimit", "tasklimit", "disklimit", "bwlimit", "iolimit"}) {
    CHECK(sh(std::string{tool} + " --help", out) == 0);
    CHECK(out.find("usage: " + std::string{tool}) != std::string::npos);
  }
}

TEST_CASE_METHOD(resman_fixture, "resman refuses bad input with a message and changes nothing",
                 "[linux]") {
  if (!test::require_root("resman"))
    return;
  REQUIRE_FALSE(
      b.find(mechanism::tasks)->apply({"v_slice", mechanism::tasks, {{"tasks_max", 50}}}));
  std::string out;
  CHECK(sh("tasklimit getlimit nosuch", out) == 1);
  CHECK(out == "tasklimit: unknown slice 'nosuch': no sliver on this node\n");
  CHECK(sh("tasklimit setlimit v_slice 1O", out) == 1);
  CHECK(out.find("bad value '1O'") != std::string::npos);
  CHECK(knob("pids", "v_slice", "pids.max") == "50\n");
  // One process in the sliver: a limit of 0 is below its use.
  test::child member{[this](test::child& self) {
    layout->attach(*layout->find("pids"), "v_slice", ::getpid());
    self.report(1);
    self.wait_go();
    return 0;
  }};
  long ready;
  REQUIRE(member.receive(ready));
  CHECK(sh("tasklimit setlimit v_slice 0", out) == 1);
  CHECK(out.find("below the slice's current use of 1") != std::string::npos);
  CHECK(knob("pids", "v_slice", "pids.max") == "50\n");
  CHECK(sh("tasklimit frobnicate v_slice", out) == 2);
  member.go();
  member.wait();
}
