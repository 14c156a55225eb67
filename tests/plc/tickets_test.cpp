// GetSliceTicket through the dispatcher on the scratch database: PLCAPI
// 5.x's roles and the original's permission rule, the slice rules, and the
// ticket itself: it verifies with PLC's public key through actors/'s
// verifier, carries the slice's sliver record, is refused when tampered with,
// and never outlives the ticket lifetime or the slice.
#include "slice_world.hpp"

#include "plc/api/tickets.hpp"

#include "actors/ticket.hpp"
#include "actors/ticket_guard.hpp"

#include <algorithm>
#include <mutex>

using namespace pl::test;
using namespace std::chrono_literals;
namespace plc = pl::plc;

namespace {

/// Returns an ssh-ed25519 public key line unique to `seed`.
std::string ssh_key(const std::string& seed) {
  auto wire = [](const std::string& s) {
    std::string len(4, '\0');
    for (int k = 0; k < 4; ++k)
      len[k] = static_cast<char>((s.size() >> (24 - 8 * k)) & 0xff);
    return len + s;
  };
  std::string point(32, 'k');
  std::copy_n(seed.begin(), std::min<std::size_t>(seed.size(), 32), point.begin());
  auto blob = wire("ssh-ed25519") + wire(point);
  return "ssh-ed25519 " +
         pl::base64_encode({reinterpret_cast<const std::uint8_t*>(blob.data()), blob.size()}) +
         " " + seed + "@example.org";
}

/// The slice world plus a second dispatcher that has a ticket authority with
/// a fresh key; `issued` records what the authority was told.
struct ticket_world : slice_world {
  pl::signing_key key = *pl::signing_key::generate();
  std::mutex mutex;
  std::vector<pl::ticket> issued;
  plc::api::key_ticket_authority authority{key, clock, std::chrono::hours(24),
                                           [this](const pl::ticket& t) {
                                             std::lock_guard guard{mutex};
                                             issued.push_back(t);
                                           }};
  plc::api::dispatcher tapi{services()};
  plc::api::dispatcher untapi{services()}; // tickets off
  int n1 = 0, n2 = 0, n3 = 0;
  int sl = 0;
  std::string user_key, disabled_key;

  plc::api::services services() {
    plc::api::services svc;
    svc.db = &pool;
    svc.clock = &clock;
    svc.mail = &mail;
    return svc;
  }

  ticket_world() {
    plc::api::add_auth_methods(tapi);
    plc::api::add_ticket_methods(tapi, &authority);
    plc::api::add_auth_methods(untapi);
    plc::api::add_ticket_methods(untapi, nullptr);
    n1 = add_node(site_a, "t1");
    n2 = add_node(site_a, "t2");
    n3 = add_node(site_b, "t3");
    sl = add_slice("pi", "tk");
    ok("pi", "AddPersonToSlice", {i(id_of("user")), i(sl)});
    ok("admin", "AddSliceToNodes", {i(sl), arr({i(n1), i(n2)})});
    user_key = ssh_key("u" + sfx);
    ok("user", "AddPersonKey",
       {i(id_of("user")), obj({{"key_type", s("ssh")}, {"key", s(user_key)}})});
    // A disabled member's keys stay out of the ticket.
    add_actor("off", {30}, base_a);
    disabled_key = ssh_key("o" + sfx);
    ok("admin", "AddPersonKey",
       {i(id_of("off")), obj({{"key_type", s("ssh")}, {"key", s(disabled_key)}})});
    ok("pi", "AddPersonToSlice", {i(id_of("off")), i(sl)});
    ok("admin", "UpdatePerson", {i(id_of("off")), obj({{"enabled", b(false)}})});
    ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("64")});
    ok("admin", "AddSliceTag", {i(sl), s("cpu_share"), s("7"), i(n1)}); // per node: not in it
    ok("admin", "AddSliceTag", {i(sl), s("vref"), s("f39")});
  }

  outcome ticket_call(plc::api::dispatcher& via, const std::string& actor, const xv& which) {
    xmlrpc_c::paramList params;
    params.add(auth(actor));
    params.add(which);
    std::string xml;
    xmlrpc_c::xml::generateCall("GetSliceTicket", params, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(via.handle(xml, "127.0.0.1"), &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    return {true, static_cast<int>(out.getFault().getCode()), out.getFault().getDescription(), {}};
  }

  /// Gets a ticket as `actor` and requires success; returns its text.
  std::string get_ticket(const std::string& actor, const xv& which) {
    auto r = ticket_call(tapi, actor, which);
    INFO(actor << ": " << r.text);
    REQUIRE_FALSE(r.is_fault);
    return str_of(r.value);
  }

  int ticket_fault(const std::string& actor, const xv& which) {
    auto r = ticket_call(tapi, actor, which);
    return r.is_fault ? r.code : 0;
  }

  pl::ticket_check verify(const std::string& text, std::optional<std::int32_t> node) {
    return pl::verify_ticket(text, pl::ticket_keyring{key.public_key()}, clock, {.node_id = node});
  }
};

} // namespace

