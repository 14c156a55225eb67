// Plain logic of the drivers: knob conversions, the fair-victim choice, the
// state records, allocation checks, override precedence and resman's
// refusals (on the sim backend, no root needed).
#include <catch2/catch.hpp>

#include <sstream>

#include "drivers/backend.hpp"
#include "drivers/fair_victim.hpp"
#include "drivers/knobs.hpp"
#include "drivers/linux/htb.hpp"
#include "drivers/resman.hpp"
#include "drivers/sim/model.hpp"
#include "drivers/state_store.hpp"
#include "tests/drivers/helpers.hpp"

using namespace pl;
using namespace pl::drivers;

TEST_CASE("cpu shares scale by 32 and convert to cpu.weight by runc's formula") {
  CHECK(cgroup_cpu_shares(32) == 1024);
  CHECK(cgroup_cpu_shares(96) == 3072);
  CHECK(cgroup_cpu_shares(0) == 2);
  CHECK(cgroup_cpu_shares(1'000'000) == 262144);
  CHECK(cpu_weight_from_shares(0) == 0);
  CHECK(cpu_weight_from_shares(2) == 1);
  CHECK(cpu_weight_from_shares(1024) == 100);
  CHECK(cpu_weight_from_shares(262144) == 10000);
  CHECK(cpu_weight_from_shares(300000) == 10000);
  // Monotonic over the whole range.
  for (std::int64_t s = 3; s < 262144; s += 97)
    CHECK(cpu_weight_from_shares(s) <= cpu_weight_from_shares(s + 97));
}

TEST_CASE("other knob conversions") {
  CHECK(cfs_quota_us(0) == -1);
  CHECK(cfs_quota_us(50) == 50000);
  CHECK(cfs_quota_us(200) == 200000);
  CHECK(pages_to_bytes(32768) == 128 * 1024 * 1024);
  CHECK(pages_to_bytes(std::numeric_limits<std::int64_t>::max()) ==
        std::numeric_limits<std::int64_t>::max());
  CHECK(bytes_to_pages(4097) == 2);
  CHECK(blkio_weight_v1(1) == 10);
  CHECK(blkio_weight_v1(100) == 100);
  CHECK(htb_quantum(3) == 4800);
}

TEST_CASE("the fair victim is the sliver furthest over its share, never one within it") {
  std::vector<victim_candidate> xs{{"a", 600, 32}, {"b", 300, 32}, {"c", 100, 32}};
  // Parent 1200 pages: entitlement 400 each; only a is over.
  CHECK(pick_fair_victim(xs, 1200) == std::optional<std::size_t>{0});
  // Weighted: a has 3x the share -> entitled 720, within; b over (240).
  xs[0].share = 96;
  CHECK(pick_fair_victim(xs, 1200) == std::optional<std::size_t>{1});
  // All within their shares: no victim.
  CHECK_FALSE(pick_fair_victim(xs, 100000).has_value());
  CHECK(parent_short(95, 100, 95));
  CHECK_FALSE(parent_short(94, 100, 95));
  CHECK_FALSE(parent_short(94, 0, 95));
  // Exhaustive on a small grid: whoever is picked is over its entitlement by
  // the largest margin.
  for (std::int64_t ua = 0; ua <= 1000; ua += 100)
    for (std::int64_t ub = 0; ub <= 1000; ub += 100)
      for (std::int64_t sa : {1, 2, 3}) {
        std::vector<victim_candidate> ys{{"a", ua, sa}, {"b", ub, 1}};
        auto v = pick_fair_victim(ys, 1000);
        double ea = 1000.0 * sa / (sa + 1), eb = 1000.0 / (sa + 1);
        if (!v) {
          CHECK(ua <= ea);
          CHECK(ub <= eb);
        } else if (*v == 0) {
          CHECK(ua > ea);
          CHECK(ua - ea >= ub - eb);
        } else {
          CHECK(ub > eb);
          CHECK(ub - eb >= ua - ea);
        }
      }
}

