// Real-time runs with the nodes as real node managers on CAF's scheduler
// (sim/node_host, sim/shard): the shard protocol's refusals, and the same
// small scenario run by plsim in one process and in two `plsim shard`
// processes on loopback, each against its own throwaway plcd --dev, ending in
// the same final state (issue #7 point 4).
#include "sim/shard.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "actors/clock.hpp"

#ifndef PL_PLSIM_PATH
#error "PL_PLSIM_PATH must name the plsim binary"
#endif

extern char** environ;

using namespace pl::sim;
namespace fs = std::filesystem;

namespace {

/// A scratch directory removed at the end, also when a check fails.
struct scratch {
  fs::path dir;
  scratch() {
    auto pattern = (fs::temp_directory_path() / "sim-shard-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

/// Runs plsim with `args`, its output in `log`; returns its exit status.
int plsim(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{PL_PLSIM_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> c;
  for (auto& a : argv)
    c.push_back(a.data());
  c.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, c[0], &fa, nullptr, c.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A loopback port nobody listens on: bound, read back, closed.
std::uint16_t closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  socklen_t len = sizeof(a);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Six nodes at two sites for a minute of wall time: slices from the start,
// one created, re-tagged, taken off a node, deleted and put on two more
// nodes, a crash with reboot and a partition that heals.
const std::string scenario = R"(
[scenario]
name = "shard-small"
seed = 7
duration = "40s"
quiet = "20s"
poll_interval = "5s"
latency_ms = 0

[testbed]
sites = 2
site_prefix = "rt"
nodes = 6
persons_per_site = 1

[[slices]]
name = "rt0000_base"
nodes = "all"
tags = { cpu_share = 8 }

[[slices]]
name = "rt0001_half"
nodes = "0-2"

[[timeline]]
at = "5s"
event = "create_slice"
slice = "rt0000_late"
nodes = "1-4"

[[timeline]]
at = "8s"
event = "crash"
nodes = [5]
duration = "10s"

[[timeline]]
at = "10s"
event = "partition"
nodes = [3]
duration = "10s"

[[timeline]]
at = "12s"
event = "set_tag"
slice = "rt0000_base"
tag = "cpu_share"
value = "16"

[[timeline]]
at = "15s"
event = "delete_slice_from_nodes"
slice = "rt0001_half"
nodes = [0]

[[timeline]]
at = "20s"
event = "delete_slice"
slice = "rt0000_late"

[[timeline]]
at = "22s"
event = "add_slice_to_nodes"
slice = "rt0001_half"
nodes = [4, 5]
)";

} // namespace

TEST_CASE("a shard refuses nodes it hosts already and commands for nodes it does not host",
          "[shard]") {
  scratch tmp;
  caf::actor_system_config cfg;
  configure_plsim_runtime(cfg, false, 2);
  caf::actor_system sys{cfg};
  pl::system_clock_source clock;
  {
    fleet f{sys};
    f.add_local(clock);
    shard_config c;
    // PLC is nowhere: the node managers' polls fail, which is all this needs.
    c.plc_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/PLCAPI/";
    c.poll_interval_ms = 60'000;
    std::vector<shard_node> nodes{{0, 10, "n0.test", "key0", 0.8, 0, 0},
                                  {1, 11, "n1.test", "key1", 0.8, 0, 0}};
    f.start(c, nodes);
    REQUIRE(f.shards().size() == 1);
    CHECK(f.shards()[0].nodes == 2);
    CHECK(f.shards()[0].pid == ::getpid());

    auto views = f.snapshot();
    REQUIRE(views.size() == 2);
    CHECK(views[0].up);
    CHECK(views[1].up);

    // A command naming a node nobody hosts changes nothing.
    auto errors = f.apply(shard_op::crash, {1, 7});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("node 7") != std::string::npos);
    views = f.snapshot();
    CHECK(views[1].up);

    // Starting a hosted node again is refused by the shard.
    CHECK_THROWS_WITH(f.start(c, nodes), Catch::Contains("hosted here already"));

    // A crash takes the node down; a reboot brings it back.
    CHECK(f.apply(shard_op::crash, {1}).empty());
    views = f.snapshot();
    CHECK(views[0].up);
    CHECK_FALSE(views[1].up);
    CHECK(f.apply(shard_op::reboot, {1}).empty());
    CHECK(f.snapshot()[1].up);
  }
}

TEST_CASE("a shard process takes commands through the middleman and exits when its coordinator "
          "goes away",
          "[shard]") {
  scratch tmp;
  // plsim shard on loopback, port 0; it says where it listens.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<std::string> argv{PL_PLSIM_PATH, "shard", "--listen",  "127.0.0.1",
                                "--port",      "0",     "--threads", "2"};
  std::vector<char*> c;
  for (auto& a : argv)
    c.push_back(a.data());
  c.push_back(nullptr);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, c[0], &fa, nullptr, c.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  std::string line;
  char ch = 0;
  while (::read(out[0], &ch, 1) == 1 && ch != '\n')
    line += ch;
  ::close(out[0]);
  INFO(line);
  auto colon = line.rfind(':');
  REQUIRE(line.rfind("plsim shard: listening on 127.0.0.1:", 0) == 0);
  auto port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));

