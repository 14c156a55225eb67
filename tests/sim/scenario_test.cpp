#include "sim/scenario.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace pl::sim;

namespace {

const char* minimal = R"(
[scenario]
name = "t"
duration = "2h"

[testbed]
sites = 2
site_prefix = "ab"
nodes = 10
)";

std::string error_of(const std::string& text) {
  try {
    parse_scenario(text, "t.toml");
  } catch (const scenario_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("durations read and print") {
  CHECK(parse_duration("90") == 90);
  CHECK(parse_duration("30s") == 30);
  CHECK(parse_duration("10m") == 600);
  CHECK(parse_duration("2h") == 7200);
  CHECK(parse_duration("1h30m") == 5400);
  CHECK(parse_duration("3d") == 3 * 86400);
  CHECK(parse_duration("1w") == 7 * 86400);
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("h"));
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("1h30"));
  CHECK_FALSE(parse_duration("-5m"));
  CHECK(format_duration(5400) == "1h30m");
  CHECK(format_duration(90061) == "1d1h1m1s");
  CHECK(format_duration(0) == "0s");
}

TEST_CASE("a minimal scenario takes the defaults") {
  auto sc = parse_scenario(minimal, "t.toml");
  CHECK(sc.name == "t");
  CHECK(sc.duration == 7200);
  CHECK(sc.quiet == 1800);
  CHECK(sc.poll_interval == 300);
  CHECK(sc.nodes == 10);
  CHECK(sc.sites == 2);
  CHECK(sc.login_base(1) == "ab0001");
  CHECK(sc.site_of_node(3) == 1);
  CHECK(sc.hostname(3) == "node3.ab0001.sim");
  CHECK(sc.slices.empty());
  CHECK(sc.timeline.empty());
}

TEST_CASE("slices, timeline and churn are read with their lines") {
  std::string text = std::string{minimal} + R"(
[groups]
left = "0-4"

[[slices]]
name = "ab0000_one"
nodes = "group:left"
tags = { cpu_share = 64, vref = "f8" }

[[slices]]
name = "ab0001_two"
nodes = [1, 3, 5]
instantiation = "delegated"
lifetime = "1d"

[slice_set]
count = 3
nodes_per_slice = "50%"

[[timeline]]
at = "10m"
event = "crash"
nodes = "20%"
duration = "5m"

[[timeline]]
at = "1h"
event = "set_tag"
slice = "ab0000_one"
tag = "cpu_share"
value = 8

[[churn]]
kind = "tag"
per_hour = 2.5
values = [1, "2"]
)";
  auto sc = parse_scenario(text, "t.toml");
  REQUIRE(sc.slices.size() == 2);
  CHECK(sc.slices[0].line == 14);
  CHECK(sc.slices[0].tags ==
        std::map<std::string, std::string>{{"cpu_share", "64"}, {"vref", "f8"}});
  CHECK(sc.slices[1].nodes.indices == std::vector<int>{1, 3, 5});
  CHECK(sc.slices[1].instantiation == "delegated");
  CHECK(sc.slices[1].lifetime == 86400);
  CHECK(sc.generated.count == 3);
  CHECK(sc.generated.nodes_percent == 50);
  REQUIRE(sc.timeline.size() == 2);
  CHECK(sc.timeline[0].kind == event_kind::crash);
  CHECK(sc.timeline[0].nodes.how == node_selector::kind::percent);
  CHECK(sc.timeline[0].duration == 300);
  CHECK(sc.timeline[1].kind == event_kind::set_tag);
  CHECK(sc.timeline[1].value == "8");
  CHECK(sc.timeline[1].line == 35);
  REQUIRE(sc.churn.size() == 1);
  CHECK(sc.churn[0].per_hour == 2.5);
  CHECK(sc.churn[0].until == sc.duration);
  CHECK(sc.churn[0].values == std::vector<std::string>{"1", "2"});
}

TEST_CASE("node selections resolve deterministically") {
  std::string text = std::string{minimal} + "[groups]\nleft = \"0-2,7\"\n";
  auto sc = parse_scenario(text, "t.toml");
  std::mt19937_64 a{42}, b{42};
  node_selector four;
  four.how = node_selector::kind::count;
  four.count = 4;
  auto x = resolve(four, sc, a);
  CHECK(x.size() == 4);
  CHECK(x == resolve(four, sc, b));
  node_selector half;
  half.how = node_selector::kind::percent;
  half.percent = 50;
  CHECK(resolve(half, sc, a).size() == 5);
  node_selector all;
  CHECK(resolve(all, sc, a).size() == 10);
  node_selector group;
  group.how = node_selector::kind::group;
  group.group = "left";
  CHECK(resolve(group, sc, a) == std::vector<int>{0, 1, 2, 7});
  four.count = 99; // more than there are: all of them
  CHECK(resolve(four, sc, a).size() == 10);
}

