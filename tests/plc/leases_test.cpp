// Leases of reservable nodes (PLCAPI 5.x AddLeases, GetLeases with its
// LeaseFilter, UpdateLeases, DeleteLeases, GetLeaseGranularity).
#include "slice_world.hpp"

using namespace pl::test;

namespace {

struct lease_world : slice_world {
  static constexpr std::int64_t g = pl::plc::api::default_lease_granularity;
  // The manual clock starts 1000 s past a multiple of 1800: slot k starts at
  // base + k * g.
  static constexpr std::int64_t base = t0 - t0 % g + g;
  int sl = 0, other = 0;
  int r1 = 0, r2 = 0, plain = 0;

  lease_world() {
    sl = add_slice("pi", "lease");
    ok("pi", "AddPersonToSlice", {i(id_of("user")), i(sl)});
    other = int_of(ok("pi_b", "AddSlice", {obj({{"name", s(base_b + "_lease")}})}));
    r1 = add_node(site_a, "r1", "reservable");
    r2 = add_node(site_b, "r2", "reservable");
    plain = add_node(site_a, "plain");
  }

  std::int64_t slot(int k) const { return base + k * g; }

  xv add_leases(const std::string& actor, const xv& nodes, int slice_id, std::int64_t from,
                std::int64_t until) {
    return ok(actor, "AddLeases",
              {nodes, i(slice_id), i(static_cast<int>(from)), i(static_cast<int>(until))});
  }

