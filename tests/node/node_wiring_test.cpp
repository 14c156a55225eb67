// The node manager's wires to the rest of nodemgr, on CAF's test coordinator
// with the sim backend: local API sockets follow the slivers (and exist
// before a sliver starts), PLC's revocations reach the ticket desk, conf
// files of a GetSlivers snapshot are installed into a scratch root (a
// failing one reported without stopping the slivers), the daily byte cap
// lowers and restores the net driver's ceiling on the virtual clock, and
// /metrics carries the expected series after a reconciliation.
#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include "actors/caf_clock.hpp"
#include "actors/errors.hpp"
#include "actors/runtime_config.hpp"
#include "actors/ticket.hpp"
#include "drivers/backend.hpp"
#include "node/api_server.hpp"
#include "node/conf_file_installer.hpp"
#include "node/metrics.hpp"
#include "node/node_manager.hpp"
#include "node/plc_sync.hpp"
#include "node/ticket_desk.hpp"
#include "node/wiring.hpp"
#include "tests/node/api_test_support.hpp"
#include "tests/node/coordinator_node.hpp"

using namespace std::chrono_literals;
using namespace pl;
using namespace pl::node;

namespace {

constexpr std::int64_t epoch = 1'700'000'000;
constexpr std::int32_t node_id = 7;

const test::deliveries make{node_id, epoch};

bool unix_socket_at(const std::filesystem::path& p) {
  struct stat sb {};
  return ::lstat(p.c_str(), &sb) == 0 && S_ISSOCK(sb.st_mode);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// One node (sim backend, its actors, a node manager) on a test coordinator.
struct world : test::coordinator_node {
  world()
      : coordinator_node(node_id, epoch) {}
};

} // namespace

TEST_CASE("local API sockets appear before their sliver starts and go with it") {
  world w;
  api_server_config scfg;
  scfg.tcp_port.reset();
  scfg.run_dir = w.dir.dir / "api";
  api_server server{scfg, [](std::string_view, const api_caller&) { return std::string{}; }};
  server.start();
  // What the hook saw: for each sliver named, whether it already ran.
  std::vector<std::vector<std::string>> calls;
  std::map<std::string, bool> running_when_named;
  auto c = w.config();
  c.hooks.slivers = [&](const std::vector<std::string>& names) {
    calls.push_back(names);
    for (const auto& n : names)
      if (!running_when_named.count(n))
        running_when_named[n] = w.backend.containers->running(n);
    server.sync_slivers(names);
  };
  w.start(c);
  auto sock = [&](const std::string& n) { return scfg.run_dir / n / "nm.sock"; };

  // Two slivers from PLC; a delegated slice stays without a socket until a
  // Create instantiates it.
  REQUIRE(w.push(make.snapshot(
      {make.sliver("pl_a"), make.sliver("pl_b"), make.sliver("pl_d", {}, "delegated")}, epoch)));
  CHECK(w.backend.containers->running("pl_a"));
  CHECK(unix_socket_at(sock("pl_a")));
  CHECK(unix_socket_at(sock("pl_b")));
  CHECK_FALSE(std::filesystem::exists(sock("pl_d")));
  CHECK(running_when_named == std::map<std::string, bool>{{"pl_a", false}, {"pl_b", false}});
  CHECK(server.slivers() == std::vector<std::string>{"pl_a", "pl_b"});
  // A connection on pl_a's socket names pl_a (the server answers).
  CHECK(test::http_client{sock("pl_a")}.send(test::bhttp::verb::get, "/", "").has_value());

  REQUIRE(w.call<caf::ok_atom>(*w.nm, create_atom_v, std::string{"root"}, std::string{"pl_d"}));
  CHECK(unix_socket_at(sock("pl_d")));
  CHECK(running_when_named["pl_d"] == false);
  CHECK(w.backend.containers->running("pl_d"));

  // pl_b leaves PLC's snapshot: its socket and directory go.
  REQUIRE(w.push(
      make.snapshot({make.sliver("pl_a"), make.sliver("pl_d", {}, "delegated")}, epoch + 10)));
  CHECK_FALSE(w.backend.containers->running("pl_b"));
  CHECK_FALSE(std::filesystem::exists(scfg.run_dir / "pl_b"));
  CHECK(unix_socket_at(sock("pl_a")));
  // A revocation removes pl_a, and its socket with it.
  REQUIRE(
      w.call<caf::ok_atom>(*w.nm, revoke_atom_v, std::string{"pl_a"}, std::int64_t{epoch + 20}));
  CHECK_FALSE(std::filesystem::exists(sock("pl_a")));
  CHECK(server.slivers() == std::vector<std::string>{"pl_d"});
  // The hook is called when the set changes, not on every reconciliation.
  auto n = calls.size();
  w.advance(61s); // the maintenance timer reconciles once more
  CHECK(calls.size() == n);
  server.stop();
}

TEST_CASE("PLC's revocation reaches the ticket desk") {
  world w;
  manual_clock plc_clock{clock::time_point{std::chrono::seconds{epoch - 100}}};
  auto plc_key = *signing_key::generate();
  ticket_desk_config dcfg;
  dcfg.node_id = node_id;
  dcfg.keys.add(plc_key.public_key());
  auto desk = ticket_desk::open(dcfg, *w.clock);
  REQUIRE(desk);
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> seen;
  auto c = w.config();
  c.ticket_lifetime = std::chrono::hours(2);
  c.hooks.revoked = [&](const std::string& name, std::int64_t at, std::int64_t latest) {
    seen.emplace_back(name, at, latest);
    REQUIRE_FALSE((*desk)->revoke_slice(name, at, latest));
  };
  w.start(c);
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a")}, epoch)));

  sliver_ticket body;
  body.slice_name = "pl_a";
  body.slice_id = 12;
  body.instantiation = "delegated";
  body.node_ids = {node_id};
  body.expires = epoch + 3600;
  auto t = issue_ticket(body, plc_key, plc_clock);
  REQUIRE(t);
  REQUIRE((*desk)->check(t->text()).valid());

  REQUIRE(w.call<caf::ok_atom>(*w.nm, revoke_atom_v, std::string{"pl_a"}, std::int64_t{epoch + 5}));
  // The slice's own expiry bounds its tickets.
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] ==
        std::tuple<std::string, std::int64_t, std::int64_t>{"pl_a", epoch + 5, epoch + 30 * 86400});
  CHECK((*desk)->check(t->text()).verdict == ticket_verdict::revoked);
  // A slice the node never held: PLC's longest ticket lifetime bounds them.
  REQUIRE(w.call<caf::ok_atom>(*w.nm, revoke_atom_v, std::string{"pl_z"}, std::int64_t{epoch + 6}));
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] ==
        std::tuple<std::string, std::int64_t, std::int64_t>{"pl_z", epoch + 6, epoch + 6 + 7200});
}

