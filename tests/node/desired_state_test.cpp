// The node's desired state: GetSlivers replies (5.x and 4.0 spellings),
// pushed snapshots and redeemed tickets, and the errors on malformed input.
#include <catch2/catch.hpp>

#include "actors/sliver_tags.hpp"
#include "drivers/mechanism_driver.hpp"
#include "node/desired_state.hpp"

using namespace pl;
using namespace pl::node;

namespace {

using xv = xmlrpc_c::value;
using fields = std::map<std::string, xv>;

xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}
xv num(int x) {
  return xmlrpc_c::value_int(x);
}
xv big(long long x) {
  return xmlrpc_c::value_i8(x);
}
xv boolean(bool b) {
  return xmlrpc_c::value_boolean(b);
}
xv nil() {
  return xmlrpc_c::value_nil();
}
xv obj(fields f) {
  return xmlrpc_c::value_struct(f);
}
// xmlrpc_c::value refuses assignment over a value, so fields are replaced.
void put(fields& f, const std::string& k, const xv& v) {
  f.erase(k);
  f.emplace(k, v);
}
void reset(fields& f, const fields& from) {
  f.clear();
  for (const auto& [k, v] : from)
    f.emplace(k, v);
}
xv arr(std::vector<xv> xs) {
  return xmlrpc_c::value_array(xs);
}
xv tag(const std::string& name, const std::string& value) {
  return obj({{"tagname", str(name)}, {"value", str(value)}});
}
xv key(const std::string& k) {
  return obj({{"key_type", str("ssh")}, {"key", str(k)}});
}

