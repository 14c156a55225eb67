// Loans: node manager 1.5's loanable resources and minimums, lending only
// what PLC gave, refusals with reasons, and loans through the reconciler
// (effective rspec = rspec - lent + borrowed, then overrides).
#include <catch2/catch.hpp>

#include "drivers/mechanism_driver.hpp"
#include "node/loans.hpp"
#include "node/reconciler.hpp"

using namespace pl;
using namespace pl::node;

namespace {

rspec with(std::map<std::string, std::int64_t> values) {
  auto x = default_rspec();
  for (const auto& [k, v] : values)
    x.values[k] = v;
  return x;
}

loan lend(const std::string& from, const std::string& to, const std::string& res,
          std::int64_t amount) {
  return {from, to, res, amount};
}

std::string text(const caf::error& err) {
  return drivers::describe(err);
}

} // namespace

TEST_CASE("a loan moves a resource from lender to borrower, down to the lender's minimum") {
  std::map<std::string, rspec> given{{"pl_a", with({{"cpu_share", 100}})}, {"pl_b", with({})}};
  auto out = apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "cpu_share", 40)}}});
  CHECK(out.inactive.empty());
  CHECK(out.effective.at("pl_a").value_of("cpu_share") == 60);
  CHECK(out.effective.at("pl_b").value_of("cpu_share") == 72);
  // Everything else is untouched and complete.
  CHECK(out.effective.at("pl_b").values.size() == default_rspec().values.size());
  CHECK(out.effective.at("pl_a").value_of("net_max_rate") == 1'000'000);

  // cpu_share's minimum is 32: 68 is all pl_a can lend.
  out = apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "cpu_share", 68)}}});
  CHECK(out.inactive.empty());
  CHECK(out.effective.at("pl_a").value_of("cpu_share") == 32);
  out = apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "cpu_share", 69)}}});
  REQUIRE(out.inactive.size() == 1);
  CHECK(out.inactive[0].lender == "pl_a");
  CHECK(out.inactive[0].code == errc::insufficient_allocation);
  CHECK(out.inactive[0].reason ==
        "pl_a cannot lend 69 cpu_share: it has 100 of its own left and keeps at least 32");
  // An inactive loan changes nothing.
  CHECK(out.effective.at("pl_a").value_of("cpu_share") == 100);
  CHECK(out.effective.at("pl_b").value_of("cpu_share") == 32);
}

TEST_CASE("loans of one lender add up against what PLC gave it") {
  std::map<std::string, rspec> given{
      {"pl_a", with({{"cpu_share", 100}})}, {"pl_b", with({})}, {"pl_c", with({})}};
  auto out = apply_loans(
      given, {{"pl_a",
               {lend("pl_a", "pl_b", "cpu_share", 30), lend("pl_a", "pl_c", "cpu_share", 30),
                lend("pl_a", "pl_c", "cpu_share", 10)}}});
  // 30 + 30 leave 40, of which 8 may still go: the third loan does not apply.
  REQUIRE(out.inactive.size() == 1);
  CHECK(out.inactive[0].item == lend("pl_a", "pl_c", "cpu_share", 10));
  CHECK(out.inactive[0].reason ==
        "pl_a cannot lend 10 cpu_share: it has 40 of its own left and keeps at least 32");
  CHECK(out.effective.at("pl_a").value_of("cpu_share") == 40);
  CHECK(out.effective.at("pl_b").value_of("cpu_share") == 62);
  CHECK(out.effective.at("pl_c").value_of("cpu_share") == 62);
}

TEST_CASE("what a sliver borrowed cannot be lent on") {
  std::map<std::string, rspec> given{
      {"pl_a", with({{"cpu_share", 100}})}, {"pl_b", with({})}, {"pl_c", with({})}};
  auto out = apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "cpu_share", 60)}},
                                 {"pl_b", {lend("pl_b", "pl_c", "cpu_share", 1)}}});
  REQUIRE(out.inactive.size() == 1);
  CHECK(out.inactive[0].lender == "pl_b");
  CHECK(out.inactive[0].reason ==
        "pl_b cannot lend 1 cpu_share: it has 32 of its own left and keeps at least 32");
  CHECK(out.effective.at("pl_b").value_of("cpu_share") == 92);
  CHECK(out.effective.at("pl_c").value_of("cpu_share") == 32);
}