TEST_CASE("conf files of a GetSlivers snapshot are installed; a failure is reported") {
  world w;
  test::scratch root;
  std::map<std::string, std::string> served{
      {"https://boot.example.org/PlanetLabConf/motd?node_id=7", "welcome\n"},
      {"https://boot.example.org/PlanetLabConf/hosts?node_id=7", "127.0.0.1 localhost\n"}};
  std::vector<std::string> commands;
  conf_file_hooks hooks;
  hooks.fetch = [&](const std::string& url) -> caf::expected<std::string> {
    if (auto i = served.find(url); i != served.end())
      return i->second;
    return make_error(errc::not_connected, url + ": HTTP 404 Not Found");
  };
  hooks.run = [&](const std::string& cmd) {
    commands.push_back(cmd);
    return 0;
  };
  hooks.user = [](const std::string&) -> std::optional<uid_t> { return ::getuid(); };
  hooks.group = [](const std::string&) -> std::optional<gid_t> { return ::getgid(); };
  auto installer = std::make_shared<conf_file_installer>(
      conf_file_options{"boot.example.org", node_id, root.dir}, hooks);

  desired_state plc;
  plc.source = origin::get_slivers;
  plc.full = true;
  plc.node_id = node_id;
  plc.timestamp = epoch;
  plc.slivers = {make.sliver("pl_a")};
  auto file = [](std::string source, std::string dest, std::string post = {}) {
    conf_file f;
    f.source = std::move(source);
    f.dest = std::move(dest);
    f.file_owner = "root";
    f.file_group = "root";
    f.file_permissions = "644";
    f.postinstall_cmd = std::move(post);
    return f;
  };
  plc.conf_files = {file("PlanetLabConf/motd", "/etc/motd", "touch /etc/motd.done"),
                    file("PlanetLabConf/hosts", "/etc/hosts"),
                    file("PlanetLabConf/missing", "/etc/missing")};
  int fetches = 0;
  auto c = w.config();
  c.poll.fetch = [&]() -> caf::expected<desired_state> {
    ++fetches;
    return plc;
  };
  auto metrics = std::make_shared<node_metrics>();
  c.metrics = metrics;
  c.conf_files.install = [installer](const std::vector<conf_file>& files) {
    return installer->install_all(files);
  };
  w.start(c);
  REQUIRE(fetches == 1);
  CHECK(read_file(root.dir / "etc" / "motd") == "welcome\n");
  CHECK(read_file(root.dir / "etc" / "hosts") == "127.0.0.1 localhost\n");
  CHECK((std::filesystem::status(root.dir / "etc" / "motd").permissions() &
         std::filesystem::perms::all) == static_cast<std::filesystem::perms>(0644));
  CHECK(commands == std::vector<std::string>{"touch /etc/motd.done"});
  CHECK_FALSE(std::filesystem::exists(root.dir / "etc" / "missing"));
  // The failure is in node_status; the sliver was reconciled regardless.
  auto st = w.status();
  CHECK(st.counters["conf_files_installed"] == 2);
  CHECK(st.counters["conf_file_failures"] == 1);
  CHECK(st.counters["conf_files_failing"] == 1);
  CHECK(st.counters.count("conf_file_failed//etc/missing") == 1);
  auto text = metrics->render();
  CHECK(text.find("nodemgr_conf_file_failures_total 1\n") != std::string::npos);
  CHECK(text.find("nodemgr_conf_files_failing 1\n") != std::string::npos);
  REQUIRE(st.slivers.size() == 1);
  CHECK(st.slivers[0].phase == sliver_phase::running);

  // The next poll: unchanged files are skipped, the missing one appears.
  served["https://boot.example.org/PlanetLabConf/missing?node_id=7"] = "here now\n";
  plc.timestamp = epoch + 600;
  w.advance(600s);
  REQUIRE(fetches == 2);
  CHECK(read_file(root.dir / "etc" / "missing") == "here now\n");
  CHECK(commands.size() == 1); // motd unchanged: its postinstall did not run again
  st = w.status();
  CHECK(st.counters["conf_files_installed"] == 3);
  CHECK(st.counters["conf_files_failing"] == 0);
  CHECK(st.counters.count("conf_file_failed//etc/missing") == 0);
}