TEST_CASE("state records round-trip and list only valid names") {
  test::temp_dir tmp;
  state_store st{tmp.path / "x"};
  CHECK(st.list().empty());
  REQUIRE_FALSE(st.put("s1", {{"cpu_share", 40}, {"cpu_cap", 0}}));
  REQUIRE_FALSE(st.put("s2", {}));
  CHECK(st.get("s1") == state_store::values{{"cpu_share", 40}, {"cpu_cap", 0}});
  CHECK(st.list() == std::vector<std::string>{"s1", "s2"});
  REQUIRE_FALSE(st.erase("s1"));
  CHECK_FALSE(st.get("s1").has_value());
  CHECK(valid_sliver_name("pl_slice-1.x"));
  CHECK_FALSE(valid_sliver_name("../etc"));
  CHECK_FALSE(valid_sliver_name(".hidden"));
  CHECK_FALSE(valid_sliver_name(""));
}

/// Runs the test with `dir` as the working directory (a relative path written
/// by mistake lands there), restoring the old one after.
struct in_dir {
  std::filesystem::path old = std::filesystem::current_path();
  explicit in_dir(const std::filesystem::path& dir) { std::filesystem::current_path(dir); }
  ~in_dir() { std::filesystem::current_path(old); }
};

TEST_CASE("state records without a directory stay in memory and write no file") {
  test::temp_dir tmp;
  in_dir cwd{tmp.path};
  state_store st{std::filesystem::path{}};
  CHECK(st.in_memory());
  CHECK(st.list().empty());
  REQUIRE_FALSE(st.put("s2", {{"mem_limit", 7}}));
  REQUIRE_FALSE(st.put("s1", {{"cpu_share", 40}}));
  REQUIRE_FALSE(st.put("s1", {{"cpu_share", 41}, {"cpu_cap", 0}}));
  CHECK(st.get("s1") == state_store::values{{"cpu_share", 41}, {"cpu_cap", 0}});
  CHECK(st.list() == std::vector<std::string>{"s1", "s2"});
  REQUIRE_FALSE(st.erase("s1"));
  REQUIRE_FALSE(st.erase("absent"));
  CHECK_FALSE(st.get("s1").has_value());
  CHECK(st.list() == std::vector<std::string>{"s2"});
  CHECK(std::filesystem::is_empty(tmp.path));
}

TEST_CASE("a sim backend without a state directory keeps overrides and allocations in memory") {
  test::temp_dir tmp;
  in_dir cwd{tmp.path};
  backend_options o;
  o.kind = "sim";
  o.state_dir.clear();
  auto b = make_backend(o);
  REQUIRE(b);
  auto* cpu = b->find(mechanism::cpu);
  REQUIRE(cpu != nullptr);
  REQUIRE_FALSE(b->containers->create(sliver_spec{.name = "pl_a"}));
  REQUIRE_FALSE(cpu->apply({"pl_a", mechanism::cpu, {{"cpu_share", 30}}}));
  REQUIRE_FALSE(cpu->set_override("pl_a", "cpu_share", 50));
  CHECK(cpu->read("pl_a")->values.at("cpu_share") == 50);
  REQUIRE_FALSE(cpu->clear_overrides("pl_a"));
  // The managed allocation was remembered in memory, not lost.
  CHECK(cpu->read("pl_a")->values.at("cpu_share") == 30);
  CHECK(std::filesystem::is_empty(tmp.path));
}

TEST_CASE("allocations are checked against the resource table") {
  CHECK_FALSE(check_allocation({"s", mechanism::cpu, {{"cpu_share", 5}}}, mechanism::cpu));
  CHECK(check_allocation({"s", mechanism::memory, {{"cpu_share", 5}}}, mechanism::cpu));
  CHECK(check_allocation({"s", mechanism::cpu, {{"mem_limit", 5}}}, mechanism::cpu));
  CHECK(check_allocation({"s", mechanism::cpu, {{"cpu_pct", 101}}}, mechanism::cpu));
  CHECK(check_allocation({"s", mechanism::cpu, {{"cpu_cap", 5}}}, mechanism::cpu));
  CHECK_FALSE(
      check_allocation({"s", mechanism::cpu, {{"cpu_cap", 5}}}, mechanism::cpu, {"cpu_cap"}));
  CHECK(check_allocation({"a/b", mechanism::cpu, {}}, mechanism::cpu));
}