TEST_CASE_METHOD(ticket_world,
                 "GetSliceTicket: admins any slice, members theirs, PIs their sites'") {
  CHECK_FALSE(get_ticket("admin", i(sl)).empty());
  CHECK_FALSE(get_ticket("pi", i(sl)).empty());                    // PI of the slice's site
  CHECK_FALSE(get_ticket("user", s(sname(base_a, "tk"))).empty()); // member, by name
  CHECK(ticket_fault("user_b", i(sl)) == 108);                     // not a member
  CHECK(ticket_fault("pi_b", i(sl)) == 108);                       // PI of another site
  add_actor("lonely", {30}, base_a);
  CHECK(ticket_fault("lonely", i(sl)) == 108); // a user of the site, not a member
  CHECK(ticket_fault("tech", i(sl)) == 103);   // not among the roles
  CHECK(ticket_fault("anonymous", i(sl)) == 103);
  // A PI over the site through an organization may.
  int org = int_of(ok("admin", "AddOrganization", {obj({{"name", s("tkorg" + sfx)}})}));
  ok("admin", "AddSiteToOrganization", {i(site_a), i(org)});
  ok("admin", "AddPersonToOrganization", {i(id_of("pi_b")), i(org)});
  CHECK_FALSE(get_ticket("pi_b", i(sl)).empty());
  // Unknown, deleted and expired slices are "No such slice"; a bad argument is 102.
  CHECK(ticket_fault("admin", i(999999)) == 102);
  CHECK(ticket_fault("admin", s("nosuch_slice")) == 102);
  CHECK(ticket_fault("admin", d(1.5)) == 102);
  int gone = add_slice("pi", "gone");
  ok("admin", "AddSliceToNodes", {i(gone), arr({i(n1)})});
  ok("pi", "DeleteSlice", {i(gone)});
  CHECK(ticket_fault("admin", i(gone)) == 102);
  std::lock_guard guard{mutex};
  CHECK(issued.size() == 4); // one record per ticket handed out
}

TEST_CASE_METHOD(ticket_world,
                 "GetSliceTicket refuses slices that grant nothing; off without a key") {
  // Not instantiated: no sliver anywhere.
  int placeholder = add_slice("pi", "ph", {{"instantiation", s("not-instantiated")}});
  ok("admin", "AddSliceToNodes", {i(placeholder), arr({i(n1)})});
  auto r = ticket_call(tapi, "admin", i(placeholder));
  CHECK(r.code == 102);
  CHECK_THAT(r.text, Catch::Contains("not instantiated"));
  // No nodes: nowhere to redeem it.
  int bare = add_slice("pi", "bare");
  r = ticket_call(tapi, "pi", i(bare));
  CHECK(r.code == 102);
  CHECK_THAT(r.text, Catch::Contains("has no nodes"));
  // Without a ticket key: 109, saying so.
  r = ticket_call(untapi, "admin", i(sl));
  CHECK(r.code == 109);
  CHECK_THAT(r.text, Catch::Contains("not configured"));
  std::lock_guard guard{mutex};
  CHECK(issued.empty());
}