TEST_CASE("only node manager 1.5's loanable resources can be lent, each with its minimum") {
  std::map<std::string, rspec> given{{"pl_a", with({{"net_max_rate", 1000}, {"cpu_pct", 40}})},
                                     {"pl_b", with({})}};
  for (const char* res : {"disk_max", "mem_limit", "net_i2_share", "net_max_kbyte", "nonsense"}) {
    auto out = apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", res, 1)}}});
    REQUIRE(out.inactive.size() == 1);
    CHECK(out.inactive[0].code == errc::not_loanable);
    CHECK(out.inactive[0].reason == std::string{res} + " cannot be lent");
  }
  // net_max_rate keeps 8 kbps; cpu_pct and the guarantees can go to 0.
  CHECK(
      apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "net_max_rate", 992)}}}).inactive.empty());
  CHECK(
      apply_loans(given, {{"pl_a", {lend("pl_a", "pl_b", "net_max_rate", 993)}}}).inactive.size() ==
      1);
  auto out = apply_loans(
      given, {{"pl_a",
               {lend("pl_a", "pl_b", "cpu_pct", 40), lend("pl_a", "pl_b", "net_min_rate", 1),
                lend("pl_a", "pl_b", "net_share", 0)}}});
  CHECK(out.inactive.empty());
  CHECK(out.effective.at("pl_b").value_of("cpu_pct") == 40);
  CHECK(out.effective.at("pl_a").value_of("cpu_pct") == 0);
  CHECK(out.effective.at("pl_b").value_of("net_min_rate") == 2);
}

TEST_CASE("malformed loans and loans to strangers do not take effect") {
  std::map<std::string, rspec> given{{"pl_a", with({{"cpu_share", 100}})}, {"pl_b", with({})}};
  auto one = [&](loan l, const std::string& lender = "pl_a") {
    auto out = apply_loans(given, {{lender, {l}}});
    REQUIRE(out.inactive.size() == 1);
    return out.inactive[0];
  };
  CHECK(one(lend("pl_a", "pl_b", "cpu_share", -1)).reason == "negative amount -1 of cpu_share");
  CHECK(one(lend("pl_a", "pl_a", "cpu_share", 1)).reason == "pl_a cannot lend to itself");
  CHECK(one(lend("pl_b", "pl_a", "cpu_share", 1)).reason == "pl_a cannot lend for pl_b");
  auto stranger = one(lend("pl_a", "pl_zz", "cpu_share", 1));
  CHECK(stranger.code == errc::unknown_sliver);
  CHECK(stranger.reason == "no sliver pl_zz on this node");
  CHECK(one(lend("pl_gone", "pl_b", "cpu_share", 1), "pl_gone").reason ==
        "no sliver pl_gone on this node");
  // A borrower is kept within the table's range.
  std::map<std::string, rspec> pct{{"pl_a", with({{"cpu_pct", 60}})},
                                   {"pl_b", with({{"cpu_pct", 60}})}};
  auto out = apply_loans(pct, {{"pl_a", {lend("pl_a", "pl_b", "cpu_pct", 50)}}});
  REQUIRE(out.inactive.size() == 1);
  CHECK(out.inactive[0].code == errc::out_of_range);
  CHECK(out.inactive[0].reason == "pl_b cannot borrow 50 cpu_pct: it would exceed 100");
}

TEST_CASE("check_loans refuses a proposal that would not fully take effect") {
  std::map<std::string, rspec> given{{"pl_a", with({{"cpu_share", 100}, {"cpu_pct", 30}})},
                                     {"pl_b", with({{"cpu_pct", 41}})},
                                     {"pl_c", with({{"cpu_pct", 30}})}};
  CHECK_FALSE(check_loans("pl_a", {lend("pl_a", "pl_b", "cpu_share", 68)}, given, {}));
  auto err = check_loans("pl_a", {lend("pl_a", "pl_b", "cpu_share", 69)}, given, {});
  CHECK(text(err) == "insufficient_allocation: pl_a cannot lend 69 cpu_share: it has 100 of its "
                     "own left and keeps at least 32");
  CHECK(text(check_loans("pl_a", {lend("pl_a", "pl_b", "disk_max", 1)}, given, {})) ==
        "not_loanable: disk_max cannot be lent");
  CHECK(text(check_loans("pl_zz", {}, given, {})) == "unknown_sliver: pl_zz");
  // The proposal replaces the lender's old loans, it does not add to them.
  std::map<std::string, std::vector<loan>> current{
      {"pl_a", {lend("pl_a", "pl_b", "cpu_share", 60)}}};
  CHECK_FALSE(check_loans("pl_a", {lend("pl_a", "pl_c", "cpu_share", 60)}, given, current));
  // pl_c lends 30 cpu_pct to pl_b (41 -> 71); pl_a's new 30 (applied first, by
  // name) would leave no room for it below 100, so pl_c's loan would stop.
  current = {{"pl_c", {lend("pl_c", "pl_b", "cpu_pct", 30)}}};
  err = check_loans("pl_a", {lend("pl_a", "pl_b", "cpu_pct", 30)}, given, current);
  CHECK(text(err) == "out_of_range: pl_b cannot borrow 30 cpu_pct: it would exceed 100 (after "
                     "pl_a's new loans)");
  CHECK_FALSE(check_loans("pl_a", {lend("pl_a", "pl_b", "cpu_pct", 30)}, given, {}));
}

