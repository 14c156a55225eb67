// Whole runs in virtual time against the embedded PLC (a fresh PostgreSQL
// cluster per run): reproducibility, fault injection, a broken node, reports.
#include "sim/engine.hpp"
#include "sim/report.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace pl::sim;

namespace {

const std::string base = R"(
[scenario]
name = "small"
seed = 11
duration = "3h"
quiet = "1h"
poll_interval = "5m"

[testbed]
sites = 3
site_prefix = "t"
nodes = 12
persons_per_site = 1
cpu_reservable = 0.5

[groups]
left = "0-5"

[[slices]]
name = "t0000_web"
nodes = "all"
tags = { cpu_share = 64 }

[[slices]]
name = "t0001_big"
nodes = "0-5"
tags = { cpu_pct = 30 }

[slice_set]
count = 3
nodes_per_slice = 4
prefix = "x"

[[timeline]]
at = "20m"
event = "create_slice"
slice = "t0002_late"
nodes = "group:left"

[[timeline]]
at = "40m"
event = "set_tag"
slice = "t0000_web"
tag = "cpu_share"
value = 16

[[timeline]]
at = "50m"
event = "create_slice"
slice = "t0002_greedy"
nodes = "0-3"
tags = { cpu_pct = 30 }
)";

struct outcome {
  run_report report;
  std::string log;
};

outcome run_text(const std::string& text) {
  auto sc = parse_scenario(text, "small.toml");
  pl::manual_clock clock{pl::clock::time_point{std::chrono::seconds{virtual_epoch}}};
  auto plc = make_embedded_plc(clock);
  std::ostringstream log;
  run_options opt;
  opt.plc_clock = &clock;
  opt.event_log = &log;
  auto r = run_scenario(sc, *plc, opt);
  return {std::move(r), log.str()};
}

/// `text` with PLC's push gateway on (after the poll interval line of `base`).
std::string with_push(const std::string& text) {
  auto out = std::regex_replace(text, std::regex{"poll_interval = \"5m\""},
                                "poll_interval = \"5m\"\npush = true");
  REQUIRE(out != text);
  return out;
}

/// The convergence latencies (seconds) of the changes whose description contains `change`.
std::vector<double> latencies(const run_report& report, const std::string& change) {
  std::vector<double> out;
  for (const auto& c : report.convergence)
    if (c.change.find(change) != std::string::npos)
      out.push_back(c.latency);
  return out;
}

} // namespace

TEST_CASE("the same seed on a fresh database gives the same event log") {
  auto faults = base + R"(
[[timeline]]
at = "1h"
event = "crash"
nodes = 2
duration = "20m"

[[churn]]
kind = "tag"
per_hour = 4
tag = "cpu_share"
values = [8, 16, 32]
)";
  auto a = run_text(faults);
  auto b = run_text(faults);
  INFO(a.log.substr(0, 2000));
  CHECK(a.report.passed());
  CHECK(a.log.size() > 1000);
  CHECK(a.log == b.log);
  CHECK(a.report.convergence.size() == b.report.convergence.size());
  // cpu_pct 30 twice does not fit 50%: nodes 0-3 hold one of the two, and say so.
  CHECK_FALSE(a.report.refusals.empty());
  // Another seed draws other nodes and other churn.
  auto c = run_text(std::regex_replace(faults, std::regex{"seed = 11"}, "seed = 12"));
  CHECK(c.log != a.log);
}