TEST_CASE("conf files are left alone without an installer") {
  world w;
  desired_state plc;
  plc.full = true;
  plc.node_id = node_id;
  plc.timestamp = epoch;
  conf_file f;
  f.source = "PlanetLabConf/motd";
  f.dest = "/etc/motd";
  plc.conf_files = {f};
  auto c = w.config();
  c.poll.fetch = [&]() -> caf::expected<desired_state> { return plc; };
  w.start(c);
  auto st = w.status();
  CHECK(st.counters.count("conf_files_installed") == 0);
  CHECK(st.counters.count("conf_files_failing") == 0);
  CHECK(st.counters["polls"] == 1);
}

TEST_CASE("the daily byte cap lowers the net ceiling, survives updates, resets next day") {
  world w;
  std::map<std::string, tx_counters> counters;
  int reads = 0;
  auto c = w.config();
  c.byte_caps.read = [&](const std::vector<std::string>& names)
      -> caf::expected<std::map<std::string, tx_counters>> {
    ++reads;
    std::map<std::string, tx_counters> out;
    for (const auto& n : names)
      if (auto i = counters.find(n); i != counters.end())
        out[n] = i->second;
    return out;
  };
  c.byte_caps.period = 60s;
  c.byte_caps.state_file = w.dir.dir / "nm" / "bytecaps";
  auto metrics = std::make_shared<node_metrics>();
  c.metrics = metrics;
  REQUIRE(w.actors.net);
  w.start(c);
  // 10 Mbit/s, throttled after 1000 KiB a day, at most 1000000 KiB a day.
  auto caps = std::map<std::string, std::int64_t>{{"net_max_rate", 10000},
                                                  {"net_thresh_kbyte", 1000},
                                                  {"net_max_kbyte", 1000000},
                                                  {"net_min_rate", 0}};
  REQUIRE(w.push(make.snapshot(
      {make.sliver("pl_a", caps), make.sliver("pl_b", {{"net_max_rate", 5000}})}, epoch, false)));
  counters["pl_a"] = {0, 0};
  counters["pl_b"] = {0, 0};
  w.advance(60s); // the first reading is the base
  CHECK(reads >= 2);
  CHECK(w.knob(mechanism::net, "pl_a", "net_max_rate") == 10000);
  CHECK(w.status().counters["byte_capped_slices"] == 0);

  // pl_a sends 1500 KiB: past the threshold, 998500 KiB left over the rest
  // of the day (about 95 kbps).
  counters["pl_a"].bytes = 1500 * 1024;
  counters["pl_b"].bytes = 100 * 1024;
  w.advance(60s);
  auto remaining = 86400 - 60;
  auto expected = capped_rate(1500 * 1024, 1000, 1000000, remaining, 0, 10000);
  REQUIRE(expected > 0);
  REQUIRE(expected < 10000);
  CHECK(w.knob(mechanism::net, "pl_a", "net_max_rate") == expected);
  CHECK(w.knob(mechanism::net, "pl_b", "net_max_rate") == 5000);
  auto st = w.status();
  CHECK(st.counters["byte_capped_slices"] == 1);
  CHECK(st.counters["byte_cap_kbps/pl_a"] == expected);
  CHECK(st.counters["byte_cap_sent/pl_a"] == 1500 * 1024);
  auto text = metrics->render();
  CHECK(text.find("nodemgr_byte_cap_throttled_slices 1\n") != std::string::npos);
  CHECK(text.find("nodemgr_byte_cap_sent_bytes{slice=\"pl_a\",class=\"main\"} 1536000\n") !=
        std::string::npos);
  // Persisted.
  auto saved = read_file(w.dir.dir / "nm" / "bytecaps");
  CHECK(saved.rfind("plnm-bytecaps 1\n", 0) == 0);
  CHECK(saved.find("pl_a ") != std::string::npos);

  // A new rspec from PLC (cpu) goes to every controller and keeps the cap.
  caps["cpu_share"] = 64;
  REQUIRE(w.push(make.snapshot({make.sliver("pl_a", caps)}, epoch + 200, false)));
  CHECK(w.knob(mechanism::cpu, "pl_a", "cpu_share") == 64);
  CHECK(w.knob(mechanism::net, "pl_a", "net_max_rate") == expected);

  // The next day the ceiling returns.
  w.advance(24h);
  CHECK(w.knob(mechanism::net, "pl_a", "net_max_rate") == 10000);
  CHECK(w.status().counters["byte_capped_slices"] == 0);
  CHECK(metrics->render().find("nodemgr_byte_cap_throttled_slices 0\n") != std::string::npos);
}