namespace {

sliver_spec spec(const std::string& name, std::map<std::string, std::int64_t> values) {
  sliver_spec s;
  s.name = name;
  s.node_id = 7;
  s.instantiation = "plc-instantiated";
  s.expires = 2'000'000'000;
  s.resources = with(std::move(values));
  return s;
}

desired_state snapshot(std::int64_t ts, std::vector<sliver_spec> xs) {
  desired_state d;
  d.node_id = 7;
  d.timestamp = ts;
  d.slivers = std::move(xs);
  return d;
}

node_records done(plan p) {
  for (const auto& a : p.actions)
    record_done(p.records, a);
  return p.records;
}

} // namespace

TEST_CASE("SetLoans through the reconciler moves shares between slivers") {
  const reconciler rec{7};
  auto first = rec.apply(
      snapshot(100, {spec("pl_a", {{"cpu_share", 100}}), spec("pl_b", {{"cpu_share", 32}})}), {},
      1000);
  REQUIRE(first);
  auto r = done(*first);

  auto p = rec.set_loans(r, "pl_a", {{"", "pl_b", "cpu_share", 50}}, 1000);
  REQUIRE(p);
  // `from` is filled in; both slivers get their new effective rspec.
  CHECK(p->records.find("pl_a")->loans == std::vector<loan>{lend("pl_a", "pl_b", "cpu_share", 50)});
  REQUIRE(p->actions.size() == 2);
  CHECK(p->actions[0].sliver == "pl_a");
  CHECK(p->actions[0].kind == action_kind::set_rspec);
  CHECK(p->actions[0].effective.value_of("cpu_share") == 50);
  CHECK(p->actions[1].sliver == "pl_b");
  CHECK(p->actions[1].effective.value_of("cpu_share") == 82);
  // GetRSpec stays PLC's; GetEffectiveRSpec has the loan.
  CHECK(p->records.find("pl_a")->spec.resources.value_of("cpu_share") == 100);
  CHECK(effective_rspecs(p->records).at("pl_b").value_of("cpu_share") == 82);
  auto r2 = done(*p);

  SECTION("an overdraw is refused and changes nothing") {
    auto bad = rec.set_loans(r2, "pl_a", {{"", "pl_b", "cpu_share", 69}}, 1000);
    REQUIRE_FALSE(bad);
    CHECK(text(bad.error()) == "insufficient_allocation: pl_a cannot lend 69 cpu_share: it has "
                               "100 of its own left and keeps at least 32");
    CHECK(text(rec.set_loans(r2, "pl_nope", {}, 1000).error()) == "unknown_sliver: pl_nope");
  }
  SECTION("loans survive deliveries; when PLC gives less they stop, reported") {
    auto q = rec.apply(
        snapshot(200, {spec("pl_a", {{"cpu_share", 100}}), spec("pl_b", {{"cpu_share", 32}})}), r2,
        1000);
    REQUIRE(q);
    CHECK(q->actions.empty());
    CHECK(q->records.find("pl_a")->loans.size() == 1);
    auto less = rec.apply(
        snapshot(300, {spec("pl_a", {{"cpu_share", 60}}), spec("pl_b", {{"cpu_share", 32}})}), r2,
        1000);
    REQUIRE(less);
    REQUIRE(less->inactive_loans.size() == 1);
    CHECK(less->inactive_loans[0].code == errc::insufficient_allocation);
    REQUIRE(less->actions.size() == 2);
    CHECK(less->actions[0].effective.value_of("cpu_share") == 60);
    CHECK(less->actions[1].effective.value_of("cpu_share") == 32);
  }
  SECTION("when the borrower leaves, the lender gets its share back") {
    auto q = rec.apply(snapshot(200, {spec("pl_a", {{"cpu_share", 100}})}), r2, 1000);
    REQUIRE(q);
    REQUIRE(q->actions.size() == 2);
    CHECK(q->actions[0].kind == action_kind::destroy);
    CHECK(q->actions[1].sliver == "pl_a");
    CHECK(q->actions[1].effective.value_of("cpu_share") == 100);
    REQUIRE(q->inactive_loans.size() == 1);
    CHECK(q->inactive_loans[0].reason == "no sliver pl_b on this node");
  }
  SECTION("an administrator override on the borrower wins over the loan") {
    r2.find("pl_b")->overrides = {{"cpu_share", 10}};
    auto q = rec.refresh(r2, 1000);
    REQUIRE(q.actions.size() == 1);
    CHECK(q.actions[0].effective.value_of("cpu_share") == 10);
  }
  SECTION("SetLoans with an empty list ends the loans") {
    auto q = rec.set_loans(r2, "pl_a", {}, 1000);
    REQUIRE(q);
    REQUIRE(q->actions.size() == 2);
    CHECK(q->actions[0].effective.value_of("cpu_share") == 100);
    CHECK(q->actions[1].effective.value_of("cpu_share") == 32);
  }
}
