// Containers, disk space and disk I/O for real (root): a sliver from a
// busybox reference image, `enter`, ENOSPC at the disk limit, an O_DIRECT
// writer within its I/O limit, adoption after a restart, and no mount, loop
// device or cgroup left behind.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "actors/runtime_config.hpp"
#include "drivers/backend.hpp"
#include "drivers/driver_actors.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/container.hpp"
#include "drivers/linux/disk.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/fs_util.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;
namespace fs = std::filesystem;

namespace {

bool enough_disk(const fs::path& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0)
    return false;
  auto free_mib = st.f_bavail * st.f_frsize / (1024 * 1024);
  if (free_mib >= 512)
    return true;
  std::printf("SKIPPED: only %llu MiB free under %s (floor 512 MiB)\n",
              static_cast<unsigned long long>(free_mib), dir.c_str());
  return false;
}

struct sliver_fixture {
  test::temp_dir tmp;
  std::string parent = "pltest-sliver-" + std::to_string(::getpid());
  backend_options opts;
  std::optional<backend> b;
  bool ok = false;

  sliver_fixture() {
    if (::geteuid() != 0 || !enough_disk(tmp.path))
      return;
    // A tiny reference image: busybox-static and a few applet links.
    auto img = tmp.path / "images" / "ref";
    fs::create_directories(img / "bin");
    fs::create_directories(img / "etc");
    fs::copy_file("/bin/busybox", img / "bin" / "busybox");
    for (auto applet : {"sh", "ash", "hostname", "cat", "echo", "ls", "sleep", "id", "dd"})
      fs::create_symlink("busybox", img / "bin" / applet);
    std::FILE* f = std::fopen((img / "etc" / "passwd").c_str(), "w");
    std::fputs("root:x:0:0:root:/root:/bin/sh\n", f);
    std::fclose(f);
    opts.state_dir = tmp.path / "state";
    opts.images_dir = tmp.path / "images";
    opts.cgroup_parent = parent;
    auto x = make_backend(opts);
    REQUIRE(x);
    b = std::move(*x);
    ok = true;
  }

  ~sliver_fixture() {
    if (!b)
      return;
    for (const auto& c : b->containers->containers())
      b->containers->destroy(c);
    for (auto& [m, d] : b->drivers) {
      for (const auto& s : d->slivers())
        d->remove(s);
      if (auto* cg = dynamic_cast<linux_cg::cgroup_driver*>(&d->inner()))
        cg->remove_parents();
    }
    // Nothing may be left behind: no mount, loop device or cgroup.
    auto mounts = linux_fs::read_text("/proc/self/mountinfo");
    if (mounts && mounts->find(tmp.path.string()) != std::string::npos)
      std::printf("LEFT BEHIND: a mount under %s\n", tmp.path.c_str());
    auto loops = linux_exec::run({"losetup", "-a"});
    if (loops && loops->find(tmp.path.string()) != std::string::npos)
      std::printf("LEFT BEHIND: a loop device on %s\n", tmp.path.c_str());
    auto l = std::static_pointer_cast<const linux_cg::layout>(b->keep);
    for (const auto& c : l->controllers())
      if (fs::exists(c.parent))
        std::printf("LEFT BEHIND: %s\n", c.parent.c_str());
  }

  linux_ct::linux_containers& ct() {
    return dynamic_cast<linux_ct::linux_containers&>(*b->containers);
  }
  linux_disk::disk_driver& disk() {
    return dynamic_cast<linux_disk::disk_driver&>(b->find(mechanism::disk_space)->inner());
  }

  void make_sliver(const std::string& name, std::int64_t blocks) {
    REQUIRE_FALSE(b->find(mechanism::disk_space)
                      ->apply({name, mechanism::disk_space, {{"disk_max", blocks}}}));
    for (auto m : {mechanism::cpu, mechanism::memory, mechanism::tasks, mechanism::disk_io})
      REQUIRE_FALSE(b->find(m)->apply({name, m, {}}));
  }

  // Runs a command in the container; returns status and output.
  std::pair<int, std::string> run(const std::string& name, std::vector<std::string> argv,
                                  bool as_slice = false) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    auto st = ct().enter(name, argv, as_slice, fds[1]);
    ::close(fds[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0)
      out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    REQUIRE(st);
    return {*st, out};
  }

  bool check_teardown() {
    auto mounts = linux_fs::read_text("/proc/self/mountinfo");
    return mounts && mounts->find(tmp.path.string()) == std::string::npos;
  }
};

} // namespace