  xv lease(int lease_id) {
    auto rows = items(ok("anonymous", "GetLeases", {i(lease_id)}));
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
};

} // namespace

TEST_CASE_METHOD(lease_world, "GetLeaseGranularity is PLCAPI's default, for everybody") {
  for (const char* actor : {"anonymous", "user", "tech", "admin"})
    CHECK(int_of(ok(actor, "GetLeaseGranularity", {})) == 1800);
}

TEST_CASE_METHOD(lease_world, "AddLeases rounds to the granularity and refuses overlaps") {
  // t_from rounds up, t_until down.
  auto r = add_leases("user", arr({i(r1)}), sl, slot(0) - 1, slot(2) + 1);
  CHECK(items(member(r, "errors")).empty());
  auto new_ids = ints(member(r, "new_ids"));
  REQUIRE(new_ids.size() == 1);
  auto row = lease(new_ids[0]);
  CHECK(int_of(member(row, "t_from")) == slot(0));
  CHECK(int_of(member(row, "t_until")) == slot(2));
  CHECK(int_of(member(row, "duration")) == 2 * g);
  CHECK(int_of(member(row, "node_id")) == r1);
  CHECK(str_of(member(row, "hostname")) == host("r1"));
  CHECK(str_of(member(row, "node_type")) == "reservable");
  CHECK(int_of(member(row, "slice_id")) == sl);
  CHECK(str_of(member(row, "name")) == base_a + "_lease");
  CHECK(int_of(member(row, "site_id")) == site_a);
  CHECK(member(row, "expired").type() == xv::TYPE_BOOLEAN);
  CHECK_FALSE(xmlrpc_c::value_boolean(member(row, "expired")).cvalue());
  // An overlapping slot on r1 is an error in the reply; r2 still gets its lease.
  auto both = ok("pi", "AddLeases",
                 {arr({s(host("r1")), i(r2)}), s(base_a + "_lease"), s("2001-09-09 02:30:00"),
                  s("2001-09-09 04:00")});
  CHECK(ints(member(both, "new_ids")).size() == 1);
  auto errors = items(member(both, "errors"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(str_of(errors[0]), Catch::Contains("Timeslot busy"));
  // Adjacent slots do not overlap.
  CHECK(ints(member(add_leases("user", i(r1), sl, slot(2), slot(3)), "new_ids")).size() == 1);
  // Refusals: not reservable, empty once rounded, unknown node, bad time text.
  CHECK(fault("user", "AddLeases", {i(plain), i(sl), i(int(slot(5))), i(int(slot(6)))}) == 102);
  CHECK(fault("user", "AddLeases", {i(r1), i(sl), i(int(slot(5) + 1)), i(int(slot(6) - 1))}) ==
        102);
  CHECK(fault("user", "AddLeases", {i(999999), i(sl), i(int(slot(5))), i(int(slot(6)))}) == 102);
  CHECK(fault("user", "AddLeases", {i(r1), i(sl), s("tomorrow"), i(int(slot(6)))}) == 102);
  // Rights: members and the site's PIs, not others.
  CHECK(fault("user_b", "AddLeases", {i(r1), i(sl), i(int(slot(8))), i(int(slot(9)))}) == 108);
  CHECK(fault("pi_b", "AddLeases", {i(r1), i(sl), i(int(slot(8))), i(int(slot(9)))}) == 108);
  CHECK(fault("tech", "AddLeases", {i(r1), i(sl), i(int(slot(8))), i(int(slot(9)))}) == 103);
  CHECK(ids("anonymous", "GetLeases", {obj({{"node_id", i(r1)}})}, "lease_id").size() == 2);
}

TEST_CASE_METHOD(lease_world, "GetLeases filters: alive, clip, day, and ordinary fields") {
  int a = ints(member(add_leases("user", i(r1), sl, slot(0), slot(2)), "new_ids"))[0];
  int b_ = ints(member(add_leases("pi_b", i(r1), other, slot(4), slot(6)), "new_ids"))[0];
  using v = std::vector<int>;
  auto get = [&](std::map<std::string, xv> f) {
    f.emplace("node_id", i(r1));
    return ids("anonymous", "GetLeases", {obj(f)}, "lease_id");
  };
  CHECK(get({{"alive", i(int(slot(1)))}}) == v{a});
  CHECK(get({{"alive", i(int(slot(3)))}}).empty());
  CHECK(get({{"alive", arr({i(int(slot(1))), i(int(slot(5)))})}}) == v{a, b_});
  CHECK(get({{"~alive", i(int(slot(1)))}}) == v{b_});
  CHECK(get({{"clip", i(int(slot(3)))}}) == v{b_});
  CHECK(get({{"clip", arr({i(int(slot(3))), i(int(slot(3) + 60))})}}).empty());
  CHECK(get({{"day", i(0)}}) == v{a, b_});
  CHECK(get({{"slice_id", i(other)}}) == v{b_});
  CHECK(get({{"name", s(base_a + "_lease")}}) == v{a});
  CHECK(fault("anonymous", "GetLeases", {obj({{"clip", i(1)}, {"day", i(1)}})}) == 102);
  CHECK(fault("anonymous", "GetLeases", {obj({{"alive", arr({i(1)})}})}) == 102);
  CHECK(fault("anonymous", "GetLeases", {obj({{"bogus", i(1)}})}) == 102);
  auto few = items(ok("anonymous", "GetLeases", {arr({i(a)}), arr({s("t_from")})}))[0];
  CHECK(keys_of(few) == std::set<std::string>{"t_from"});
  // A lease whose slot ended is expired, and no longer blocks the slot.
  CHECK(ints(member(add_leases("user", i(r1), sl, slot(1), slot(2)), "new_ids")).empty());
  clock.advance(std::chrono::seconds{slot(2) - now() + 1});
  CHECK(xmlrpc_c::value_boolean(member(lease(a), "expired")).cvalue());
  CHECK(ints(member(add_leases("user", i(r1), sl, slot(1), slot(2)), "new_ids")).size() == 1);
}

TEST_CASE_METHOD(lease_world, "UpdateLeases moves slots; DeleteLeases removes them") {
  int a = ints(member(add_leases("user", i(r1), sl, slot(0), slot(2)), "new_ids"))[0];
  int b_ = ints(member(add_leases("pi_b", i(r1), other, slot(4), slot(6)), "new_ids"))[0];
  auto update = [&](const std::string& actor, const xv& ids_arg, std::map<std::string, xv> f) {
    return ok(actor, "UpdateLeases", {ids_arg, obj(f)});
  };
  auto r = update("user", i(a), {{"t_until", i(int(slot(3)))}});
  CHECK(ints(member(r, "updated_ids")) == std::vector<int>{a});
  CHECK(int_of(member(lease(a), "t_until")) == slot(3));
  // duration with t_from; 'duration': 0 keeps the length.
  update("user", arr({i(a)}), {{"t_from", i(int(slot(1)))}, {"duration", i(int(g))}});
  CHECK(int_of(member(lease(a), "t_until")) == slot(2));
  update("user", i(a), {{"t_until", i(int(slot(4)))}, {"duration", i(0)}});
  CHECK(int_of(member(lease(a), "t_from")) == slot(3));
  // Overlapping b: an error, the lease unchanged.
  auto busy = update("user", i(a), {{"t_until", i(int(slot(5)))}});
  CHECK(ints(member(busy, "updated_ids")).empty());
  CHECK(items(member(busy, "errors")).size() == 1);
  CHECK(int_of(member(lease(a), "t_until")) == slot(4));
  CHECK(fault("user", "UpdateLeases",
              {i(a), obj({{"t_from", i(1)}, {"t_until", i(2)}, {"duration", i(3)}})}) == 102);
  // Rights: the lease's slice decides.
  CHECK(fault("user", "UpdateLeases", {i(b_), obj({{"t_until", i(int(slot(7)))}})}) == 108);
  CHECK(fault("user", "DeleteLeases", {arr({i(a), i(b_)})}) == 108);
  CHECK(items(ok("anonymous", "GetLeases", {arr({i(a), i(b_)})})).size() == 2);
  CHECK(fault("user", "DeleteLeases", {arr({i(a), i(999999)})}) == 102);
  CHECK(fault("user", "DeleteLeases", {i(a)}) == 0);
  CHECK(items(ok("anonymous", "GetLeases", {i(a)})).empty());
  // DeleteSlice and DeleteNode take their leases along.
  int c = ints(member(add_leases("pi_b", i(r2), other, slot(0), slot(1)), "new_ids"))[0];
  ok("pi_b", "DeleteSlice", {i(other)});
  CHECK(items(ok("anonymous", "GetLeases", {arr({i(b_), i(c)})})).empty());
  int d_ = ints(member(add_leases("user", i(r2), sl, slot(0), slot(1)), "new_ids"))[0];
  ok("admin", "DeleteNode", {i(r2)});
  CHECK(items(ok("admin", "GetLeases", {i(d_)})).empty());
}