TEST_CASE("byte cap accounting survives a restart; a damaged file is refused") {
  auto file = std::filesystem::path{};
  {
    world w;
    file = w.dir.dir / "bytecaps";
    std::map<std::string, tx_counters> counters{{"pl_a", {0, 0}}};
    auto c = w.config();
    c.byte_caps.read =
        [&](const std::vector<std::string>&) -> caf::expected<std::map<std::string, tx_counters>> {
      return counters;
    };
    c.byte_caps.period = 60s;
    c.byte_caps.state_file = file;
    auto caps = std::map<std::string, std::int64_t>{{"net_max_rate", 10000},
                                                    {"net_thresh_kbyte", 1000},
                                                    {"net_max_kbyte", 1000000},
                                                    {"net_min_rate", 0}};
    w.start(c);
    REQUIRE(w.push(make.snapshot({make.sliver("pl_a", caps)}, epoch, false)));
    w.advance(60s);
    counters["pl_a"].bytes = 1500 * 1024;
    w.advance(60s);
    REQUIRE(w.status().counters["byte_capped_slices"] == 1);

    // Another node manager on the same files: still capped at once (its
    // counter restarted, so nothing new is counted).
    caf::anon_send_exit(*w.nm, caf::exit_reason::kill);
    w.sched->run();
    w.nm.reset();
    counters["pl_a"].bytes = 0;
    w.start(c);
    auto st = w.status();
    CHECK(st.counters["byte_capped_slices"] == 1);
    CHECK(st.counters["byte_cap_sent/pl_a"] == 1500 * 1024);
    CHECK(w.knob(mechanism::net, "pl_a", "net_max_rate") < 10000);

    // A damaged file stops the start, naming the line.
    caf::anon_send_exit(*w.nm, caf::exit_reason::kill);
    w.sched->run();
    w.nm.reset();
    std::ofstream{file, std::ios::app} << "pl_b one two\n";
    auto bad = spawn_node_manager(*w.sys, c);
    REQUIRE_FALSE(bad);
    CHECK(drivers::describe(bad.error()).find("bytecaps:3") != std::string::npos);
  }
}