fields sliver(const std::string& name, int id, const std::string& inst, std::vector<xv> attrs,
              std::vector<xv> keys = {}) {
  return {{"name", str(name)},          {"slice_id", num(id)},
          {"instantiation", str(inst)}, {"expires", num(2'000'000'000)},
          {"keys", arr(keys)},          {"attributes", arr(attrs)}};
}

fields reply(std::vector<xv> slivers) {
  return {{"timestamp", num(1'700'000'000)},
          {"node_id", num(7)},
          {"hostname", str("node7.example.org")},
          {"interfaces", arr({})},
          {"groups", arr({})},
          {"conf_files", arr({})},
          {"initscripts", arr({})},
          {"accounts", arr({})},
          {"slivers", arr(slivers)}};
}

std::string error_text(const caf::error& err) {
  return drivers::describe(err);
}

} // namespace

TEST_CASE("a 5.x GetSlivers reply becomes the node's full desired state") {
  auto r = reply({
      obj(sliver("pl_web", 12, "plc-instantiated",
                 {tag("cpu_share", "64"), tag("net_max_rate", "2000"), tag("enabled", "0"),
                  tag("vref", "debian12"), tag("delegations", "pl_broker, pl_mon"),
                  tag("initscript", "setup"), tag("proper_op", "mount_dir"), tag("vsys", "top")},
                 {key("ssh-rsa AAAA web@a"), key("ssh-ed25519 BBBB web@b")})),
      obj(sliver("pl_a", 11, "delegated", {})),
  });
  put(r, "groups", arr({str("Internet2"), str("Europe")}));
  put(r, "interfaces",
      arr({obj({{"is_primary", boolean(false)}, {"bwlimit", num(5'000'000)}}),
           obj({{"is_primary", boolean(true)}, {"bwlimit", num(10'000'000)}, {"ip", nil()}})}));
  put(r, "initscripts",
      arr({
          obj({{"initscript_id", num(1)},
               {"name", str("setup")},
               {"enabled", boolean(true)},
               {"script", str("#!/bin/sh\necho hi\n")}}),
          obj({{"initscript_id", num(2)},
               {"name", str("off")},
               {"enabled", boolean(false)},
               {"script", str("x")}}),
      }));
  put(r, "conf_files",
      arr({obj({{"conf_file_id", num(3)},
                {"enabled", boolean(true)},
                {"source", str("PlanetLabConf/sysctl.php")},
                {"dest", str("/etc/sysctl.conf")},
                {"file_permissions", str("600")},
                {"file_owner", str("root")},
                {"file_group", str("adm")},
                {"preinstall_cmd", nil()},
                {"postinstall_cmd", str("sysctl -p")},
                {"error_cmd", nil()},
                {"ignore_cmd_errors", boolean(true)},
                {"always_update", boolean(false)}})}));
  put(r, "accounts", arr({obj({{"name", str("root")}, {"keys", arr({key("ssh-rsa ROOT")})}})}));
  put(r, "leases",
      arr({obj({{"slice_id", num(12)}, {"t_from", num(100)}, {"t_until", num(200)}})}));
  auto d = parse_get_slivers(obj(r));
  REQUIRE(d);
  CHECK(d->source == origin::get_slivers);
  CHECK(d->full);
  CHECK(d->timestamp == 1'700'000'000);
  CHECK(d->node_id == 7);
  CHECK(d->hostname == "node7.example.org");
  CHECK(d->groups == std::vector<std::string>{"Internet2", "Europe"});
  // Only the primary interface sets the node cap; PLC stores bit/s.
  CHECK(d->node_bwlimit_kbps == std::optional<std::int64_t>{10'000});
  // Disabled initscripts are dropped.
  REQUIRE(d->initscripts.size() == 1);
  CHECK(d->initscripts[0].name == "setup");
  REQUIRE(d->conf_files.size() == 1);
  const auto& cf = d->conf_files[0];
  CHECK(cf.conf_file_id == 3);
  CHECK(cf.dest == "/etc/sysctl.conf");
  CHECK(cf.file_permissions == "600");
  CHECK(cf.file_group == "adm");
  CHECK(cf.preinstall_cmd.empty());
  CHECK(cf.postinstall_cmd == "sysctl -p");
  CHECK(cf.ignore_cmd_errors);
  CHECK_FALSE(cf.always_update);
  REQUIRE(d->accounts.size() == 1);
  CHECK(d->accounts[0].keys == std::vector<std::string>{"ssh-rsa ROOT"});
  CHECK(d->leases == std::vector<lease>{{12, 100, 200}});
  CHECK(d->invalid.empty());

  // Sorted by name.
  REQUIRE(d->slivers.size() == 2);
  CHECK(d->slivers[0].name == "pl_a");
  CHECK(d->slivers[1].name == "pl_web");
  const auto& a = d->slivers[0];
  CHECK(a.instantiation == "delegated");
  CHECK(a.enabled);
  CHECK(a.vref == "default");
  CHECK(a.resources == default_rspec());
  CHECK(a.node_id == 7);

  const auto* web = d->find("pl_web");
  REQUIRE(web != nullptr);
  CHECK(web->slice_id == 12);
  CHECK(web->expires == 2'000'000'000);
  CHECK_FALSE(web->enabled);
  CHECK(web->vref == "debian12");
  CHECK(web->delegations == std::vector<std::string>{"pl_broker", "pl_mon"});
  CHECK(web->initscript == "#!/bin/sh\necho hi\n");
  CHECK(web->keys == std::vector<std::string>{"ssh-rsa AAAA web@a", "ssh-ed25519 BBBB web@b"});
  // Resource tags set the rspec; everything else in the table keeps its default.
  CHECK(web->resources.values.size() == default_rspec().values.size());
  CHECK(web->resources.value_of("cpu_share") == 64);
  CHECK(web->resources.value_of("net_max_rate") == 2000);
  CHECK(web->resources.value_of("disk_max") == 5'000'000);
  // Interpreted tags leave `attributes`; the others stay.
  CHECK(web->attributes == std::map<std::string, std::string>{{"initscript", "setup"},
                                                              {"proper_op", "mount_dir"},
                                                              {"vsys", "top"}});
  CHECK(d->find("pl_nope") == nullptr);
}

TEST_CASE("the 4.0 spellings and i8 integers are accepted") {
  fields s{{"name", str("pl_old")},
           {"slice_id", big(5)},
           {"instantiation", str("plc-instantiated")},
           {"expires", big(3'000'000'000LL)},
           {"keys", arr({str("ssh-dss OLD")})},
           {"attributes", arr({obj({{"name", str("cpu_share")}, {"value", str("8")}})})}};
  fields r{{"timestamp", big(1'000)},
           {"node_id", num(3)},
           {"networks", arr({obj({{"is_primary", num(1)}, {"bwlimit", nil()}})})},
           {"slivers", arr({obj(s)})}};
  auto d = parse_get_slivers(obj(r));
  REQUIRE(d);
  CHECK(d->timestamp == 1'000);
  CHECK_FALSE(d->node_bwlimit_kbps.has_value());
  REQUIRE(d->slivers.size() == 1);
  CHECK(d->slivers[0].slice_id == 5);
  CHECK(d->slivers[0].expires == 3'000'000'000LL);
  CHECK(d->slivers[0].keys == std::vector<std::string>{"ssh-dss OLD"});
  CHECK(d->slivers[0].resources.value_of("cpu_share") == 8);
  // Absent optional lists are empty.
  CHECK(d->conf_files.empty());
  CHECK(d->initscripts.empty());
}

TEST_CASE("the first of two equal attributes wins, as PLC orders sliver before global") {
  auto d = parse_get_slivers(obj(reply({obj(sliver(
      "pl_x", 1, "plc-instantiated",
      {tag("cpu_share", "100"), tag("cpu_share", "32"), tag("vsys", "a"), tag("vsys", "b")}))})));
  REQUIRE(d);
  CHECK(d->slivers[0].resources.value_of("cpu_share") == 100);
  CHECK(d->slivers[0].attributes.at("vsys") == "a");
}

TEST_CASE("initscripts resolve by literal code, then by name, then by 1.5's id") {
  auto r = reply({
      obj(sliver("pl_code", 1, "plc-instantiated",
                 {tag("initscript_code", "literal"), tag("initscript", "named")})),
      obj(sliver("pl_name", 2, "plc-instantiated", {tag("initscript", "named")})),
      obj(sliver("pl_id", 3, "plc-instantiated", {tag("plc_initscript_id", "9")})),
      obj(sliver("pl_unknown", 4, "plc-instantiated", {tag("initscript", "gone")})),
  });
  put(r, "initscripts",
      arr({
          obj({{"initscript_id", num(9)}, {"name", str("by_id")}, {"script", str("nine")}}),
          obj({{"initscript_id", num(1)}, {"name", str("named")}, {"script", str("by name")}}),
      }));
  auto d = parse_get_slivers(obj(r));
  REQUIRE(d);
  CHECK(d->find("pl_code")->initscript == "literal");
  CHECK(d->find("pl_name")->initscript == "by name");
  CHECK(d->find("pl_id")->initscript == "nine");
  // An unknown name gives no script, as the original did.
  CHECK(d->find("pl_unknown")->initscript.empty());
}

TEST_CASE("a sliver with an unusable attribute is set aside with the reason, others parse") {
  auto d = parse_get_slivers(obj(reply({
      obj(sliver("pl_bad_cpu", 1, "plc-instantiated", {tag("cpu_pct", "150")})),
      obj(sliver("pl_nan", 2, "plc-instantiated", {tag("cpu_share", "lots")})),
      obj(sliver("pl_enabled", 3, "plc-instantiated", {tag("enabled", "yes")})),
      obj(sliver("pl_inst", 4, "sometimes", {})),
      obj(sliver("pl_good", 5, "nm-controller", {tag("unknown_future_tag", "x")})),
  })));
  REQUIRE(d);
  REQUIRE(d->slivers.size() == 1);
  CHECK(d->slivers[0].name == "pl_good");
  CHECK(d->slivers[0].attributes.at("unknown_future_tag") == "x");
  REQUIRE(d->invalid.size() == 4);
  // Sorted by name.
  CHECK(d->invalid[0].slice == "pl_bad_cpu");
  CHECK(d->invalid[0].reason ==
        "bad resource attribute: out_of_range: cpu_pct=150 (allowed 0..100)");
  CHECK(d->invalid[1].slice == "pl_enabled");
  CHECK(d->invalid[1].reason == "attribute enabled=\"yes\": not an integer");
  CHECK(d->invalid[2].slice == "pl_inst");
  CHECK(d->invalid[2].reason == "unknown instantiation \"sometimes\"");
  CHECK(d->invalid[3].slice == "pl_nan");
  CHECK(d->invalid[3].reason == "bad resource attribute: not_a_number: cpu_share=\"lots\"");
}

TEST_CASE("malformed GetSlivers replies are refused with the field's path") {
  auto message = [](const xv& v) {
    auto d = parse_get_slivers(v);
    REQUIRE_FALSE(d);
    return error_text(d.error());
  };
  CHECK(message(arr({})) == "invalid_argument: GetSlivers: expected a struct, got an array");
  auto r = reply({});
  r.erase("timestamp");
  CHECK(message(obj(r)) == "invalid_argument: GetSlivers: timestamp: missing");
  reset(r, reply({}));
  put(r, "node_id", str("7"));
  CHECK(message(obj(r)) ==
        "invalid_argument: GetSlivers: node_id: expected an integer, got a string");
  reset(r, reply({}));
  put(r, "node_id", big(1LL << 40));
  CHECK(message(obj(r)) == "invalid_argument: GetSlivers: node_id: out of the 32-bit range");
  reset(r, reply({}));
  r.erase("slivers");
  CHECK(message(obj(r)) == "invalid_argument: GetSlivers: slivers: missing");
  reset(r, reply({}));
  put(r, "slivers", obj({}));
  CHECK(message(obj(r)) ==
        "invalid_argument: GetSlivers: slivers: expected an array, got a struct");

  auto s = sliver("pl_b", 2, "plc-instantiated", {});
  put(s, "expires", str("tomorrow"));
  CHECK(message(obj(reply({obj(sliver("pl_a", 1, "delegated", {})), obj(s)}))) ==
        "invalid_argument: GetSlivers: slivers[1].expires: expected an integer, got a string");
  reset(s, sliver("pl_b", 2, "plc-instantiated", {}));
  s.erase("slice_id");
  CHECK(message(obj(reply({obj(s)}))) ==
        "invalid_argument: GetSlivers: slivers[0].slice_id: missing");
  CHECK(message(obj(reply({num(3)}))) ==
        "invalid_argument: GetSlivers: slivers[0]: expected a struct, got an integer");
  reset(s, sliver("", 2, "plc-instantiated", {}));
  CHECK(message(obj(reply({obj(s)}))) == "invalid_argument: GetSlivers: slivers[0].name: empty");
  CHECK(message(obj(
            reply({obj(sliver("pl_a", 2, "plc-instantiated", {obj({{"value", str("1")}})}))}))) ==
        "invalid_argument: GetSlivers: slivers[0].attributes[0].name: missing");
  CHECK(message(obj(reply({obj(
            sliver("pl_a", 2, "plc-instantiated", {}, {obj({{"key_type", str("ssh")}})}))}))) ==
        "invalid_argument: GetSlivers: slivers[0].keys[0].key: missing");
  CHECK(message(obj(reply(
            {obj(sliver("pl_a", 1, "delegated", {})), obj(sliver("pl_a", 2, "delegated", {}))}))) ==
        "invalid_argument: GetSlivers: two slivers named pl_a");
  // A duplicate is found even when one of the two is invalid.
  CHECK(message(obj(reply(
            {obj(sliver("pl_a", 1, "delegated", {})), obj(sliver("pl_a", 2, "never", {}))}))) ==
        "invalid_argument: GetSlivers: two slivers named pl_a");
  reset(r, reply({}));
  put(r, "conf_files", arr({obj({{"source", str("x")}})}));
  CHECK(message(obj(r)) == "invalid_argument: GetSlivers: conf_files[0].dest: missing");
  reset(r, reply({}));
  put(r, "conf_files",
      arr({obj({{"source", str("x")}, {"dest", str("/x")}, {"enabled", str("y")}})}));
  CHECK(message(obj(r)) ==
        "invalid_argument: GetSlivers: conf_files[0].enabled: expected a boolean, got a string");
  reset(r, reply({}));
  put(r, "leases", arr({obj({{"slice_id", num(1)}, {"t_from", num(1)}})}));
  CHECK(message(obj(r)) == "invalid_argument: GetSlivers: leases[0].t_until: missing");
}

TEST_CASE("a pushed snapshot becomes a desired state with complete rspecs") {
  sliver_snapshot snap;
  snap.node_id = 7;
  snap.timestamp = 500;
  snap.full = false;
  sliver_spec b;
  b.name = "pl_b";
  b.resources.values = {{"cpu_share", 5}};
  sliver_spec a;
  a.name = "pl_a";
  a.node_id = 7;
  snap.slivers = {b, a};
  auto d = from_snapshot(snap);
  REQUIRE(d);
  CHECK(d->source == origin::push);
  CHECK_FALSE(d->full);
  CHECK(d->timestamp == 500);
  REQUIRE(d->slivers.size() == 2);
  CHECK(d->slivers[0].name == "pl_a");
  CHECK(d->slivers[0].resources == default_rspec());
  CHECK(d->slivers[1].resources.value_of("cpu_share") == 5);
  CHECK(d->slivers[1].resources.values.size() == default_rspec().values.size());
  CHECK(d->slivers[1].node_id == 7);

  auto bad = snap;
  bad.slivers[0].resources.values["cpu_pct"] = 101;
  auto e = from_snapshot(bad);
  REQUIRE_FALSE(e);
  CHECK(error_text(e.error()) ==
        "invalid_argument: snapshot: sliver pl_b: out_of_range: cpu_pct=101 (allowed 0..100)");
  bad = snap;
  bad.slivers[0].resources.values["cpu_sharez"] = 1;
  CHECK_FALSE(from_snapshot(bad));
  bad = snap;
  bad.slivers[0].name = "pl_a";
  e = from_snapshot(bad);
  REQUIRE_FALSE(e);
  CHECK(error_text(e.error()) == "invalid_argument: snapshot: two slivers named pl_a");
  bad = snap;
  bad.slivers[1].name.clear();
  CHECK_FALSE(from_snapshot(bad));
}

TEST_CASE("a verified ticket is a partial state for this node, dated when it was issued") {
  sliver_ticket t;
  t.slice_name = "pl_deleg";
  t.slice_id = 44;
  t.instantiation = "delegated";
  t.any_node = true;
  t.keys = {"ssh-rsa T"};
  t.attributes = {{"cpu_share", "64"},
                  {"enabled", "1"},
                  {"delegations", "pl_broker"},
                  {"initscript_code", "echo t"},
                  {"vsys", "x"}};
  t.issued = 4'000;
  t.expires = 5'000;
  auto d = from_ticket(t, 7);
  REQUIRE(d);
  CHECK(d->source == origin::ticket);
  CHECK_FALSE(d->full);
  CHECK(d->timestamp == 4'000);
  CHECK(d->node_id == 7);
  REQUIRE(d->slivers.size() == 1);
  const auto& s = d->slivers[0];
  CHECK(s.name == "pl_deleg");
  CHECK(s.slice_id == 44);
  CHECK(s.node_id == 7);
  CHECK(s.instantiation == "delegated");
  CHECK(s.expires == 5'000);
  CHECK(s.keys == std::vector<std::string>{"ssh-rsa T"});
  CHECK(s.enabled);
  CHECK(s.resources.value_of("cpu_share") == 64);
  CHECK(s.resources.values.size() == default_rspec().values.size());
  CHECK(s.delegations == std::vector<std::string>{"pl_broker"});
  CHECK(s.initscript == "echo t");
  // As from GetSlivers, the initscript tags stay visible among the attributes.
  CHECK(s.attributes ==
        std::map<std::string, std::string>{{"initscript_code", "echo t"}, {"vsys", "x"}});

  t.any_node = false;
  t.node_ids = {1, 7};
  CHECK(from_ticket(t, 7));
  auto e = from_ticket(t, 8);
  REQUIRE_FALSE(e);
  CHECK(error_text(e.error()) ==
        "invalid_ticket: ticket for slice pl_deleg is not valid on node 8");
  t.attributes["cpu_share"] = "much";
  e = from_ticket(t, 7);
  REQUIRE_FALSE(e);
  CHECK(error_text(e.error()) == "invalid_argument: ticket for slice pl_deleg: bad resource "
                                 "attribute: not_a_number: cpu_share=\"much\"");
  t.attributes.erase("cpu_share");
  t.instantiation = "sometimes";
  e = from_ticket(t, 7);
  REQUIRE_FALSE(e);
  CHECK(error_text(e.error()) ==
        "invalid_argument: ticket for slice pl_deleg: unknown instantiation \"sometimes\"");
}

TEST_CASE("delegations are a list of slice names") {
  CHECK(parse_delegations("") == std::vector<std::string>{});
  CHECK(parse_delegations("pl_a") == std::vector<std::string>{"pl_a"});
  CHECK(parse_delegations(" pl_a,pl_b  pl_c,,pl_a\n") ==
        std::vector<std::string>{"pl_a", "pl_b", "pl_c"});
  CHECK(to_string(origin::ticket) == "ticket");
}