TEST_CASE("bad input names the file, the line and the problem") {
  auto with = [](const std::string& extra) { return std::string{minimal} + extra; };
  // TOML syntax
  CHECK(error_of("[scenario\nname='x'").rfind("t.toml:1: ", 0) == 0);
  // missing table and name
  CHECK(error_of("[testbed]\nnodes = 3\n").find("missing [scenario]") != std::string::npos);
  CHECK(error_of("[scenario]\nduration = 5\n") == "t.toml:1: [scenario]: 'name' is required");
  // unknown keys, with the list of known ones
  CHECK(error_of(with("[extra]\n")).find("t.toml:10: scenario file: unknown key 'extra'") == 0);
  CHECK(error_of("[scenario]\nname = \"x\"\ndurration = 5\n")
            .find("t.toml:3: [scenario]: unknown key 'durration' (known: name, ") == 0);
  // bad values
  CHECK(error_of("[scenario]\nname = \"x\"\nduration = \"soon\"\n") ==
        "t.toml:3: scenario.duration: 'soon' is not a duration (e.g. 90, \"30s\", \"10m\", "
        "\"2h\", \"3d\")");
  CHECK(error_of("[scenario]\nname = \"x\"\n[testbed]\nnodes = 0\n") ==
        "t.toml:4: testbed.nodes: 0 is out of range 1..1000000");
  CHECK(error_of("[scenario]\nname = \"x\"\n[testbed]\nnodes = 2\nsites = 3\n")
            .find("3 sites for 2 nodes") != std::string::npos);
  // slices
  CHECK(error_of(with("[[slices]]\nname = \"Bad Name\"\n")) ==
        "t.toml:11: slices[0].name: 'Bad Name' is not a slice name (<site>_<name>: lower-case "
        "letters, digits, '_')");
  CHECK(error_of(with("[[slices]]\nname = \"zz0000_x\"\n")).find("names site 'zz0000'") !=
        std::string::npos);
  CHECK(error_of(with("[[slices]]\nname = \"ab0000_x\"\n[[slices]]\nname = \"ab0000_x\"\n")) ==
        "t.toml:13: slices[1].name: slice 'ab0000_x' is declared twice");
  CHECK(error_of(with("[[slices]]\nname = \"ab0000_x\"\nnodes = \"3-12\"\n")) ==
        "t.toml:12: slices[0].nodes: node 10 is beyond the testbed's 10 nodes (0..9)");
  CHECK(error_of(with("[[slices]]\nname = \"ab0000_x\"\nnodes = \"group:nope\"\n")) ==
        "t.toml:12: slices[0].nodes: unknown node group 'nope'");
  CHECK(
      error_of(with("[[slices]]\nname = \"ab0000_x\"\nnodes = \"5-2\"\n")).find("runs backwards") !=
      std::string::npos);
  CHECK(error_of(with("[[slices]]\nname = \"ab0000_x\"\ntags = { cpu_share = 1.5 }\n"))
            .find("a tag value is a string or an integer") != std::string::npos);
  CHECK(error_of(with("[[slices]]\nname = \"ab0000_x\"\ninstantiation = \"magic\"\n")) ==
        "t.toml:12: slices[0].instantiation: unknown instantiation 'magic'");
  // timeline
  CHECK(error_of(with("[[timeline]]\nat = \"10m\"\nevent = \"explode\"\n"))
            .find("t.toml:12: timeline[0].event: unknown event 'explode' (known: create_slice") ==
        0);
  CHECK(error_of(with("[[timeline]]\nat = \"3h\"\nevent = \"reboot\"\nnodes = 1\n")) ==
        "t.toml:11: timeline[0].at: 3h is after the scenario's end (2h)");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"reboot\"\nnodes = 1\n"
                      "[[timeline]]\nat = \"10m\"\nevent = \"reboot\"\nnodes = 1\n")) ==
        "t.toml:15: timeline[1].at: events must be in time order (previous at 1h)");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"partition\"\nnodes = 1\n")) ==
        "t.toml:10: timeline[0]: event partition needs 'duration'");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"delete_slice\"\nslice = "
                      "\"ab0000_x\"\nnodes = 3\n")) ==
        "t.toml:14: timeline[0]: unknown key 'nodes' (known: at, event, slice)");
  // churn
  CHECK(error_of(with("[[churn]]\nkind = \"meteor\"\nper_hour = 1\n")) ==
        "t.toml:11: churn[0].kind: unknown churn 'meteor' (crash, slice, tag)");
  CHECK(error_of(with("[[churn]]\nkind = \"tag\"\nper_hour = 1\n")) ==
        "t.toml:10: churn[0]: tag churn needs 'values'");
}