TEST_CASE("after crashes, an hour of PLC outage and a partition the testbed converges") {
  auto r = run_text(base + R"(
[[timeline]]
at = "1h"
event = "crash"
nodes = "10%"
duration = "30m"

[[timeline]]
at = "1h10m"
event = "plc_outage"
duration = "1h"

[[timeline]]
at = "1h20m"
event = "delete_slice"
slice = "t0002_late"

[[timeline]]
at = "2h20m"
event = "partition"
nodes = "group:left"
duration = "30m"

[[timeline]]
at = "2h30m"
event = "delete_slice_from_nodes"
slice = "t0000_web"
nodes = "0-2"
)");
  INFO(r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
  CHECK(r.report.passed());
  CHECK(r.report.faults.size() >= 3);
  // The deletion was made after the outage (users retry), then reached every node.
  CHECK(r.log.find("deferred until PLC is back: timeline[5]") != std::string::npos);
  CHECK(r.log.find("poll failed: PLC down") != std::string::npos);
  CHECK(r.log.find("poll failed: partitioned from PLC") != std::string::npos);
  CHECK_FALSE(latencies(r.report, "timeline[5]").empty());
  // The removal from nodes 0-2 at 2h30m waited for the partition to heal at 2h50m.
  double max_latency = 0;
  for (const auto& c : r.report.convergence)
    max_latency = std::max(max_latency, c.latency);
  CHECK(max_latency >= 1200);
}

TEST_CASE("a node that ignores deletions fails the run, naming the node and the event") {
  auto r = run_text(base + R"(
[[timeline]]
at = "1h"
event = "break_node"
nodes = [4]

[[timeline]]
at = "1h30m"
event = "delete_slice"
slice = "t0002_late"
)");
  REQUIRE_FALSE(r.report.passed());
  bool named = false;
  for (const auto& v : r.report.violations) {
    CHECK(v.node == 4);
    if (v.invariant == "slices where PLC says" &&
        v.what.find("node4.t0001.sim (node 4) still holds t0002_late") != std::string::npos &&
        v.cause.find("timeline[4] (small.toml:") != std::string::npos &&
        v.cause.find("delete_slice t0002_late at 1h30m") != std::string::npos)
      named = true;
  }
  CHECK(named);
}

TEST_CASE("the report is one self-contained HTML file with inline SVG") {
  auto r = run_text(base);
  auto html = html_report(r.report);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("<polyline") != std::string::npos);
  CHECK(html.find("PASSED") != std::string::npos);
  std::regex external{R"((src|href)\s*=)", std::regex::icase};
  CHECK_FALSE(std::regex_search(html, external));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  auto j = to_json(r.report);
  CHECK(j["passed"] == true);
  CHECK(j["nodes"] == 12);
  CHECK(j["convergence"]["count"].get<std::size_t>() == r.report.convergence.size());
  CHECK(j["series"]["nodes_up"].size() == 4 * 60 + 1);
  // Memory per virtual node: the resident set's growth from before the nodes
  // were made to the end, over the nodes.
  const auto& m = j["memory"];
  CHECK(m["rss_before_nodes_kib"].get<std::int64_t>() > 0);
  CHECK(m["peak_rss_kib"].get<std::int64_t>() >= m["rss_end_kib"].get<std::int64_t>());
  CHECK(m["rss_per_node_bytes"].get<double>() ==
        Approx((m["rss_end_kib"].get<double>() - m["rss_before_nodes_kib"].get<double>()) * 1024.0 /
               12));
  CHECK(html.find("KiB per virtual node") != std::string::npos);
}

TEST_CASE("a broker redeems a delegated slice's ticket at the nodes where it has a sliver") {
  auto r = run_text(base + R"(
[[slices]]
name = "t0001_deleg"
instantiation = "delegated"

[[timeline]]
at = "1h"
event = "redeem_ticket"
slice = "t0001_deleg"
nodes = "4-7"
broker = "t0001_big"

[[timeline]]
at = "1h10m"
event = "crash"
nodes = [5]
duration = "10m"
)");
  INFO(r.log.substr(r.log.size() > 4000 ? r.log.size() - 4000 : 0));
  // Every invariant holds: the final check expects the delegated slice on
  // exactly the nodes that redeemed it (and the crashed one got it back
  // from its records).
  CHECK(r.report.passed());
  // The broker's slice t0001_big is on nodes 0-5: nodes 4 and 5 take the
  // ticket, 6 and 7 have no broker sliver to present it.
  CHECK(r.log.find("node 4 redeemed a ticket for t0001_deleg: ") != std::string::npos);
  CHECK(r.log.find("node 5 redeemed a ticket for t0001_deleg: ") != std::string::npos);
  CHECK(r.log.find("node 6: ticket for t0001_deleg not presented: broker t0001_big has no sliver "
                   "there") != std::string::npos);
  CHECK(r.log.find("ticket for t0001_deleg redeemed on 2 of 4 nodes by broker t0001_big") !=
        std::string::npos);
  auto redeemed = latencies(r.report, "redeem_ticket t0001_deleg");
  CHECK(redeemed.size() == 2);
  for (auto l : redeemed)
    CHECK(l == 0); // the node manager acts on a ticket at once
}

