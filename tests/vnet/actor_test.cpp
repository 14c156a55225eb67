// The vnet actor on CAF's deterministic test coordinator: messages map onto
// engine calls, refusals come back as `vnet` errors, time is virtual.

#include "tests/vnet/packet_builder.hpp"
#include "vnet/vnet_actor.hpp"

#include "actors/runtime_config.hpp"
#include "tests/coordinator_request.hpp"

#include <catch2/catch.hpp>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <optional>

using namespace pl::vnet;
using namespace pl::vnet::test;

namespace {

constexpr ipv4_addr node = make_addr(10, 0, 0, 1);
constexpr ipv4_addr host = make_addr(192, 0, 2, 7);
constexpr ipv4_addr lo = make_addr(127, 0, 0, 1);

struct virtual_node {
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  pl::vnet_actor vnet;

  virtual_node() {
    pl::configure_runtime(cfg, {.max_threads = 1, .virtual_time = true});
    sys.emplace(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    engine_config ec;
    ec.local_addrs = {node};
    ec.timeout.udp = seconds(30);
    vnet = sys->spawn(vnet_actor_impl, ec,
                      std::vector<proxy_spec>{{"proxy0", prefix{make_addr(10, 0, 1, 0), 28}}});
    sched->run();
  }

  ~virtual_node() {
    caf::anon_send_exit(vnet, caf::exit_reason::user_shutdown);
    sched->run();
  }

  // Sends a request from a short-lived actor and runs until idle.
  template <class Reply, class... Ts>
  caf::expected<Reply> call(Ts... xs) {
    return pl::testing::request_and_run<Reply>(*sys, *sched, vnet, xs...);
  }

  pl::vnet_verdict one(const bytes& b, std::uint32_t sender, bool inbound) {
    pl::vnet_batch batch;
    batch.packets.push_back(pl::vnet_packet{b, sender, static_cast<std::uint8_t>(inbound), 0, 0});
    auto r = call<pl::vnet_verdicts>(batch);
    REQUIRE(r);
    REQUIRE(r->verdicts.size() == 1);
    return r->verdicts[0];
  }
};

bool is_vnet_error(const caf::error& e, error code) {
  return e.category() == caf::atom("vnet") && e.code() == static_cast<std::uint8_t>(code);
}

template <class T>
T round_trip(const T& original) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = original;
  REQUIRE_FALSE(sink(copy));
  T result;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(result));
  CHECK(source.remaining() == 0);
  return result;
}

} // namespace

TEST_CASE("decides batches in order, binds and lazy binding included", "[actor]") {
  virtual_node n;
  REQUIRE(n.call<caf::ok_atom>(pl::bind_atom_v, pl::vnet_bind{2, 17, 53}));
  auto refused = n.call<caf::ok_atom>(pl::bind_atom_v, pl::vnet_bind{3, 17, 53});
  REQUIRE_FALSE(refused);
  CHECK(is_vnet_error(refused.error(), error::port_in_use));

  pl::vnet_batch batch;
  auto add = [&](const bytes& b, std::uint32_t s, std::uint8_t dir, std::uint8_t link = 0) {
    batch.packets.push_back(pl::vnet_packet{b, s, dir, link, 0});
  };
  add(icmp(node, host, 7), 1, 0);     // slice 1 pings
  add(icmp(node, host, 7), 2, 0);     // slice 2, same id, same host
  add(icmp(host, node, 7, 0), 0, 1);  // the reply: slice 2's
  add(udp(node, 53, host, 53), 3, 0); // port bound by 2
  add(with_ethernet(udp(node, 53, host, 53)), 2, 0, 1);
  add(udp(host, 9, node, 53), 0, 1); // to the binder
  add(bytes{}, 1, 0);                // malformed
  auto r = n.call<pl::vnet_verdicts>(batch);
  REQUIRE(r);
  const std::vector<pl::vnet_verdict> want{
      {1, 0},
      {2, 0},
      {2, 0},
      {no_slice, static_cast<std::uint8_t>(reason::port_bound)},
      {2, 0},
      {2, 0},
      {no_slice, static_cast<std::uint8_t>(reason::malformed)},
  };
  CHECK(r->verdicts == want);

  REQUIRE(n.call<caf::ok_atom>(pl::unbind_atom_v, pl::vnet_bind{2, 17, 53}));
  CHECK(n.one(udp(node, 53, host, 53), 3, false) == pl::vnet_verdict{3, 0});
  auto bad = n.call<caf::ok_atom>(pl::unbind_atom_v, pl::vnet_bind{2, 47, 53});
  REQUIRE_FALSE(bad);
  CHECK(is_vnet_error(bad.error(), error::bad_protocol));
}

TEST_CASE("expires connections in virtual time", "[actor]") {
  virtual_node n;
  CHECK(n.one(udp(node, 5000, host, 53), 4, false) == pl::vnet_verdict{4, 0});
  n.sched->advance_time(std::chrono::seconds(29));
  CHECK(n.one(udp(host, 53, node, 5000), 0, true) == pl::vnet_verdict{4, 0});
  n.sched->advance_time(std::chrono::seconds(30));
  CHECK(n.one(udp(host, 53, node, 5000), 0, true) == pl::vnet_verdict{root_slice, 0});
}