TEST_CASE("ticket and loan events are read, and refused with their line") {
  auto with = [](const std::string& extra) { return std::string{minimal} + extra; };
  auto sc = parse_scenario(with(R"(
[[timeline]]
at = "10m"
event = "redeem_ticket"
slice = "ab0001_deleg"
nodes = "0-3"
broker = "ab0000_broker"

[[timeline]]
at = "20m"
event = "set_loans"
slice = "ab0000_web"
nodes = [2]
loans = [["ab0001_big", "cpu_share", 10], ["ab0001_big", "net_min_rate", 500]]
)"),
                           "t.toml");
  REQUIRE(sc.timeline.size() == 2);
  const auto& t = sc.timeline[0];
  CHECK(t.kind == event_kind::redeem_ticket);
  CHECK(to_string(t.kind) == "redeem_ticket");
  CHECK(t.slice == "ab0001_deleg");
  CHECK(t.broker == "ab0000_broker");
  CHECK(t.nodes.text == "0-3");
  CHECK(t.line == 11);
  const auto& l = sc.timeline[1];
  CHECK(l.kind == event_kind::set_loans);
  CHECK(l.slice == "ab0000_web");
  REQUIRE(l.loans.size() == 2);
  CHECK(l.loans[0].to == "ab0001_big");
  CHECK(l.loans[0].resource == "cpu_share");
  CHECK(l.loans[0].amount == 10);
  CHECK(l.loans[1].resource == "net_min_rate");
  CHECK(l.loans[1].amount == 500);
  // An empty list takes every loan back.
  CHECK(parse_scenario(with("[[timeline]]\nat = 1\nevent = \"set_loans\"\nslice = "
                            "\"ab0000_x\"\nnodes = 1\nloans = []\n"),
                       "t.toml")
            .timeline[0]
            .loans.empty());

  auto loans = [&](const std::string& list) {
    return error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"set_loans\"\nslice = "
                         "\"ab0000_x\"\nnodes = 1\nloans = " +
                         list + "\n"));
  };
  CHECK(loans(R"([["ab0001_y", "cpu_sharez", 5]])") ==
        "t.toml:15: timeline[0].loans[0].resource: unknown resource 'cpu_sharez'");
  CHECK(loans(R"([["ab0001_y", "cpu_share"]])") ==
        "t.toml:15: timeline[0].loans[0]: expected [to, resource, amount]");
  CHECK(loans(R"([["ab0001_y", "cpu_share", -1]])") ==
        "t.toml:15: timeline[0].loans[0].amount: -1 is out of range 0..9223372036854775807");
  CHECK(loans(R"([["zz0001_y", "cpu_share", 5]])")
            .find("t.toml:15: timeline[0].loans[0].to: "
                  "slice 'zz0001_y' names site 'zz0001'") == 0);
  CHECK(loans(R"("all of it")") ==
        "t.toml:15: timeline[0].loans: expected a list of [to, resource, amount]");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"set_loans\"\nslice = "
                      "\"ab0000_x\"\nnodes = 1\n")) ==
        "t.toml:10: timeline[0]: event set_loans needs 'loans'");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"redeem_ticket\"\nslice = "
                      "\"ab0000_x\"\n")) ==
        "t.toml:10: timeline[0]: event redeem_ticket needs 'nodes'");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"redeem_ticket\"\nslice = "
                      "\"ab0000_x\"\nnodes = 1\nbroker = \"Broker\"\n")) ==
        "t.toml:15: timeline[0].broker: 'Broker' is not a slice name (<site>_<name>: lower-case "
        "letters, digits, '_')");
  CHECK(error_of(with("[[timeline]]\nat = \"1h\"\nevent = \"redeem_ticket\"\nslice = "
                      "\"ab0000_x\"\nnodes = 1\nloans = []\n")) ==
        "t.toml:15: timeline[0]: unknown key 'loans' (known: at, event, slice, nodes, broker)");
}

TEST_CASE("push is off unless the scenario turns it on") {
  CHECK_FALSE(parse_scenario(minimal, "t.toml").push);
  auto on = std::string{minimal};
  on.insert(on.find("\n[testbed]"), "push = true\n");
  CHECK(parse_scenario(on, "t.toml").push);
  auto bad = std::string{minimal};
  bad.insert(bad.find("\n[testbed]"), "push = \"yes\"\n");
  CHECK(error_of(bad) == "t.toml:5: scenario.push: expected true or false");
}

TEST_CASE("overrides change nodes, seed and duration") {
  scenario_overrides o;
  o.nodes = 40;
  o.seed = 9;
  auto sc = parse_scenario(minimal, "t.toml", o);
  CHECK(sc.nodes == 40);
  CHECK(sc.seed == 9);
  o.nodes = 0;
  CHECK_THROWS_AS(parse_scenario(minimal, "t.toml", o), scenario_error);
}

TEST_CASE("the shipped scenarios load") {
  std::string dir = PL_SIM_SCENARIOS;
  auto demo = load_scenario(dir + "/demo.toml");
  CHECK(demo.nodes == 100);
  CHECK(demo.name == "demo");
  auto pl = load_scenario(dir + "/planetlab-2006.toml");
  CHECK(pl.sites == 336);
  CHECK(pl.nodes == 700);
  CHECK(pl.generated.count == 600);
  CHECK(pl.generated.nodes_per_slice == 50);
  scenario_overrides o;
  o.nodes = 10000;
  auto scale = load_scenario(dir + "/scale.toml", o);
  CHECK(scale.nodes == 10000);
  CHECK(scale.sites == 1000);
  CHECK_THROWS_WITH(load_scenario(dir + "/missing.toml"),
                    Catch::Contains("cannot read the scenario file"));
}