TEST_CASE_METHOD(sliver_fixture,
                 "a container sees its own hostname, PID 1 and root; writes stay "
                 "in the clone; a restart adopts it",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("ct1", 32768);
  sliver_spec spec;
  spec.name = "ct1";
  spec.vref = "ref";
  spec.attributes["shell"] = "/bin/ash";
  REQUIRE_FALSE(b->containers->create(spec));
  REQUIRE_FALSE(b->containers->start("ct1"));
  CHECK(b->containers->running("ct1"));
  auto [st, out] = run("ct1", {"/bin/sh", "-c",
                               "hostname; cat /proc/1/comm; ls /; echo data > /written; "
                               "echo pid=$$"});
  INFO(out);
  CHECK(st == 0);
  CHECK(out.rfind("ct1\nsleep\n", 0) == 0);
  CHECK(out.find("work") == std::string::npos); // the host's /work is not there
  CHECK(out.find("bin") != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path / "images" / "ref" / "written"));
  CHECK(fs::exists(*disk().mount_point("ct1") / "upper" / "written"));
  auto [st2, uid] = run("ct1", {"/bin/id", "-u"}, true);
  CHECK(uid == "1000\n");
  CHECK(ct().login_shell("ct1") == std::string{"/bin/ash"});
  // The init and the entered commands are in the sliver's cgroups.
  auto l = std::static_pointer_cast<const linux_cg::layout>(b->keep);
  auto pids = l->procs(*l->find("pids"), "ct1");
  CHECK(std::find(pids.begin(), pids.end(), *ct().init_pid("ct1")) != pids.end());
  // The init holds none of this process's stdio (a daemon's log pipe).
  for (int fd = 0; fd < 3; ++fd)
    CHECK(fs::read_symlink("/proc/" + std::to_string(*ct().init_pid("ct1")) + "/fd/" +
                           std::to_string(fd)) == "/dev/null");
  // Restart: a new backend over the same state adopts the running container.
  auto again = make_backend(opts);
  REQUIRE(again);
  CHECK(again->containers->containers() == std::vector<std::string>{"ct1"});
  CHECK(again->containers->running("ct1"));
  CHECK(again->find(mechanism::disk_space)->read("ct1")->values.at("disk_max") == 32768);
  REQUIRE_FALSE(again->containers->stop("ct1"));
  CHECK_FALSE(b->containers->running("ct1"));
  REQUIRE_FALSE(b->containers->destroy("ct1"));
  REQUIRE_FALSE(b->find(mechanism::disk_space)->remove("ct1"));
  CHECK(check_teardown());
}