namespace {

struct sim_fixture {
  test::temp_dir tmp;
  backend b;
  sim_fixture() {
    backend_options o;
    o.kind = "sim";
    o.state_dir = tmp.path;
    auto x = make_backend(o);
    REQUIRE(x);
    b = std::move(*x);
  }
  int resman(std::string tool, std::vector<std::string> args, std::string* out = nullptr,
             std::string* err = nullptr) {
    std::ostringstream o, e;
    auto rc = run_resman(*find_resman_tool(tool), args, b, o, e);
    if (out)
      *out = o.str();
    if (err)
      *err = e.str();
    return rc;
  }
};

} // namespace

TEST_CASE_METHOD(sim_fixture, "override precedence: off > override > node manager > default") {
  auto* cpu = b.find(mechanism::cpu);
  REQUIRE(cpu != nullptr);
  REQUIRE_FALSE(cpu->apply({"v_slice", mechanism::cpu, {{"cpu_share", 40}}}));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 40);
  REQUIRE_FALSE(cpu->set_override("v_slice", "cpu_share", 77));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 77);
  // The node manager re-applies its value: the override still wins.
  REQUIRE_FALSE(cpu->apply({"v_slice", mechanism::cpu, {{"cpu_share", 50}}}));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 77);
  REQUIRE_FALSE(cpu->enforce("v_slice", false));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 32);
  REQUIRE_FALSE(cpu->enforce("v_slice", true));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 77);
  REQUIRE_FALSE(cpu->clear_overrides("v_slice"));
  CHECK(value_or_default(*cpu->read("v_slice"), "cpu_share") == 50);
  auto* mem = b.find(mechanism::memory);
  REQUIRE_FALSE(mem->apply({"v_slice", mechanism::memory, {{"mem_limit", 100}}}));
  REQUIRE_FALSE(mem->enforce("v_slice", false));
  CHECK(value_or_default(*mem->read("v_slice"), "mem_limit") ==
        std::numeric_limits<std::int64_t>::max());
}

TEST_CASE_METHOD(sim_fixture, "resman refuses unknown slices, bad numbers and limits below use") {
  std::string out, err;
  CHECK(resman("cpulimit", {"getlimit", "nobody"}, &out, &err) == 1);
  CHECK(err.find("unknown slice 'nobody'") != std::string::npos);
  REQUIRE_FALSE(b.find(mechanism::cpu)->apply({"v_slice", mechanism::cpu, {{"cpu_share", 32}}}));
  CHECK(resman("cpulimit", {"setlimit", "v_slice", "12x"}, &out, &err) == 1);
  CHECK(err.find("bad value '12x'") != std::string::npos);
  CHECK(resman("cpulimit", {"setlimit", "v_slice", "-3"}, &out, &err) == 1);
  CHECK(resman("cpulimit", {"getlimit", "v_slice"}, &out) == 0);
  CHECK(out == "32\n");
  CHECK(b.find(mechanism::cpu)->overrides("v_slice").empty());
  CHECK(resman("cpulimit", {"bogus", "v_slice"}, &out, &err) == 2);
  CHECK(resman("cpulimit", {"setlimit", "v_slice"}, &out, &err) == 2);
  CHECK(resman("cpulimit", {"--help"}, &out) == 0);
  CHECK(out.find("setlimit SLICE N") != std::string::npos);
  // Below current use: 10 tasks running, a limit of 5 is refused.
  REQUIRE_FALSE(
      b.find(mechanism::tasks)->apply({"v_slice", mechanism::tasks, {{"tasks_max", 20}}}));
  auto model = std::static_pointer_cast<sim::model>(b.keep);
  for (int i = 0; i < 10; ++i)
    REQUIRE(model->fork("v_slice"));
  CHECK(resman("tasklimit", {"setlimit", "v_slice", "5"}, &out, &err) == 1);
  CHECK(err.find("below the slice's current use of 10") != std::string::npos);
  CHECK(resman("tasklimit", {"getlimit", "v_slice"}, &out) == 0);
  CHECK(out == "20\n");
  CHECK(resman("tasklimit", {"setlimit", "v_slice", "12"}) == 0);
  CHECK(resman("tasklimit", {"getlimit", "v_slice"}, &out) == 0);
  CHECK(out == "12\n");
  CHECK(resman("tasklimit", {"default", "v_slice"}) == 0);
  CHECK(resman("tasklimit", {"getlimit", "v_slice"}, &out) == 0);
  CHECK(out == "20\n");
  CHECK(resman("iolimit", {"getlimit", "v_slice", "-r", "cpu_share"}, &out, &err) == 2);
}

