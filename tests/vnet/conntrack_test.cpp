// Connection table tests: probing, backward-shift deletion, expiry and
// eviction, checked against a std::map on random operations.

#include "vnet/conntrack.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <tuple>

using namespace pl::vnet;

namespace {

std::uint64_t test_seed() {
  if (const char* s = std::getenv("PL_SEED"))
    return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

auto as_tuple(const flow_key& k) {
  return std::make_tuple(k.local_addr, k.remote_addr, k.local_port, k.remote_port, k.proto);
}

struct key_less {
  bool operator()(const flow_key& a, const flow_key& b) const { return as_tuple(a) < as_tuple(b); }
};

flow_key random_key(std::mt19937_64& rng, int universe) {
  const auto v = static_cast<std::uint32_t>(rng() % static_cast<std::uint64_t>(universe));
  static constexpr std::uint8_t protos[] = {1, 6, 17};
  return flow_key{make_addr(10, 0, 0, 1), make_addr(192, 0, 2, static_cast<std::uint8_t>(v % 7)),
                  static_cast<std::uint16_t>(v / 21), static_cast<std::uint16_t>(v % 3),
                  protos[v % 3]};
}

} // namespace

TEST_CASE("sizes the table at 1.5 slots per connection", "[conntrack]") {
  bind_table binds;
  conn_table t{1000, timeouts{}, binds, 1};
  CHECK(t.capacity() == 1000);
  CHECK(t.slot_count() >= 1500);
  CHECK(t.slot_count() <= 1502);
  CHECK(t.memory_bytes() == t.slot_count() * 32);
}

TEST_CASE("finds what it stores, with the same hash for equal keys", "[conntrack]") {
  bind_table binds;
  conn_table t{100, timeouts{}, binds, 42};
  const flow_key k{1, 2, 3, 4, 17};
  CHECK(t.find(k, t.hash(k), 0) == nullptr);
  auto [e, created] = t.upsert(k, t.hash(k), 0);
  CHECK(created);
  CHECK(e->owner == no_slice);
  e->owner = 7;
  auto again = t.upsert(k, t.hash(k), 1);
  CHECK_FALSE(again.created);
  CHECK(again.entry->owner == 7);
  REQUIRE(t.find(k, t.hash(k), 1) != nullptr);
  CHECK(t.size() == 1);
  // A different seed hashes differently (remote hosts cannot predict chains).
  bind_table b2;
  conn_table u{100, timeouts{}, b2, 43};
  CHECK(u.hash(k) != t.hash(k));
}

TEST_CASE("matches a map model under random upserts, lookups and expiry", "[conntrack]") {
  const auto seed = test_seed();
  std::cout << "random-seed=" << seed << "\n";
  std::mt19937_64 rng{seed};
  bind_table binds;
  timeouts to;
  to.udp = 50;
  to.tcp = 80;
  to.tcp_closing = 80;
  to.icmp = 30;
  const int universe = 3000;
  // Sized for the whole universe, so nothing is evicted and the map is exact;
  // at two thirds load there are long chains, wrap-around and deletions from
  // the middle of chains.
  conn_table t{static_cast<std::size_t>(universe), to, binds, seed};
  std::map<flow_key, std::pair<slice_id, time_ns>, key_less> model;
  const auto timeout = [&](const flow_key& k) {
    return k.proto == 6 ? to.tcp : k.proto == 17 ? to.udp : to.icmp;
  };
  time_ns now = 1000;
  for (int step = 0; step < 200000; ++step) {
    const auto k = random_key(rng, universe);
    const auto h = t.hash(k);
    auto m = model.find(k);
    const bool live = m != model.end() && now - m->second.second < timeout(k);
    switch (rng() % 4) {
    case 0:
    case 1: {
      auto [e, created] = t.upsert(k, h, now);
      REQUIRE(created == !live);
      if (!created)
        REQUIRE(e->owner == m->second.first);
      e->owner = static_cast<slice_id>(step);
      e->last_seen = now;
      model[k] = {e->owner, now};
      break;
    }
    case 2: {
      const conn_entry* e = t.find(k, h, now);
      REQUIRE((e != nullptr) == live);
      if (e)
        REQUIRE(e->owner == m->second.first);
      break;
    }
    default:
      if (rng() % 50 == 0)
        t.expire(now, rng() % 2000);
      now += static_cast<time_ns>(rng() % 3);
      break;
    }
    REQUIRE(t.size() <= t.capacity());
  }
  // A full sweep leaves exactly the live keys.
  t.expire(now, 10 * t.slot_count());
  std::size_t live_count = 0;
  for (const auto& [k, v] : model)
    if (now - v.second < timeout(k)) {
      ++live_count;
      REQUIRE(t.find(k, t.hash(k), now) != nullptr);
    }
  CHECK(t.size() == live_count);
}

TEST_CASE("never invents entries under eviction pressure", "[conntrack][evict]") {
  const auto seed = test_seed();
  std::cout << "random-seed=" << seed << "\n";
  std::mt19937_64 rng{seed};
  bind_table binds;
  for (std::uint16_t p = 0; p < 200; p += 3)
    REQUIRE(binds.bind(1, protocol::udp, p) == error::none);
  conn_table t{64, timeouts{}, binds, seed};
  std::map<flow_key, slice_id, key_less> model; // last owner written per key
  std::uint64_t creations = 0;
  for (int step = 0; step < 100000; ++step) {
    const auto k = random_key(rng, 4000);
    auto [e, created] = t.upsert(k, t.hash(k), 1);
    creations += created ? 1 : 0;
    if (!created)
      REQUIRE(model.at(k) == e->owner);
    e->owner = static_cast<slice_id>(step);
    e->flags |= (step % 2) ? conn_referenced : 0;
    model[k] = e->owner;
    REQUIRE(t.size() <= 64);
  }
  std::size_t found = 0;
  t.for_each([&](const conn_entry& e) {
    REQUIRE(model.at(e.key) == e.owner);
    REQUIRE(t.find(e.key, t.hash(e.key), 1) == &e);
    ++found;
  });
  CHECK(found == 64);
  CHECK(t.evictions() == creations - 64);
  CHECK(t.bound_evictions() < t.evictions());
}