TEST_CASE_METHOD(ticket_world, "A ticket verifies with PLC's key and carries the sliver record") {
  auto text = get_ticket("user", i(sl));
  CHECK(text.rfind("pltk1:", 0) == 0);
  auto check = verify(text, n1);
  INFO(check.message);
  REQUIRE(check.valid());
  const auto& t = check.ticket->body;
  CHECK(t.slice_name == sname(base_a, "tk"));
  CHECK(t.slice_id == sl);
  CHECK(t.instantiation == "plc-instantiated");
  CHECK_FALSE(t.any_node);
  auto nodes = std::vector<std::int32_t>{n1, n2};
  std::sort(nodes.begin(), nodes.end());
  CHECK(t.node_ids == nodes);
  CHECK(t.keys == std::vector<std::string>{user_key}); // the disabled member's key is left out
  // Slice-wide tags only: the per-node cpu_share of node 1 is GetSlivers' business.
  CHECK(t.attributes == std::map<std::string, std::string>{{"cpu_share", "64"}, {"vref", "f39"}});
  CHECK(t.issued == now());
  CHECK(t.key_id == key.id());
  CHECK(verify(text, n2).valid());
  // Another node, another key, another PLC: refused with the reason.
  CHECK(verify(text, n3).verdict == pl::ticket_verdict::wrong_node);
  auto other = *pl::signing_key::generate();
  CHECK(pl::verify_ticket(text, pl::ticket_keyring{other.public_key()}, clock, {}).verdict ==
        pl::ticket_verdict::unknown_key);

  // The record the authority was told about matches the text.
  {
    std::lock_guard guard{mutex};
    REQUIRE(issued.size() == 1);
    const auto& rec = issued[0];
    auto parsed = pl::parse_ticket(text);
    REQUIRE(parsed);
    CHECK(rec.blob == parsed->blob());
    CHECK(rec.slice_name == t.slice_name);
    CHECK(rec.node_ids == t.node_ids);
    CHECK(rec.expires == t.expires);
    CHECK(rec.nonce == pl::to_hex(t.nonce));
    CHECK(rec.key_id == pl::to_hex(t.key_id));
    CHECK(rec.sliver.slice_id == sl);
    CHECK(rec.sliver.resources.value_of("cpu_share") == 64);
    CHECK(rec.sliver.vref == "f39");
  }

  // Two tickets of one slice differ in their nonce; a node redeems each once.
  auto again = get_ticket("user", i(sl));
  CHECK(again != text);
  pl::ticket_verifier node{pl::ticket_keyring{key.public_key()}, clock, {.node_id = n1}};
  CHECK(node.redeem(text).valid());
  CHECK(node.redeem(text).verdict == pl::ticket_verdict::replayed);
  CHECK(node.redeem(again).valid());
}

TEST_CASE_METHOD(ticket_world, "A tampered ticket is refused") {
  auto text = get_ticket("admin", i(sl));
  auto parsed = pl::parse_ticket(text);
  REQUIRE(parsed);
  // Longer expiry, an extra node, a raised share: each re-encoded under the
  // original signature.
  std::vector<std::function<void(pl::sliver_ticket&)>> edits{
      [](pl::sliver_ticket& t) { t.expires += 86400; },
      [this](pl::sliver_ticket& t) { t.node_ids.push_back(n3); },
      [](pl::sliver_ticket& t) { t.attributes["cpu_share"] = "1024"; },
      [](pl::sliver_ticket& t) { t.any_node = true, t.node_ids.clear(); },
  };
  for (std::size_t k = 0; k < edits.size(); ++k) {
    INFO("edit " << k);
    pl::signed_ticket forged = *parsed;
    edits[k](forged.body);
    forged.encoding = pl::encode_ticket(forged.body);
    CHECK(verify(forged.text(), n1).verdict == pl::ticket_verdict::bad_signature);
  }
  // Any changed character of the text.
  std::string flipped = text;
  auto pos = flipped.size() / 2;
  flipped[pos] = flipped[pos] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify(flipped, n1).valid());
  CHECK(verify(text, n1).valid());
}

TEST_CASE_METHOD(ticket_world,
                 "A ticket expires with the lifetime or the slice, whichever is first") {
  // The slice expires in two weeks; the lifetime is a day.
  auto day_long = get_ticket("admin", i(sl));
  CHECK(verify(day_long, n1).ticket->body.expires == now() + 24 * 3600);
  // A slice expiring sooner than the lifetime: the slice's expiry.
  ok("admin", "UpdateSlice", {i(sl), obj({{"expires", i(static_cast<int>(now() + 3600))}})});
  auto hour_long = get_ticket("admin", i(sl));
  CHECK(verify(hour_long, n1).ticket->body.expires == now() + 3600);
  // Past that expiry plus the skew allowance (300 s), nodes refuse it.
  clock.advance(std::chrono::seconds(3600 + 299));
  CHECK(verify(hour_long, n1).valid());
  clock.advance(std::chrono::seconds(1));
  CHECK(verify(hour_long, n1).verdict == pl::ticket_verdict::expired);
  CHECK(verify(day_long, n1).valid());
}