TEST_CASE_METHOD(sliver_fixture,
                 "writing past the disk limit fails with ENOSPC; grow works, "
                 "shrinking below use is refused",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("dk1", 16384); // 16 MiB
  auto mnt = disk().mount_point("dk1");
  REQUIRE(mnt);
  int fd = ::open((*mnt / "fill").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  std::vector<char> buf(1 << 20, 'x');
  int err = 0;
  std::size_t written = 0;
  for (int i = 0; i < 40 && err == 0; ++i) {
    auto n = ::write(fd, buf.data(), buf.size());
    if (n < 0)
      err = errno;
    else
      written += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0)
    err = errno;
  ::close(fd);
  CHECK((err == ENOSPC || err == EDQUOT));
  CHECK(written < (16u << 20));
  auto use = disk().usage("dk1", "disk_max");
  REQUIRE(use);
  auto* d = b->find(mechanism::disk_space);
  auto refused = d->apply({"dk1", mechanism::disk_space, {{"disk_max", 8192}}});
  CHECK(refused.code() == static_cast<std::uint8_t>(errc::invalid_argument));
  CHECK(d->read("dk1")->values.at("disk_max") == 16384);
  auto grown = d->apply({"dk1", mechanism::disk_space, {{"disk_max", 32768}}});
  INFO(describe(grown));
  REQUIRE_FALSE(grown);
  fd = ::open((*mnt / "more").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  CHECK(::write(fd, buf.data(), buf.size()) == static_cast<ssize_t>(buf.size()));
  CHECK(::fsync(fd) == 0);
  ::close(fd);
}

TEST_CASE_METHOD(sliver_fixture,
                 "an O_DIRECT writer on a throttled sliver stays within its I/O "
                 "limit",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("io1", 32768);
  REQUIRE(disk().device("io1"));
  constexpr std::int64_t limit_kib = 2048;
  REQUIRE_FALSE(b->find(mechanism::disk_io)
                    ->apply({"io1", mechanism::disk_io, {{"io_max_rate", limit_kib}}}));
  auto path = *disk().mount_point("io1") / "direct";
  auto l = std::static_pointer_cast<const linux_cg::layout>(b->keep);
  test::child writer{[&](test::child& self) {
    l->attach(*l->find("blkio"), "io1", ::getpid());
    int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_DIRECT, 0644);
    if (fd < 0)
      return 2;
    void* buf = nullptr;
    if (::posix_memalign(&buf, 4096, 256 * 1024) != 0)
      return 3;
    std::memset(buf, 'y', 256 * 1024);
    auto t0 = std::chrono::steady_clock::now();
    long total = 0;
    for (int i = 0; i < 24; ++i) { // 6 MiB
      if (::write(fd, buf, 256 * 1024) != 256 * 1024)
        return 4;
      total += 256 * 1024;
    }
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    self.report(total);
    self.report(us);
    return 0;
  }};
  long total = 0, us = 0;
  REQUIRE(writer.receive(total));
  REQUIRE(writer.receive(us));
  double kib_s = total / 1024.0 / (us / 1e6);
  std::printf("O_DIRECT writer: %.0f KiB/s with a limit of %lld KiB/s\n", kib_s,
              static_cast<long long>(limit_kib));
  CHECK(kib_s <= limit_kib * 1.2);
  CHECK(kib_s >= limit_kib * 0.3);
  CHECK(WIFEXITED(writer.wait()));
}

TEST_CASE_METHOD(sliver_fixture,
                 "the local API socket directory is bind-mounted into the sliver at "
                 "/run/planetlab/api; a socket made again later is the one it sees",
                 "[linux]") {
  if (!ok)
    return;
  auto o = opts;
  o.api_run_dir = tmp.path / "api";
  auto with_api = make_backend(o);
  REQUIRE(with_api);
  auto dir = o.api_run_dir / "ap1";
  auto sock = dir / "nm.sock";
  // Listens on `sock` as the node manager's api_server does; -1 on failure.
  auto listen_at = [&]() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, sock.c_str(), sizeof(addr.sun_path) - 1);
    ::unlink(sock.c_str());
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, 4) != 0) {
      if (fd >= 0)
        ::close(fd);
      return -1;
    }
    return fd;
  };
  make_sliver("ap1", 32768);
  sliver_spec spec;
  spec.name = "ap1";
  spec.vref = "ref";
  REQUIRE_FALSE(with_api->containers->create(spec));
  // The start makes the host directory when the socket is not there yet.
  REQUIRE_FALSE(with_api->containers->start("ap1"));
  CHECK(fs::is_directory(dir));
  int fd = listen_at();
  REQUIRE(fd >= 0);
  auto [st, out] = run("ap1", {"/bin/sh", "-c", "test -S /run/planetlab/api/nm.sock && echo sock"});
  CHECK(st == 0);
  CHECK(out == "sock\n");
  // nodemgr restarted: the old socket goes, a new one appears in the same
  // directory, and the running sliver sees it without a restart.
  ::close(fd);
  fs::remove(sock);
  auto [st2, out2] = run("ap1", {"/bin/sh", "-c", "ls -a /run/planetlab/api"});
  CHECK(out2.find("nm.sock") == std::string::npos);
  fd = listen_at();
  REQUIRE(fd >= 0);
  auto [st3, out3] =
      run("ap1", {"/bin/sh", "-c", "test -S /run/planetlab/api/nm.sock && echo again"});
  CHECK(out3 == "again\n");
  // Stop and start again: the mount is made once per init, no error.
  REQUIRE_FALSE(with_api->containers->stop("ap1"));
  REQUIRE_FALSE(with_api->containers->start("ap1"));
  auto [st4, out4] = run("ap1", {"/bin/sh", "-c", "test -S /run/planetlab/api/nm.sock && echo ok"});
  CHECK(out4 == "ok\n");
  // The host sees no trace of the sliver's mount namespace.
  auto mounts = linux_fs::read_text("/proc/self/mountinfo");
  REQUIRE(mounts);
  CHECK(mounts->find("/run/planetlab/api") == std::string::npos);
  ::close(fd);
  REQUIRE_FALSE(with_api->containers->stop("ap1"));
  REQUIRE_FALSE(with_api->containers->destroy("ap1"));
  REQUIRE_FALSE(b->find(mechanism::disk_space)->remove("ap1"));
  CHECK(check_teardown());
}

TEST_CASE_METHOD(sliver_fixture,
                 "the container driver actor starts a container whose init died, not a stopped one",
                 "[container]") {
  if (!ok)
    return;
  make_sliver("wd1", 16384);
  sliver_spec spec;
  spec.name = "wd1";
  spec.vref = "ref";
  spec.slice_id = 9;
  REQUIRE_FALSE(b->containers->create(spec));
  REQUIRE_FALSE(b->containers->start("wd1"));
  CHECK(b->containers->died().empty());
  CHECK(b->containers->watch_interval().count() > 0);

  // The actor on virtual time: its watchdog timer fires when the test says.
  caf::actor_system_config cfg;
  configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto actor = spawn_container_driver(sys, b->containers);
  sched.run();

  auto old = *ct().init_pid("wd1");
  ::kill(old, SIGKILL); // e.g. the OOM killer, or the fair victim policy
  for (int i = 0; i < 5000 && ct().running("wd1"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  REQUIRE_FALSE(ct().running("wd1"));
  CHECK(b->containers->died() == std::vector<std::string>{"wd1"});
  REQUIRE(sched.trigger_timeout());
  sched.run();
  auto now = ct().init_pid("wd1");
  REQUIRE(now);
  CHECK(*now != old);
  CHECK(b->containers->died().empty());
  auto [st, out] = run("wd1", {"/bin/hostname"});
  CHECK(out == "wd1\n");

  // A stopped container is not a death: the next round leaves it stopped.
  REQUIRE_FALSE(b->containers->stop("wd1"));
  CHECK(b->containers->died().empty());
  REQUIRE(sched.trigger_timeout());
  sched.run();
  CHECK_FALSE(ct().running("wd1"));

  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  sched.run();
  REQUIRE_FALSE(b->containers->destroy("wd1"));
  REQUIRE_FALSE(b->find(mechanism::disk_space)->remove("wd1"));
  CHECK(check_teardown());
}