  {
    caf::actor_system_config cfg;
    configure_plsim_runtime(cfg, true, 2);
    caf::actor_system sys{cfg};
    caf::scoped_actor self{sys};
    auto shard = sys.middleman().remote_actor<shard_actor>("127.0.0.1", port);
    REQUIRE(shard);
    shard_config sc;
    sc.plc_url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/PLCAPI/";
    std::vector<shard_node> nodes{{4, 14, "n4.test", "key4", 0.8, 0, 0}};
    self->request(*shard, std::chrono::seconds(60), pl::start_atom_v, sc, nodes)
        .receive([&](shard_info& info) { CHECK(info.pid == pid); },
                 [&](caf::error& err) { FAIL(sys.render(err)); });
    shard_command bad{shard_op::crash, {4, 5}};
    self->request(*shard, std::chrono::seconds(60), pl::apply_atom_v, bad)
        .receive([](caf::ok_atom) { FAIL("a command for node 5 was taken"); },
                 [&](caf::error& err) { CHECK_THAT(sys.render(err), Catch::Contains("node 5")); });
    self->request(*shard, std::chrono::seconds(60), pl::status_atom_v)
        .receive(
            [](std::vector<node_view>& views) {
              REQUIRE(views.size() == 1);
              CHECK(views[0].index == 4);
              CHECK(views[0].up);
            },
            [&](caf::error& err) { FAIL(sys.render(err)); });
    // This coordinator ends here without `stop`.
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("plsim refuses sharding outside real time", "[shard]") {
  scratch tmp;
  auto file = tmp.dir / "small.toml";
  std::ofstream{file} << scenario;
  auto log = tmp.dir / "out.log";
  CHECK(plsim({"run", file.string(), "--shards", "2", "--out", (tmp.dir / "x").string()}, log) ==
        2);
  CHECK_THAT(slurp(log), Catch::Contains("need --time real"));
  CHECK(plsim({"run", file.string(), "--time", "real", "--shard", "127.0.0.1:99999", "--out",
               (tmp.dir / "x").string()},
              log) == 2);
  CHECK_THAT(slurp(log), Catch::Contains("must be 1..65535"));
}

TEST_CASE("two shard processes on loopback end in the same state as one process", "[shard][slow]") {
  scratch tmp;
  auto file = tmp.dir / "small.toml";
  std::ofstream{file} << scenario;

  auto one = tmp.dir / "one";
  auto two = tmp.dir / "two";
  int rc1 = plsim({"run", file.string(), "--time", "real", "-q", "--out", one.string()},
                  tmp.dir / "one.log");
  INFO(slurp(tmp.dir / "one.log"));
  REQUIRE(rc1 == 0);
  int rc2 =
      plsim({"run", file.string(), "--time", "real", "--shards", "2", "-q", "--out", two.string()},
            tmp.dir / "two.log");
  INFO(slurp(tmp.dir / "two.log"));
  REQUIRE(rc2 == 0);

  auto a = nlohmann::json::parse(slurp(one / "run.json"));
  auto b = nlohmann::json::parse(slurp(two / "run.json"));
  CHECK(a["passed"] == true);
  CHECK(b["passed"] == true);
  CHECK(a["time_mode"] == "real");

  // Where the nodes ran: this process, then two other processes with three
  // nodes each.
  REQUIRE(a["shards"].size() == 1);
  CHECK_THAT(a["shards"][0].get<std::string>(), Catch::Contains("in-process"));
  REQUIRE(b["shards"].size() == 2);
  auto s0 = b["shards"][0].get<std::string>();
  auto s1 = b["shards"][1].get<std::string>();
  CHECK_THAT(s0, Catch::StartsWith("nodes 0-2: pid "));
  CHECK_THAT(s1, Catch::StartsWith("nodes 3-5: pid "));
  CHECK_THAT(s0, Catch::Contains("127.0.0.1:"));
  auto pid = [](const std::string& s) {
    auto from = s.find("pid ") + 4;
    return s.substr(from, s.find(" on ") - from);
  };
  CHECK(pid(s0) != pid(s1));

  // The same final state, and the one the scenario leads to.
  using state = std::map<std::string, std::set<std::string>>;
  auto read = [](const nlohmann::json& j) {
    state out;
    for (const auto& [host, slices] : j["final_state"].items()) {
      for (const auto& s : slices)
        out[host].insert(s.get<std::string>());
      CHECK(out[host].size() == slices.size()); // each slice listed once
    }
    return out;
  };
  state expected{
      {"node0.rt0000.sim", {"rt0000_base"}},
      {"node1.rt0001.sim", {"rt0000_base", "rt0001_half"}},
      {"node2.rt0000.sim", {"rt0000_base", "rt0001_half"}},
      {"node3.rt0001.sim", {"rt0000_base"}},
      {"node4.rt0000.sim", {"rt0000_base", "rt0001_half"}},
      {"node5.rt0001.sim", {"rt0000_base", "rt0001_half"}},
  };
  CHECK(read(a) == expected);
  CHECK(read(b) == expected);

  // Changes reached the nodes (how many depends on timing: a change
  // superseded before a node applied it is not counted).
  CHECK(a["convergence"]["count"].get<int>() > 0);
  CHECK(b["convergence"]["count"].get<int>() > 0);

  // The shard processes are gone.
  for (const auto& s : {s0, s1}) {
    auto p = std::stoi(pid(s));
    CHECK(::kill(p, 0) != 0);
  }
}