TEST_CASE("transfers, blacklists, proxies and peers through messages", "[actor]") {
  virtual_node n;
  REQUIRE(n.call<caf::ok_atom>(pl::bind_atom_v, pl::vnet_bind{0, 6, 80}));
  auto denied = n.call<caf::ok_atom>(pl::transfer_atom_v, pl::vnet_transfer{5, 6, 80, 5});
  REQUIRE_FALSE(denied);
  CHECK(is_vnet_error(denied.error(), error::not_permitted));
  REQUIRE(n.call<caf::ok_atom>(pl::transfer_atom_v, pl::vnet_transfer{0, 6, 80, 5}));
  CHECK(n.one(tcp(node, 80, host, 1000), 5, false) == pl::vnet_verdict{5, 0});

  REQUIRE(n.call<caf::ok_atom>(pl::blacklist_atom_v,
                               pl::vnet_blacklist{{make_addr(192, 0, 2, 0)}, {24}}));
  CHECK(n.one(udp(node, 1, host, 2), 1, false) ==
        pl::vnet_verdict{no_slice, static_cast<std::uint8_t>(reason::blacklisted)});
  auto bad_prefix = n.call<caf::ok_atom>(pl::blacklist_atom_v, pl::vnet_blacklist{{1}, {8}});
  CHECK(is_vnet_error(bad_prefix.error(), error::bad_prefix));

  auto dev = n.call<std::uint16_t>(pl::pkt_bind_atom_v, pl::vnet_packet_bind{1, "proxy0", 0x0003});
  REQUIRE(dev);
  CHECK(*dev == 1);
  auto busy = n.call<std::uint16_t>(pl::pkt_bind_atom_v, pl::vnet_packet_bind{2, "proxy0", 0x0800});
  CHECK(is_vnet_error(busy.error(), error::device_busy));
  auto promisc =
      n.call<std::uint16_t>(pl::pkt_bind_atom_v, pl::vnet_packet_bind{2, "vnet", 0x0800, true});
  CHECK(is_vnet_error(promisc.error(), error::promiscuous_refused));
  auto eth0 = n.call<std::uint16_t>(pl::pkt_bind_atom_v, pl::vnet_packet_bind{2, "eth0", 0x0800});
  CHECK(is_vnet_error(eth0.error(), error::interface_not_allowed));
  CHECK(n.one(tcp(host, 1, make_addr(10, 0, 1, 9), 445), 0, true) == pl::vnet_verdict{1, 0});
  REQUIRE(n.call<caf::ok_atom>(pl::pkt_free_atom_v, std::uint32_t{1}, std::uint16_t{1}));
  CHECK(n.call<std::uint16_t>(pl::pkt_bind_atom_v, pl::vnet_packet_bind{2, "proxy0", 0x0800}));

  CHECK(n.one(tcp(lo, 40000, lo, 80, tcp_syn), 5, false) == pl::vnet_verdict{5, 0});
  CHECK(n.one(tcp(lo, 41000, lo, 80, tcp_syn), 7, false).reason == 0);
  auto peer = n.call<std::uint32_t>(pl::peer_atom_v, pl::vnet_peer_query{6, lo, 80, lo, 41000});
  REQUIRE(peer);
  CHECK(*peer == 7);
  auto unknown = n.call<std::uint32_t>(pl::peer_atom_v, pl::vnet_peer_query{6, lo, 80, lo, 9});
  CHECK(*unknown == no_slice);
}

TEST_CASE("reports counters per slice and per reason", "[actor]") {
  virtual_node n;
  n.one(udp(node, 1, host, 2, 12), 1, false);
  n.one(udp(make_addr(10, 9, 9, 9), 1, host, 2), 1, false);
  n.one(udp(host, 2, node, 1), 0, true);
  auto c = n.call<pl::vnet_counters>(caf::get_atom_v);
  REQUIRE(c);
  CHECK(c->outbound_accepted == 1);
  CHECK(c->inbound_accepted == 1);
  CHECK(c->connections == 1);
  REQUIRE(c->outbound_rejects.size() == reason_count);
  CHECK(c->outbound_rejects[static_cast<std::size_t>(reason::source_not_local)] == 1);
  REQUIRE(c->slices.size() == 1);
  CHECK(c->slices[0] == pl::vnet_slice_counters{1, 1, 40, 1, 28, 1});
}

TEST_CASE("serialises every vnet record unchanged", "[actor][records]") {
  virtual_node n;
  for (const char* name :
       {"pl::vnet_packet", "pl::vnet_batch", "pl::vnet_verdict", "pl::vnet_verdicts",
        "pl::vnet_bind", "pl::vnet_transfer", "pl::vnet_blacklist", "pl::vnet_packet_bind",
        "pl::vnet_peer_query", "pl::vnet_slice_counters", "pl::vnet_counters"}) {
    INFO(name);
    CHECK(n.sys->types().make_value(name) != nullptr);
  }
  const pl::vnet_packet p{{1, 2, 3}, 7, 1, 1, 2};
  CHECK(round_trip(p) == p);
  const pl::vnet_batch b{{p, pl::vnet_packet{{9}, 3, 0, 0, 0}}};
  CHECK(round_trip(b) == b);
  const pl::vnet_verdicts v{{{1, 0}, {no_slice, 5}}};
  CHECK(round_trip(v) == v);
  CHECK(round_trip(pl::vnet_bind{1, 6, 80}) == pl::vnet_bind{1, 6, 80});
  CHECK(round_trip(pl::vnet_transfer{0, 17, 53, 9}) == pl::vnet_transfer{0, 17, 53, 9});
  const pl::vnet_blacklist bl{{1, 2}, {32, 8}};
  CHECK(round_trip(bl) == bl);
  const pl::vnet_packet_bind pb{4, "proxy0", 3, true};
  CHECK(round_trip(pb) == pb);
  const pl::vnet_peer_query q{6, 1, 2, 3, 4};
  CHECK(round_trip(q) == q);
  const pl::vnet_counters c{{1, 2}, {3}, 4, 5,
                            6,      7,   8, {pl::vnet_slice_counters{1, 2, 3, 4, 5, 6}}};
  CHECK(round_trip(c) == c);
}