TEST_CASE("/metrics carries the node's series after a reconciliation") {
  world w;
  auto metrics = std::make_shared<node_metrics>();
  auto c = w.config();
  c.metrics = metrics;
  int fetches = 0;
  c.poll.fetch = [&]() -> caf::expected<desired_state> {
    ++fetches;
    return make_error(errc::not_connected, "PLC unreachable");
  };
  w.start(c);
  REQUIRE(fetches == 1);
  REQUIRE(w.push(make.snapshot(
      {make.sliver("pl_a", {{"cpu_pct", 50}}), make.sliver("pl_b", {{"cpu_share", 64}})}, epoch,
      false)));
  // Refused by admission: 50 + 40 > 80.
  REQUIRE(w.push(make.snapshot({make.sliver("pl_c", {{"cpu_pct", 40}})}, epoch + 1, false)));
  REQUIRE(w.call<caf::ok_atom>(*w.nm, loans_atom_v, std::string{"root"}, std::string{"pl_b"},
                               std::vector<loan>{{"pl_b", "pl_a", "cpu_share", 8}}));

  auto server = metrics_server::start(metrics);
  REQUIRE(server);
  REQUIRE((*server)->port() != 0);
  auto res = test::http_client{(*server)->port()}.send(test::bhttp::verb::get, "/metrics", "");
  REQUIRE(res);
  CHECK(res->result_int() == 200);
  CHECK(std::string{(*res)[test::bhttp::field::content_type]}.find("text/plain; version=0.0.4") ==
        0);
  const auto& text = res->body();
  INFO(text);
  for (const char* line :
       {"nodemgr_slivers{state=\"running\"} 2\n", "nodemgr_slivers{state=\"failed\"} 0\n",
        "nodemgr_sync_failures_total{link=\"poll\"} 1\n",
        "nodemgr_sync_failures_total{link=\"push\"} 0\n", "nodemgr_loans 1\n",
        "nodemgr_admission_refusals_total 1\n", "nodemgr_byte_cap_throttled_slices 0\n",
        "# TYPE nodemgr_reconcile_duration_seconds histogram\n",
        "nodemgr_reconcile_duration_seconds_bucket{le=\"+Inf\"} ",
        "nodemgr_info{node_id=\"7\",hostname=\"node7.example.org\""})
    CHECK(text.find(line) != std::string::npos);
  // Every reconciliation so far was counted, and the histogram agrees.
  auto runs = w.status().counters["reconcile_runs"];
  CHECK(runs >= 3);
  CHECK(text.find("nodemgr_reconcile_runs_total " + std::to_string(runs) + "\n") !=
        std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_count " + std::to_string(runs) + "\n") !=
        std::string::npos);
  // Other paths and methods.
  auto other = test::http_client{(*server)->port()}.send(test::bhttp::verb::get, "/", "");
  REQUIRE(other);
  CHECK(other->result_int() == 404);
  auto post = test::http_client{(*server)->port()}.send(test::bhttp::verb::post, "/metrics", "x");
  REQUIRE(post);
  CHECK(post->result_int() == 405);
  // http_get (what nodemgr fetches conf files with) over plain HTTP: the
  // body of a 200, the status of anything else, a refused connection.
  auto url = "http://127.0.0.1:" + std::to_string((*server)->port());
  auto body = http_get(url + "/metrics");
  REQUIRE(body);
  CHECK(body->find("nodemgr_slivers{state=\"running\"} 2\n") != std::string::npos);
  auto missing = http_get(url + "/PlanetLabConf/motd?node_id=7");
  REQUIRE_FALSE(missing);
  CHECK(drivers::describe(missing.error()).find("HTTP 404") != std::string::npos);
  CHECK_FALSE(http_get("ftp://127.0.0.1/x"));
  (*server)->stop();
  auto refused = http_get(url + "/metrics");
  REQUIRE_FALSE(refused);
  CHECK(drivers::describe(refused.error()).find("connect") != std::string::npos);
  // A taken port is refused with the reason.
  auto again = metrics_server::start(metrics);
  REQUIRE(again);
  auto clash = metrics_server::start(metrics, "127.0.0.1", (*again)->port());
  REQUIRE_FALSE(clash);
  CHECK(clash.error().find("cannot listen") != std::string::npos);
}

