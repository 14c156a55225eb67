// The node's ticket desk without actors or sockets: verification through the
// desk, delivery as the last step before recording, revocations of single
// tickets, the entry cap, and the state file across reopenings.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "actors/clock.hpp"
#include "actors/ticket.hpp"
#include "node/ticket_desk.hpp"
#include "tests/node/api_test_support.hpp"

using namespace pl;
using namespace pl::node;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1'400'000'000;

struct desk_fixture {
  test::scratch tmp;
  manual_clock clock{clock::time_point{std::chrono::seconds{t0}}};
  signing_key key = *signing_key::generate();

  ticket_desk_config config(std::size_t capacity = 100) const {
    ticket_desk_config c;
    c.node_id = 3;
    c.keys.add(key.public_key());
    c.capacity = capacity;
    c.state_file = tmp.dir / "tickets.state";
    return c;
  }

  std::unique_ptr<ticket_desk> open(std::size_t capacity = 100) {
    auto d = ticket_desk::open(config(capacity), clock);
    if (!d)
      FAIL(d.error());
    return std::move(*d);
  }

  signed_ticket issue(const std::string& slice, std::int64_t lifetime = 600) {
    sliver_ticket body;
    body.slice_name = slice;
    body.slice_id = 1;
    body.instantiation = "delegated";
    body.node_ids = {3};
    body.expires = clock.now_epoch() + lifetime;
    auto t = issue_ticket(body, key, clock);
    REQUIRE(t);
    return *t;
  }

  std::string state() const {
    std::ifstream in{tmp.dir / "tickets.state"};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

const ticket_desk::deliver_fn deliver_ok = [](const signed_ticket&) { return std::string{}; };

} // namespace

TEST_CASE("a ticket is delivered after every check and recorded after delivery", "[ticket_desk]") {
  desk_fixture f;
  auto desk = f.open();
  auto t = f.issue("pl_a");
  int delivered = 0;
  auto r = desk->redeem(t.text(), [&](const signed_ticket& got) {
    ++delivered;
    CHECK(got.body == t.body);
    CHECK(desk->redeemed() == 0); // not yet recorded while delivering
    return std::string{};
  });
  CHECK(r.redeemed());
  CHECK(delivered == 1);
  CHECK(desk->redeemed() == 1);
  CHECK(desk->check(t.text()).verdict == ticket_verdict::replayed);
  auto again = desk->redeem(t.text(), [&](const signed_ticket&) {
    ++delivered;
    return std::string{};
  });
  CHECK(again.check.verdict == ticket_verdict::replayed);
  CHECK(delivered == 1);
  // A refused delivery records nothing.
  auto u = f.issue("pl_b");
  auto refused = desk->redeem(u.text(), [](const signed_ticket&) { return std::string{"no"}; });
  CHECK_FALSE(refused.redeemed());
  CHECK(refused.delivery_error == "no");
  CHECK(desk->check(u.text()).valid());
}

TEST_CASE("single revoked tickets and slice revocations survive a reopening", "[ticket_desk]") {
  desk_fixture f;
  auto t = f.issue("pl_a");
  auto u = f.issue("pl_b");
  auto v = f.issue("pl_c", 1200);
  {
    auto desk = f.open();
    CHECK_FALSE(desk->revoke_nonce(t.body.nonce, t.body.expires));
    CHECK_FALSE(desk->revoke_slice("pl_b", f.clock.now_epoch(), f.clock.now_epoch() + 600));
    CHECK(desk->redeem(v.text(), deliver_ok).redeemed());
    CHECK(desk->size() == 3);
  }
  CHECK_THAT(f.state(), Catch::StartsWith("pl-ticket-state 1\n"));
  CHECK_FALSE(std::filesystem::exists(f.tmp.dir / "tickets.state.tmp"));
  auto desk = f.open();
  CHECK(desk->check(t.text()).verdict == ticket_verdict::revoked);
  CHECK(desk->check(u.text()).verdict == ticket_verdict::revoked);
  CHECK(desk->check(v.text()).verdict == ticket_verdict::replayed);
  // A ticket of pl_b issued after the revocation is good.
  f.clock.advance(10s);
  CHECK(desk->check(f.issue("pl_b").text()).valid());
  // After expiry plus skew everything is pruned, also on disk.
  f.clock.advance(1200s + 300s);
  CHECK_FALSE(desk->revoke_slice("pl_zz", f.clock.now_epoch(), f.clock.now_epoch() + 60));
  CHECK(desk->size() == 1);
  auto reopened = f.open();
  CHECK(reopened->size() == 1);
}

TEST_CASE("a full desk refuses rather than forgets", "[ticket_desk]") {
  desk_fixture f;
  auto desk = f.open(1);
  CHECK(desk->redeem(f.issue("pl_a").text(), deliver_ok).redeemed());
  int delivered = 0;
  auto r = desk->redeem(f.issue("pl_b").text(), [&](const signed_ticket&) {
    ++delivered;
    return std::string{};
  });
  CHECK(r.check.verdict == ticket_verdict::guard_full);
  CHECK(delivered == 0);
  CHECK(desk->revoke_slice("pl_c", f.clock.now_epoch(), f.clock.now_epoch() + 60).has_value());
}

TEST_CASE("a state file that is not one is refused with its line", "[ticket_desk]") {
  desk_fixture f;
  auto write = [&](const std::string& text) {
    std::ofstream out{f.tmp.dir / "tickets.state"};
    out << text;
  };
  std::vector<std::pair<std::string, std::string>> bad = {
      {"", ":1:"},
      {"something else\n", ":1:"},
      {"pl-ticket-state 1\nredeemed 00 1 2 -\n", ":2: malformed redeemed"},
      {"pl-ticket-state 1\n\nrevoked-nonce 00112233445566778899aabbccddeeff x\n", ":3:"},
      {"pl-ticket-state 1\nrevoked-slice 1 2 zz\n", ":2:"},
      {"pl-ticket-state 1\nforgotten 1\n", "unknown entry"},
  };
  for (const auto& [text, why] : bad) {
    write(text);
    auto d = ticket_desk::open(f.config(), f.clock);
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error(), Catch::Contains(why));
  }
  write("pl-ticket-state 1\n");
  CHECK(ticket_desk::open(f.config(), f.clock));
}

TEST_CASE("verification verdicts come through the desk", "[ticket_desk]") {
  desk_fixture f;
  auto desk = f.open();
  CHECK(desk->check("pltk1:AAAA").verdict == ticket_verdict::malformed);
  sliver_ticket other_node;
  other_node.slice_name = "pl_a";
  other_node.instantiation = "delegated";
  other_node.node_ids = {4};
  other_node.expires = f.clock.now_epoch() + 60;
  CHECK(desk->check(issue_ticket(other_node, f.key, f.clock)->text()).verdict ==
        ticket_verdict::wrong_node);
  auto stranger = *signing_key::generate();
  other_node.node_ids = {3};
  auto foreign = issue_ticket(other_node, stranger, f.clock)->text();
  CHECK(desk->check(foreign).verdict == ticket_verdict::unknown_key);
  desk->add_key(stranger.public_key());
  CHECK(desk->check(foreign).valid());
}