TEST_CASE("bwlimit's HTB shape: fixed classes, slice classes, clamping") {
  using namespace pl::drivers::linux_net;
  auto fixed = tree_classes(100000);
  REQUIRE(fixed.size() == 7);
  CHECK(fixed[0] == class_spec{1, 0, 10'000'000'000, 10'000'000'000, 1600, false});
  CHECK(fixed[1] == class_spec{0x10, 1, 1000, 100'000'000, 1600, false});
  CHECK(fixed[2] == class_spec{0x20, 1, 1000, 10'000'000'000, 1600, false});
  CHECK(fixed[3] == class_spec{0x1000, 0x10, 1000, 100'000'000, 8000, true});    // root, 5 shares
  CHECK(fixed[6] == class_spec{0x2fff, 0x20, 1000, 10'000'000'000, 1600, true}); // default
  auto [m, e] = slice_classes(7, {{"net_min_rate", 500},
                                  {"net_max_rate", 8000},
                                  {"net_share", 3},
                                  {"net_i2_max_rate", 20000},
                                  {"net_i2_share", 2}});
  CHECK(m == class_spec{0x1007, 0x10, 500'000, 8'000'000, 4800, true});
  CHECK(e == class_spec{0x2007, 0x20, 1000, 20'000'000, 3200, true}); // i2 min defaults to 1
  // Unlimited (resman off) clamps to bwmax; a ceil below the rate is raised;
  // rate 0 becomes bwmin.
  auto [m2, e2] = slice_classes(1, {{"net_min_rate", 0},
                                    {"net_max_rate", std::int64_t{1} << 60},
                                    {"net_i2_min_rate", 3000},
                                    {"net_i2_max_rate", 8}});
  CHECK(m2.rate_bps == 1000);
  CHECK(m2.ceil_bps == bwmax_kbps * 1000);
  CHECK(e2.rate_bps == 3'000'000);
  CHECK(e2.ceil_bps == 3'000'000);
  CHECK(m2.quantum == 1600); // net_share defaults to 1
}

TEST_CASE("tc's HTB class text parses into classes with counters") {
  using namespace pl::drivers::linux_net;
  CHECK(parse_rate("10Mbit") == 10'000'000);
  CHECK(parse_rate("1500Kbit") == 1'500'000);
  CHECK(parse_rate("96bit") == 96);
  CHECK(parse_rate("10Gbit") == 10'000'000'000);
  CHECK_FALSE(parse_rate("fast"));
  CHECK_FALSE(parse_rate("10Mibit"));
  auto cs = parse_classes(
      "class htb 1:1 root rate 10Gbit ceil 10Gbit linklayer ethernet burst 0b/1 mpu 0b "
      "cburst 0b/1 mpu 0b level 7 \n"
      " Sent 7 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) \n"
      "class htb 1:1001 parent 1:10 leaf 1001: prio 0 quantum 4800 rate 1Mbit ceil 10Mbit "
      "linklayer ethernet burst 1600b/1 mpu 0b cburst 1600b/1 mpu 0b level 0 \n"
      " Sent 3829000 bytes 2735 pkt (dropped 12, overlimits 0 requeues 0) \n"
      " backlog 0b 0p requeues 0\n"
      "class pfifo 1001:1 parent 1001: \n");
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].minor == 1);
  CHECK(cs[0].parent_minor == 0);
  CHECK(cs[0].bytes == 7);
  CHECK(cs[1].minor == 0x1001);
  CHECK(cs[1].parent_minor == 0x10);
  CHECK(cs[1].leaf_major == 0x1001);
  CHECK(cs[1].quantum == 4800);
  CHECK(cs[1].rate_bps == 1'000'000);
  CHECK(cs[1].ceil_bps == 10'000'000);
  CHECK(cs[1].bytes == 3829000);
  CHECK(cs[1].packets == 2735);
}

TEST_CASE("htb options are validated; a slice's veth and addresses follow its xid") {
  using namespace pl::drivers::linux_net;
  CHECK(parse_prefix4("10.88.0.0/24")->str() == "10.88.0.0/24");
  CHECK(parse_prefix4("10.88.0.7")->len == 32);
  CHECK_FALSE(parse_prefix4("10.88.0.1/24")); // host bits set
  CHECK_FALSE(parse_prefix4("10.88.0.0/33"));
  CHECK_FALSE(parse_prefix4("fd00::/8"));
  CHECK_FALSE(htb_tree::make({.device = ""}));
  CHECK_FALSE(htb_tree::make({.device = "eth0", .exempt = {"nope"}}));
  CHECK_FALSE(htb_tree::make({.device = "eth0", .subnet = "10.1.2.0/24"}));
  CHECK_FALSE(htb_tree::make({.device = "a-very-long-device-name"}));
  auto t = htb_tree::make({.device = "eth0", .netns = "node", .subnet = "10.213.0.0/16"});
  REQUIRE(t);
  auto v = t->veth(1);
  CHECK(v.host_ifname == "plv1");
  CHECK(v.netns == "node");
  CHECK(v.host_address == "10.213.0.5");
  CHECK(v.sliver_address == "10.213.0.6");
  CHECK(t->veth(0xffe).sliver_address == "10.213.63.250");
}

TEST_CASE_METHOD(sim_fixture, "bwlimit on the sim backend keeps the state the linux one does") {
  // The same sequence as drivers.net_linux's bwlimit case, same outputs.
  std::string out;
  REQUIRE(resman("bwlimit", {"init"}, &out) == 0);
  REQUIRE_FALSE(b.find(mechanism::net)->apply({"bw5", mechanism::net, {{"net_max_rate", 8000}}}));
  CHECK(resman("bwlimit", {"getlimit", "bw5"}, &out) == 0);
  CHECK(out == "8000\n");
  CHECK(resman("bwlimit", {"setlimit", "bw5", "2000"}) == 0);
  CHECK(resman("bwlimit", {"getlimit", "bw5"}, &out) == 0);
  CHECK(out == "2000\n");
  CHECK(resman("bwlimit", {"-r", "net_min_rate", "setlimit", "bw5", "700"}) == 0);
  CHECK(resman("bwlimit", {"-r", "net_min_rate", "getlimit", "bw5"}, &out) == 0);
  CHECK(out == "700\n");
  CHECK(resman("bwlimit", {"off", "bw5"}) == 0);
  CHECK(resman("bwlimit", {"getlimit", "bw5"}, &out) == 0);
  CHECK(out == std::to_string(unenforced_value(*find_resource("net_max_rate"))) + "\n");
  CHECK(resman("bwlimit", {"on", "bw5"}) == 0);
  CHECK(resman("bwlimit", {"default", "bw5"}) == 0);
  CHECK(resman("bwlimit", {"getlimit", "bw5"}, &out) == 0);
  CHECK(out == "8000\n");
  CHECK(resman("bwlimit", {"setlimit", "bw5", "fast"}) == 1);
  CHECK(resman("bwlimit", {"getlimit", "nosuch"}) == 1);
  auto got = b.find(mechanism::net)->read("bw5");
  REQUIRE(got);
  CHECK(value_or_default(*got, "net_max_rate") == 8000);
  CHECK(value_or_default(*got, "net_min_rate") == 1);
}
