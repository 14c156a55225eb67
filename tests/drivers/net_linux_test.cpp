// Outbound bandwidth for real (root): the bwlimit HTB tree on the uplink of a
// private "node" network namespace, a sliver (container with a veth into that
// namespace) sending UDP to a sink namespace through its class, the exempt
// branch, adoption after a restart, resman's bwlimit, and destroy leaving no
// qdisc, class, filter, veth or namespace behind. Every address and port lives
// inside the test's own namespaces.
#include <catch2/catch.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include "drivers/backend.hpp"
#include "drivers/linux/cgroup_drivers.hpp"
#include "drivers/linux/container.hpp"
#include "drivers/linux/exec.hpp"
#include "drivers/linux/fs_util.hpp"
#include "drivers/linux/net_driver.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;
namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;

namespace {

std::string must(const std::vector<std::string>& argv, const std::string& netns_file = {}) {
  auto r = linux_exec::run_in(netns_file, argv);
  INFO(describe(r ? caf::error{} : r.error()));
  REQUIRE(r);
  return *r;
}

// Joins a network namespace (in a forked child).
bool join_netns(const std::string& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

/// The sink: a UDP socket on port 0 in `netns_file`; reports the port, then
/// counts bytes until 500 ms pass without a datagram and reports bytes and
/// the microseconds between the first and the last datagram.
test::child sink(const std::string& netns_file, int first_timeout_ms = 10000) {
  return test::child{[netns_file, first_timeout_ms](test::child& self) {
    if (!join_netns(netns_file))
      return 1;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    socklen_t len = sizeof(a);
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return 2;
    int rcvbuf = 4 << 20;
    ::setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    self.report(ntohs(a.sin_port));
    long bytes = 0;
    clk::time_point first, last;
    std::array<char, 2048> buf;
    // The first datagram may take a while (the sender starts later).
    int timeout_ms = first_timeout_ms;
    for (;;) {
      pollfd p{s, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0)
        break;
      auto n = ::recv(s, buf.data(), buf.size(), 0);
      if (n <= 0)
        continue;
      last = clk::now();
      if (bytes == 0)
        first = last;
      bytes += n;
      timeout_ms = 500;
    }
    self.report(bytes);
    self.report(std::chrono::duration_cast<std::chrono::microseconds>(last - first).count());
    return 0;
  }};
}

/// Sends 1400-byte UDP datagrams to `dst:port` from `netns_file` for
/// `duration` (or `count` datagrams, when non-zero), from source address
/// `src` when set; reports bytes sent.
test::child sender(const std::string& netns_file, const std::string& dst, long port,
                   std::chrono::milliseconds duration, long count = 0,
                   const std::string& src = {}) {
  return test::child{[=](test::child& self) {
    if (!join_netns(netns_file))
      return 1;
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (!src.empty()) {
      sockaddr_in b{};
      b.sin_family = AF_INET;
      if (::inet_pton(AF_INET, src.c_str(), &b.sin_addr) != 1 ||
          ::bind(s, reinterpret_cast<sockaddr*>(&b), sizeof(b)) != 0)
        return 3;
    }
    if (s < 0 || ::inet_pton(AF_INET, dst.c_str(), &a.sin_addr) != 1 ||
        ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
      return 2;
    std::array<char, 1400> buf{};
    long sent = 0, n = 0;
    auto end = clk::now() + duration;
    while (count > 0 ? n < count : clk::now() < end) {
      if (::send(s, buf.data(), buf.size(), 0) > 0)
        sent += static_cast<long>(buf.size());
      ++n;
    }
    self.report(sent);
    return 0;
  }};
}

/// Deletes the named network namespaces (and with them every device in
/// them) on destruction, also when the fixture's constructor fails.
struct netns_guard {
  std::vector<std::string> names;
  void release() {
    for (const auto& ns : names)
      if (fs::exists("/run/netns/" + ns))
        linux_exec::run({"ip", "netns", "del", ns});
    names.clear();
  }
  ~netns_guard() { release(); }
};

struct net_fixture {
  test::temp_dir tmp;
  std::string tag = std::to_string(::getpid());
  std::string node = "pltest-node-" + tag;
  std::string sink_ns = "pltest-sink-" + tag;
  netns_guard namespaces;
  backend_options opts;
  std::optional<backend> b;
  bool ok = false;

  net_fixture() {
    if (!test::require_root("net"))
      return;
    // node: the sliver's host side and the uplink (the shaped device);
    // sink: the other end of the uplink, with a plain and an exempt address.
    namespaces.names = {node, sink_ns};
    must({"ip", "netns", "add", node});
    must({"ip", "netns", "add", sink_ns});
    must({"ip", "-n", node, "link", "add", "uplink", "type", "veth", "peer", "name", "sinkdev",
          "netns", sink_ns});
    must({"ip", "-n", node, "addr", "add", "10.77.0.1/24", "dev", "uplink"});
    must({"ip", "-n", node, "link", "set", "uplink", "up"});
    must({"ip", "-n", node, "route", "add", "10.88.0.0/24", "via", "10.77.0.2"});
    must({"sysctl", "-qw", "net.ipv4.ip_forward=1"}, "/run/netns/" + node);
    must({"ip", "-n", sink_ns, "addr", "add", "10.77.0.2/24", "dev", "sinkdev"});
    must({"ip", "-n", sink_ns, "addr", "add", "10.88.0.2/24", "dev", "sinkdev"});
    must({"ip", "-n", sink_ns, "link", "set", "dev", "sinkdev", "up"});
    must({"ip", "-n", sink_ns, "link", "set", "lo", "up"});
    must({"ip", "-n", sink_ns, "route", "add", "10.213.0.0/16", "via", "10.77.0.1"});
    auto img = tmp.path / "images" / "ref";
    fs::create_directories(img / "bin");
    fs::create_directories(img / "etc");
    fs::copy_file("/bin/busybox", img / "bin" / "busybox");
    fs::create_symlink("busybox", img / "bin" / "sleep");
    fs::create_symlink("busybox", img / "bin" / "sh");
    opts.state_dir = tmp.path / "state";
    opts.images_dir = tmp.path / "images";
    opts.cgroup_parent = "pltest-net-" + tag;
    opts.net_device = "uplink";
    opts.net_netns = node;
    opts.net_cap_kbps = 100000;
    opts.net_exempt = {"10.88.0.0/24"};
    auto x = make_backend(opts);
    REQUIRE(x);
    b = std::move(*x);
    ok = true;
  }

  ~net_fixture() {
    if (b) {
      for (const auto& c : b->containers->containers())
        b->containers->destroy(c);
      for (auto& [m, d] : b->drivers) {
        for (const auto& s : d->slivers())
          d->remove(s);
        if (auto* cg = dynamic_cast<linux_cg::cgroup_driver*>(&d->inner()))
          cg->remove_parents();
      }
      net().destroy();
    }
    if (!ok)
      return;
    namespaces.release();
    // Nothing is left on the host: namespaces (and every device, qdisc and
    // veth in them), cgroups, links in this namespace.
    auto left = linux_exec::run({"ip", "netns", "list"});
    CHECK(left);
    if (!left || left->find(tag) != std::string::npos)
      std::printf("LEFT BEHIND: a network namespace pltest-*-%s\n", tag.c_str());
    CHECK((left && left->find(tag) == std::string::npos));
    auto links = linux_exec::run({"ip", "-o", "link", "show"});
    CHECK((links && links->find(": plv") == std::string::npos));
    auto l = std::static_pointer_cast<const linux_cg::layout>(b->keep);
    for (const auto& c : l->controllers()) {
      if (fs::exists(c.parent))
        std::printf("LEFT BEHIND: %s\n", c.parent.c_str());
      CHECK_FALSE(fs::exists(c.parent));
    }
  }

  linux_net::net_driver& net() {
    return dynamic_cast<linux_net::net_driver&>(b->find(mechanism::net)->inner());
  }
  linux_ct::linux_containers& ct() {
    return dynamic_cast<linux_ct::linux_containers&>(*b->containers);
  }

  void make_sliver(const std::string& name, const std::map<std::string, std::int64_t>& net_values) {
    REQUIRE_FALSE(b->find(mechanism::net)->apply({name, mechanism::net, net_values}));
    sliver_spec spec;
    spec.name = name;
    spec.vref = "ref";
    REQUIRE_FALSE(b->containers->create(spec));
    REQUIRE_FALSE(b->containers->start(name));
  }

  std::string sliver_netns(const std::string& name) {
    auto pid = ct().init_pid(name);
    REQUIRE(pid);
    return "/proc/" + std::to_string(*pid) + "/ns/net";
  }

  linux_net::class_state cls(std::uint32_t minor) {
    auto cs = net().tree().classes();
    REQUIRE(cs);
    for (const auto& c : *cs)
      if (c.minor == minor)
        return c;
    FAIL("no class 1:" << std::hex << minor);
    return {};
  }

  // The tree's configuration as the kernel shows it (no counters).
  std::string snapshot() {
    return must({"tc", "-n", node, "-d", "qdisc", "show", "dev", "uplink"}) +
           must({"tc", "-n", node, "-d", "class", "show", "dev", "uplink"}) +
           must({"tc", "-n", node, "-j", "filter", "show", "dev", "uplink"});
  }
};

} // namespace

TEST_CASE_METHOD(net_fixture, "a sliver's traffic through its veth is shaped by its class",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("bw1", {{"net_min_rate", 1000}, {"net_max_rate", 10000}, {"net_share", 3}});
  auto xid = net().xid("bw1");
  REQUIRE(xid);
  auto c = cls(linux_net::main_minor | *xid);
  CHECK(c.parent_minor == 0x10);
  CHECK(c.rate_bps == 1'000'000);
  CHECK(c.ceil_bps == 10'000'000);
  CHECK(c.quantum == 4800);
  CHECK(c.leaf_major == (linux_net::main_minor | *xid));
  CHECK(cls(0x10).ceil_bps == 100'000'000); // the node cap
  auto before = c.bytes;

  auto rx = sink("/run/netns/" + sink_ns);
  long port = 0;
  REQUIRE(rx.receive(port));
  auto tx = sender(sliver_netns("bw1"), "10.77.0.2", port, std::chrono::milliseconds{2000});
  long sent = 0, bytes = 0, usec = 0;
  REQUIRE(tx.receive(sent));
  REQUIRE(rx.receive(bytes));
  REQUIRE(rx.receive(usec));
  REQUIRE(usec > 0);
  double mbit = bytes * 8.0 / usec; // bits per microsecond = Mbit/s
  std::printf("net: sliver sent %.1f MB in 2 s; sink got %ld bytes in %.2f s = %.2f Mbit/s "
              "(ceil 10 Mbit/s)\n",
              sent / 1e6, bytes, usec / 1e6, mbit);
  CHECK(mbit >= 5.0);
  CHECK(mbit <= 12.0);
  CHECK(sent > bytes); // the sender went faster than the class let through
  // The sink's bytes went through the sliver's class.
  CHECK(cls(linux_net::main_minor | *xid).bytes - before >= bytes);
  CHECK(cls(linux_net::exempt_minor | *xid).bytes == 0);
}

TEST_CASE_METHOD(net_fixture, "traffic to an exempt destination uses the net_i2 class", "[linux]") {
  if (!ok)
    return;
  make_sliver("bw2", {{"net_max_rate", 10000}, {"net_i2_max_rate", 50000}});
  auto xid = *net().xid("bw2");
  auto ex = cls(linux_net::exempt_minor | xid);
  CHECK(ex.parent_minor == 0x20);
  CHECK(ex.ceil_bps == 50'000'000);
  auto main_before = cls(linux_net::main_minor | xid).bytes;
  auto rx = sink("/run/netns/" + sink_ns);
  long port = 0;
  REQUIRE(rx.receive(port));
  auto tx = sender(sliver_netns("bw2"), "10.88.0.2", port, std::chrono::milliseconds{0}, 200);
  long sent = 0, bytes = 0, usec = 0;
  REQUIRE(tx.receive(sent));
  REQUIRE(rx.receive(bytes));
  REQUIRE(rx.receive(usec));
  CHECK(bytes > 0);
  auto ex_bytes = cls(linux_net::exempt_minor | xid).bytes;
  std::printf("net: exempt destination: sink got %ld bytes; class 1:%x counted %lld bytes, "
              "1:%x %lld\n",
              bytes, linux_net::exempt_minor | xid, static_cast<long long>(ex_bytes),
              linux_net::main_minor | xid,
              static_cast<long long>(cls(linux_net::main_minor | xid).bytes - main_before));
  CHECK(ex_bytes >= bytes);
  CHECK(cls(linux_net::main_minor | xid).bytes == main_before);
  // Unclassified traffic (the node's own) goes to the default class.
  CHECK(cls(linux_net::exempt_minor | linux_net::default_xid).bytes ==
        0); // What the node manager's byte caps read: per sliver, the bytes of its
  // ordinary and its exempt class.
  auto counters = net().transmit_counters();
  REQUIRE(counters);
  REQUIRE(counters->count("bw2") == 1);
  CHECK(counters->at("bw2").first == cls(linux_net::main_minor | xid).bytes);
  CHECK(counters->at("bw2").second == cls(linux_net::exempt_minor | xid).bytes);
  CHECK(counters->at("bw2").second >= bytes);
}

TEST_CASE_METHOD(net_fixture,
                 "a restart adopts the tree unchanged; destroy removes every qdisc, class, "
                 "filter and veth",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("bw3", {{"net_min_rate", 500}, {"net_max_rate", 7000}});
  make_sliver("bw4", {{"net_max_rate", 3000}, {"net_i2_share", 2}});
  auto veth3 = ct().veth("bw3");
  REQUIRE(veth3);
  CHECK(must({"ip", "-n", node, "link", "show", "dev", veth3->host_ifname}).find("UP") !=
        std::string::npos);
  auto snap = snapshot();
  auto rec3 = b->find(mechanism::net)->read("bw3");
  REQUIRE(rec3);
  {
    // A new backend over the same state (same options), and one that finds
    // the tree from its record alone (as resman does).
    auto again = make_backend(opts);
    REQUIRE(again);
    REQUIRE_FALSE(again->find(mechanism::net)->init());
    CHECK(again->find(mechanism::net)->slivers() == std::vector<std::string>{"bw3", "bw4"});
    CHECK(again->find(mechanism::net)->read("bw3") == rec3);
    auto bare = opts;
    bare.net_device.clear();
    bare.net_netns.clear();
    auto from_record = make_backend(bare);
    REQUIRE(from_record);
    REQUIRE(from_record->find(mechanism::net) != nullptr);
    REQUIRE_FALSE(from_record->find(mechanism::net)->init());
    CHECK(from_record->find(mechanism::net)->read("bw4")->values.at("net_max_rate") == 3000);
    CHECK(again->containers->running("bw3"));
  }
  CHECK(snapshot() == snap);
  // The node manager re-applying the same values changes nothing.
  REQUIRE_FALSE(
      b->find(mechanism::net)
          ->apply({"bw3", mechanism::net, {{"net_min_rate", 500}, {"net_max_rate", 7000}}}));
  CHECK(snapshot() == snap);
  {
    // A restart with a second exempt prefix rebuilds the slices' filters.
    auto more = opts;
    more.net_exempt.push_back("10.99.0.0/16");
    auto again = make_backend(more);
    REQUIRE(again);
    REQUIRE_FALSE(again->find(mechanism::net)->init());
    auto filters = must({"tc", "-n", node, "filter", "show", "dev", "uplink"});
    INFO(filters);
    CHECK(filters.find("match 0a630000/ffff0000 at 16") != std::string::npos);
    auto back = make_backend(opts);
    REQUIRE(back);
    REQUIRE_FALSE(back->find(mechanism::net)->init());
    CHECK(must({"tc", "-n", node, "filter", "show", "dev", "uplink"}).find("0a630000") ==
          std::string::npos);
  }
  // Qdiscs and classes stayed as they were (the rebuilt filters have new
  // u32 table ids).
  CHECK(snapshot().substr(0, snap.find('[')) == snap.substr(0, snap.find('[')));

  // Removing one sliver removes its classes, leaves and filters only.
  REQUIRE_FALSE(b->containers->destroy("bw4"));
  REQUIRE_FALSE(b->find(mechanism::net)->remove("bw4"));
  auto classes = must({"tc", "-n", node, "class", "show", "dev", "uplink"});
  CHECK(classes.find("1:1002") == std::string::npos);
  CHECK(classes.find("1:2002") == std::string::npos);
  CHECK(classes.find("1:1001") != std::string::npos);
  CHECK(must({"tc", "-n", node, "-j", "filter", "show", "dev", "uplink"}).find("8194") ==
        std::string::npos);

  REQUIRE_FALSE(b->containers->destroy("bw3"));
  REQUIRE_FALSE(net().destroy());
  auto qdiscs = must({"tc", "-n", node, "-j", "qdisc", "show", "dev", "uplink"});
  INFO(qdiscs);
  CHECK(qdiscs.find("htb") == std::string::npos);
  CHECK(qdiscs.find("pfifo\"") == std::string::npos);
  CHECK(must({"tc", "-n", node, "class", "show", "dev", "uplink"}).empty());
  auto filters = must({"tc", "-n", node, "-j", "filter", "show", "dev", "uplink"});
  CHECK((filters.empty() || filters == "[]\n"));
  auto links = must({"ip", "-n", node, "-o", "link", "show"});
  INFO(links);
  CHECK(links.find("plv") == std::string::npos);
  CHECK(net().slivers().empty());
  CHECK_FALSE(fs::exists(opts.state_dir / "drivers" / "net" / "tree"));
}

TEST_CASE_METHOD(net_fixture, "bwlimit init/setlimit/getlimit/off/on/default on linux", "[linux]") {
  if (!ok)
    return;
  auto sh = [&](const std::string& script, std::string& out) {
    std::string cmd =
        "env PATH=" PL_RESMAN_DIR ":$PATH PL_DRIVERS_STATE=" + opts.state_dir.string() +
        " PL_CGROUP_PARENT=" + opts.cgroup_parent + " PL_NET_NETNS=" + node + " bash -c '" +
        script + "' 2>&1";
    out.clear();
    auto* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 256> buf;
    while (auto n = std::fread(buf.data(), 1, buf.size(), p))
      out.append(buf.data(), n);
    auto st = ::pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  };
  std::string out;
  REQUIRE(sh("bwlimit init uplink 50000", out) == 0);
  INFO(out);
  CHECK(cls(0x10).ceil_bps == 50'000'000);
  make_sliver("bw5", {{"net_max_rate", 8000}});
  auto minor = linux_net::main_minor | *net().xid("bw5");
  CHECK(sh("bwlimit getlimit bw5", out) == 0);
  CHECK(out == "8000\n");
  CHECK(sh("bwlimit setlimit bw5 2000 && bwlimit getlimit bw5", out) == 0);
  CHECK(out == "2000\n");
  CHECK(cls(minor).ceil_bps == 2'000'000);
  CHECK(sh("bwlimit -r net_min_rate setlimit bw5 700", out) == 0);
  CHECK(cls(minor).rate_bps == 700'000);
  CHECK(sh("bwlimit -r net_min_rate getlimit bw5", out) == 0);
  CHECK(out == "700\n");
  CHECK(sh("bwlimit off bw5 && bwlimit getlimit bw5", out) == 0);
  CHECK(out == std::to_string(unenforced_value(*find_resource("net_max_rate"))) + "\n");
  CHECK(cls(minor).ceil_bps == linux_net::bwmax_kbps * 1000);
  CHECK(sh("bwlimit on bw5 && bwlimit default bw5 && bwlimit getlimit bw5", out) == 0);
  CHECK(out == "8000\n");
  CHECK(cls(minor).ceil_bps == 8'000'000);
  CHECK(sh("bwlimit setlimit bw5 fast", out) == 1);
  CHECK(sh("bwlimit getlimit nosuch", out) == 1);
  CHECK(cls(minor).ceil_bps == 8'000'000);
}

TEST_CASE_METHOD(net_fixture,
                 "a sliver started without net values gets the defaults; it cannot send "
                 "with another sliver's address",
                 "[linux]") {
  if (!ok)
    return;
  make_sliver("bw6", {{"net_max_rate", 10000}});
  sliver_spec spec;
  spec.name = "bw7";
  spec.vref = "ref";
  REQUIRE_FALSE(b->containers->create(spec));
  REQUIRE_FALSE(b->containers->start("bw7"));
  auto xid7 = net().xid("bw7");
  REQUIRE(xid7);
  auto got = b->find(mechanism::net)->read("bw7");
  REQUIRE(got);
  CHECK(value_or_default(*got, "net_max_rate") == 1000000); // the table defaults
  CHECK(value_or_default(*got, "net_min_rate") == 1);
  CHECK(cls(linux_net::main_minor | *xid7).ceil_bps == 1'000'000'000); // net_max_rate 1000000
  auto v6 = net().veth("bw6"), v7 = net().veth("bw7");
  REQUIRE(v6);
  REQUIRE(v7);
  CHECK(ct().veth("bw7")->host_ifname == v7->host_ifname);
  // bw7 claims bw6's address: strict rp_filter on bw7's veth drops it.
  must({"ip", "addr", "add", v6->sliver_address + "/32", "dev", "eth0"}, sliver_netns("bw7"));
  auto before6 = cls(linux_net::main_minor | *net().xid("bw6")).bytes;
  {
    auto rx = sink("/run/netns/" + sink_ns, 1500);
    long port = 0;
    REQUIRE(rx.receive(port));
    auto tx = sender(sliver_netns("bw7"), "10.77.0.2", port, std::chrono::milliseconds{0}, 100,
                     v6->sliver_address);
    long sent = 0, bytes = 0, usec = 0;
    REQUIRE(tx.receive(sent));
    REQUIRE(rx.receive(bytes));
    REQUIRE(rx.receive(usec));
    CHECK(sent > 0);
    CHECK(bytes == 0);
  }
  CHECK(cls(linux_net::main_minor | *net().xid("bw6")).bytes == before6);
  // With its own address the same datagrams arrive.
  {
    auto rx = sink("/run/netns/" + sink_ns);
    long port = 0;
    REQUIRE(rx.receive(port));
    auto tx = sender(sliver_netns("bw7"), "10.77.0.2", port, std::chrono::milliseconds{0}, 100,
                     v7->sliver_address);
    long sent = 0, bytes = 0, usec = 0;
    REQUIRE(tx.receive(sent));
    REQUIRE(rx.receive(bytes));
    REQUIRE(rx.receive(usec));
    CHECK(bytes >= sent / 2); // the first may wait for ARP, and a few may be dropped
  }
  // stop deletes the veth pair; start makes it again with the same address.
  REQUIRE_FALSE(b->containers->stop("bw7"));
  CHECK_FALSE(linux_exec::run({"ip", "-n", node, "link", "show", "dev", v7->host_ifname}));
  REQUIRE_FALSE(b->containers->start("bw7"));
  CHECK(must({"ip", "addr", "show", "dev", "eth0"}, sliver_netns("bw7")).find(v7->sliver_address) !=
        std::string::npos);
}