TEST_CASE("node_metrics renders the Prometheus text format") {
  node_metrics m;
  node_status s;
  s.node_id = 3;
  s.hostname = "a\"b";
  s.slivers = {{"x", sliver_phase::running}, {"y", sliver_phase::failed}};
  s.counters = {{"poll_failures", 2},
                {"push_connect_failures", 1},
                {"push_disconnects", 1},
                {"tickets", 4},
                {"byte_cap_kbps/x", 9}};
  m.status(s);
  m.observe_reconcile(0.002);
  m.observe_reconcile(2);
  m.observe_reconcile(1000);
  auto text = m.render();
  INFO(text);
  CHECK(text.find("hostname=\"a\\\"b\"") != std::string::npos);
  CHECK(text.find("nodemgr_slivers{state=\"running\"} 1\n") != std::string::npos);
  CHECK(text.find("nodemgr_slivers{state=\"failed\"} 1\n") != std::string::npos);
  CHECK(text.find("nodemgr_sync_failures_total{link=\"push\"} 2\n") != std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_bucket{le=\"0.001\"} 0\n") !=
        std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_bucket{le=\"0.005\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_bucket{le=\"5\"} 2\n") != std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_bucket{le=\"300\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_bucket{le=\"+Inf\"} 3\n") !=
        std::string::npos);
  CHECK(text.find("nodemgr_reconcile_duration_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("nodemgr_events_total{event=\"tickets\"} 4\n") != std::string::npos);
  CHECK(text.find("event=\"poll_failures\"") == std::string::npos); // has its own series
  // Per-slice details stay in node_status.
  CHECK(text.find("byte_cap_kbps") == std::string::npos);
}
