// Binary round trip of every record of the shared protocol, without an actor
// system: each sample sets every field to a non-default value, so a field that
// `inspect` forgets comes back default and fails the comparison.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>

#include "actors/records.hpp"
#include "actors/rspec.hpp"

namespace {

template <class T>
T round_trip(const T& original) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = original;
  auto save_err = sink(copy);
  REQUIRE_FALSE(save_err);
  REQUIRE_FALSE(buf.empty());
  T result;
  caf::binary_deserializer source{nullptr, buf};
  auto load_err = source(result);
  REQUIRE_FALSE(load_err);
  CHECK(source.remaining() == 0);
  return result;
}

template <class T>
void check_round_trip(const T& sample, const char* type_name) {
  INFO(caf::deep_to_string(sample));
  REQUIRE_FALSE(sample == T{}); // the sample must exercise the fields
  auto copy = round_trip(sample);
  CHECK(copy == sample);
  CHECK(caf::deep_to_string(copy).find(type_name) != std::string::npos);
}

pl::rspec sample_rspec() {
  auto x = pl::default_rspec();
  x.values["cpu_share"] = 64;
  x.values["net_max_rate"] = 8000;
  return x;
}

pl::sliver_spec sample_sliver() {
  pl::sliver_spec x;
  x.name = "princeton_codeen";
  x.slice_id = 42;
  x.node_id = 7;
  x.instantiation = "plc-instantiated";
  x.expires = 1'138'712'648;
  x.enabled = false;
  x.keys = {"ssh-rsa AAAAB3Nza alice@example.org", "ssh-ed25519 AAAAC3 bob@example.org"};
  x.resources = sample_rspec();
  x.attributes = {{"proper_op", "bind_socket sockname=53:*"}, {"vsys", "pfmount"}};
  x.initscript = "#!/bin/sh\necho hello\n";
  x.delegations = {"pl_broker", "princeton_sirius"};
  x.vref = "fedora8";
  return x;
}

} // namespace

TEST_CASE("rspec round-trips and compares by value", "[records]") {
  check_round_trip(sample_rspec(), "rspec");
  CHECK_FALSE(sample_rspec() == pl::default_rspec());
}

TEST_CASE("slice_spec round-trips", "[records]") {
  pl::slice_spec x;
  x.slice_id = 42;
  x.name = "princeton_codeen";
  x.instantiation = "delegated";
  x.expires = 1'200'000'000;
  x.node_ids = {1, 2, 3};
  x.keys = {"ssh-rsa AAAA alice"};
  x.attributes = {{"cpu_share", "64"}, {"initscript", "codeen"}};
  check_round_trip(x, "slice_spec");
}

TEST_CASE("sliver_spec round-trips", "[records]") {
  auto x = sample_sliver();
  check_round_trip(x, "sliver_spec");
  // The default of `enabled` is true: a sample with false must survive.
  CHECK_FALSE(round_trip(x).enabled);
}

TEST_CASE("sliver_snapshot round-trips", "[records]") {
  pl::sliver_snapshot x;
  x.node_id = 7;
  x.timestamp = 1'190'000'000;
  x.full = true;
  x.slivers = {sample_sliver(), pl::sliver_spec{}};
  check_round_trip(x, "sliver_snapshot");
}

TEST_CASE("ticket round-trips, bytes included", "[records]") {
  pl::ticket x;
  x.blob = {0x00, 0xff, 0x10, 0x80};
  x.slice_name = "princeton_codeen";
  x.node_ids = {7, 9};
  x.sliver = sample_sliver();
  x.issued = 1'190'000'000;
  x.expires = 1'190'086'400;
  x.nonce = "b64nonce";
  x.key_id = "plc-ed25519-1";
  x.signature = std::vector<std::uint8_t>(64, 0xab);
  check_round_trip(x, "ticket");
}

TEST_CASE("loan round-trips", "[records]") {
  check_round_trip(pl::loan{"princeton_codeen", "pl_broker", "cpu_share", 16}, "loan");
}

TEST_CASE("node_status round-trips", "[records]") {
  pl::node_status x;
  x.node_id = 7;
  x.hostname = "planetlab-1.cs.princeton.edu";
  x.boot_state = "boot";
  x.last_sync = 1'190'000'000;
  x.slivers = {{"princeton_codeen", pl::sliver_phase::running},
               {"pl_broker", pl::sliver_phase::failed}};
  x.refusals = {{"mit_big", "disk_max exceeds free space"}};
  x.counters = {{"snapshots_applied", 12}, {"pushes", 3}};
  check_round_trip(x, "node_status");
  check_round_trip(x.slivers[1], "sliver_status");
  check_round_trip(x.refusals[0], "admission_refusal");
}

TEST_CASE("node_hello and node_contact round-trip", "[records]") {
  pl::node_hello hello{7, "planetlab-1.cs.princeton.edu", 1'190'000'000, "n1", {1, 2, 3}};
  check_round_trip(hello, "node_hello");
  pl::node_contact contact{7, "planetlab-1.cs.princeton.edu", 1'190'000'000, true};
  check_round_trip(contact, "node_contact");
}

TEST_CASE("allocation round-trips, mechanism included", "[records]") {
  pl::allocation x{"princeton_codeen", pl::mechanism::net, {{"net_max_rate", 8000}}};
  check_round_trip(x, "allocation");
  CHECK(round_trip(x).enforced_by == pl::mechanism::net);
}

TEST_CASE("proper_request and proper_reply round-trip", "[records]") {
  pl::proper_request req{
      99, "princeton_codeen", pl::proper_op::mount_dir, {"root:/", "/mnt", "ro"}};
  check_round_trip(req, "proper_request");
  pl::proper_reply rep{99, 13, "Permission denied", {{"errno", "EACCES"}}};
  check_round_trip(rep, "proper_reply");
  CHECK_FALSE(rep.ok());
  CHECK(pl::proper_reply{}.ok());
}

TEST_CASE("a truncated buffer fails to decode instead of yielding a value", "[records]") {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto x = sample_sliver();
  REQUIRE_FALSE(sink(x));
  buf.resize(buf.size() / 2);
  pl::sliver_spec y;
  caf::binary_deserializer source{nullptr, buf};
  CHECK(source(y));
}

TEST_CASE("proper op names match Proper's ACL vocabulary", "[records]") {
  for (const char* name : {"version", "open_file", "set_file_flags", "get_file_flags", "mount_dir",
                           "unmount", "exec", "wait", "create_socket", "bind_socket"}) {
    auto op = pl::parse_proper_op(name);
    REQUIRE(op.has_value());
    CHECK(pl::to_string(*op) == name);
  }
  CHECK_FALSE(pl::parse_proper_op("chroot").has_value());
  CHECK(pl::to_string(pl::sliver_phase::running) == "running");
}