TEST_CASE("a sliver lends resources through its node manager; an overdraw is refused") {
  auto r = run_text(base + R"(
[[timeline]]
at = "1h"
event = "set_loans"
slice = "t0001_big"
nodes = [0]
loans = [["t0000_web", "cpu_pct", 10]]

[[timeline]]
at = "1h"
event = "set_loans"
slice = "t0001_big"
nodes = [1]
loans = [["t0000_web", "cpu_pct", 40]]

[[timeline]]
at = "1h"
event = "set_loans"
slice = "t0000_web"
nodes = [2]
loans = [["t0001_big", "mem_limit", 1]]
)");
  INFO(r.log.substr(0, 6000));
  CHECK(r.report.passed());
  // t0001_big holds cpu_pct 30: lending 10 gives t0000_web (none of its
  // own) a guarantee of 10, within the node's 50% as before.
  CHECK(r.log.find("node 0: SetLoans t0001_big: lends 10 cpu_pct to t0000_web") !=
        std::string::npos);
  CHECK(r.log.find("node 0: t0000_web effective cpu_pct=10") != std::string::npos);
  // 40 of 30 is an overdraw; memory cannot be lent: refused, nothing changes.
  CHECK(r.log.find("node 1: SetLoans t0001_big refused: ") != std::string::npos);
  CHECK(r.log.find("node 1: t0000_web effective") == std::string::npos);
  CHECK(r.log.find("node 2: SetLoans t0000_web refused: ") != std::string::npos);
  CHECK(r.log.find("node 2: t0001_big effective") == std::string::npos);
}

TEST_CASE("with push on, PLC's changes reach connected nodes at once; a partition cuts the link") {
  auto r = run_text(with_push(base) + R"(
[[timeline]]
at = "1h"
event = "partition"
nodes = "group:left"
duration = "30m"

[[timeline]]
at = "1h10m"
event = "delete_slice_from_nodes"
slice = "t0000_web"
nodes = "0-2"
)");
  INFO(r.log.substr(0, 4000));
  CHECK(r.report.passed());
  CHECK(r.log.find("push: PLC's gateway is up") != std::string::npos);
  // The tag change at 40m is pushed: every node applies it when it is made.
  auto pushed = latencies(r.report, "timeline[1]");
  CHECK(pushed.size() == 12);
  for (auto l : pushed)
    CHECK(l == 0);
  CHECK(r.log.find("node 7 took a push: ") != std::string::npos);
  // The removal from the partitioned nodes 0-2 was neither pushed nor
  // polled until the partition healed at 1h30m (20 minutes later).
  auto removed = latencies(r.report, "timeline[4]");
  CHECK(removed.size() == 3);
  for (auto l : removed)
    CHECK(l >= 1200);
}

TEST_CASE("pushes, tickets and loans keep the event log reproducible") {
  auto text = with_push(base) + R"(
[[slices]]
name = "t0001_deleg"
instantiation = "delegated"

[[timeline]]
at = "1h"
event = "redeem_ticket"
slice = "t0001_deleg"
nodes = "all"
broker = "t0000_web"

[[timeline]]
at = "1h"
event = "set_loans"
slice = "t0001_big"
nodes = "group:left"
loans = [["t0000_web", "cpu_pct", 5]]

[[timeline]]
at = "1h20m"
event = "crash"
nodes = 3
duration = "15m"
)";
  auto a = run_text(text);
  auto b = run_text(text);
  INFO(a.log.substr(a.log.size() > 3000 ? a.log.size() - 3000 : 0));
  CHECK(a.report.passed());
  CHECK(a.log.find("took a push") != std::string::npos);
  CHECK(a.log.find("ticket for t0001_deleg redeemed on 12 of 12 nodes") != std::string::npos);
  CHECK(a.log.find("node 5: t0000_web effective cpu_pct=5") != std::string::npos);
  CHECK(a.log == b.log);
}

TEST_CASE("a stop request ends the run at once and leaves no node directory behind") {
  auto sc = parse_scenario(base, "small.toml");
  pl::manual_clock clock{pl::clock::time_point{std::chrono::seconds{virtual_epoch}}};
  auto plc = make_embedded_plc(clock);
  std::string tmpl = (std::filesystem::temp_directory_path() / "plsim-stop-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  std::filesystem::path parent = tmpl;
  std::ostringstream log;
  run_options opt;
  opt.plc_clock = &clock;
  opt.event_log = &log;
  opt.scratch_parent = parent;
  int asked = 0;
  bool nodes_had_disks = false;
  // Stop once the run is well under way: the nodes have their directories by then.
  opt.stop_requested = [&] {
    if (++asked < 400)
      return false;
    nodes_had_disks = !std::filesystem::is_empty(parent);
    return true;
  };
  CHECK_THROWS_AS(run_scenario(sc, *plc, opt), run_interrupted);
  CHECK(asked == 400);
  CHECK(nodes_had_disks);
  CHECK(std::filesystem::is_empty(parent));
  std::filesystem::remove_all(parent);
}
