// The resource table against its sources: the PlanetLab 3.0 design (section
// 4.3, resman units and defaults) and node manager 1.5.6 (DEFAULT_ALLOCATION,
// MINIMUM_ALLOCATION; shared/reference/planetlab-original.md section 3.3).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "actors/errors.hpp"
#include "actors/resources.hpp"
#include "actors/rspec.hpp"

namespace {

const pl::resource_info& row(std::string_view name) {
  const auto* x = pl::find_resource(name);
  INFO(name);
  REQUIRE(x != nullptr);
  return *x;
}

bool has_code(const caf::error& err, pl::errc code) {
  return err && err.category() == caf::atom("pl") && err.code() == static_cast<std::uint8_t>(code);
}

} // namespace

TEST_CASE("defaults and units follow the seed's resman table", "[resources]") {
  CHECK(row("cpu_share").default_value == 32); // cpulimit: share, 32
  CHECK(row("cpu_share").unit == "shares");
  CHECK(row("mem_limit").default_value == 32768); // memlimit: 4kb page, 32768
  CHECK(row("mem_limit").unit == "4 KiB pages");
  CHECK(row("tasks_max").default_value == 256); // tasklimit: process count, 256
  CHECK(row("tasks_max").unit == "processes");
  CHECK(row("disk_max").default_value == 5000000); // disklimit: 1K blocks, 5000000
  CHECK(row("disk_max").unit == "1K blocks");
  for (auto name : {"net_min_rate", "net_max_rate", "net_i2_min_rate", "net_i2_max_rate"})
    CHECK(row(name).unit == "kbps"); // bwlimit: 1kbps
}

TEST_CASE("network defaults follow node manager 1.5.6", "[resources]") {
  const std::map<std::string, std::int64_t> nm15{{"net_min_rate", 1},
                                                 {"net_max_rate", 1000000},
                                                 {"net_share", 1},
                                                 {"net_i2_min_rate", 1},
                                                 {"net_i2_max_rate", 1000000},
                                                 {"net_i2_share", 1},
                                                 {"net_max_kbyte", 5662310},
                                                 {"net_thresh_kbyte", 4529848},
                                                 {"net_i2_max_kbyte", 17196646},
                                                 {"net_i2_thresh_kbyte", 13757316},
                                                 {"disk_max", 5000000},
                                                 {"cpu_share", 32},
                                                 {"cpu_pct", 0}};
  for (const auto& [name, value] : nm15) {
    INFO(name);
    CHECK(row(name).default_value == value);
  }
}

TEST_CASE("loan minimums follow node manager 1.5.6 MINIMUM_ALLOCATION", "[resources]") {
  // 1.5: {cpu_min:0, cpu_share:32, net_min_rate:0, net_max_rate:8,
  //       net_i2_min_rate:0, net_i2_max_rate:8, net_share:1}; cpu_min is cpu_pct here.
  const std::map<std::string, std::int64_t> minimum{
      {"cpu_pct", 0},         {"cpu_share", 32},      {"net_min_rate", 0}, {"net_max_rate", 8},
      {"net_i2_min_rate", 0}, {"net_i2_max_rate", 8}, {"net_share", 1}};
  std::set<std::string> loanable;
  for (const auto& r : pl::resource_table())
    if (r.loanable())
      loanable.emplace(r.name);
  std::set<std::string> expected;
  for (const auto& [name, value] : minimum) {
    expected.emplace(name);
    INFO(name);
    CHECK(row(name).loan_minimum == std::optional<std::int64_t>{value});
    CHECK(pl::is_loanable(name));
  }
  CHECK(loanable == expected);
  CHECK_FALSE(pl::is_loanable("disk_max")); // "no way to punish slivers over quota"
  CHECK_FALSE(pl::is_loanable("no_such_resource"));
}

TEST_CASE("kinds and mechanisms", "[resources]") {
  using k = pl::resource_kind;
  using m = pl::mechanism;
  CHECK(row("cpu_pct").kind == k::guarantee); // a reservation, never a cap
  CHECK(row("cpu_share").kind == k::share);
  CHECK(row("mem_limit").kind == k::limit);
  CHECK(row("mem_share").kind == k::share);
  CHECK(row("mem_share").enforced_by == m::memory);
  CHECK(row("tasks_max").enforced_by == m::tasks);
  CHECK(row("disk_max").enforced_by == m::disk_space);
  CHECK(row("io_weight").enforced_by == m::disk_io);
  CHECK(row("io_weight").kind == k::share);
  CHECK(row("io_max_rate").enforced_by == m::disk_io);
  CHECK(row("io_max_rate").kind == k::limit);
  CHECK(row("net_min_rate").kind == k::guarantee);
  CHECK(row("net_i2_max_kbyte").enforced_by == m::net);
  CHECK(pl::to_string(k::guarantee) == "guarantee");
  CHECK(pl::to_string(m::disk_space) == "disk_space");
}

TEST_CASE("the table is well formed", "[resources]") {
  std::set<std::string_view> names;
  for (const auto& r : pl::resource_table()) {
    INFO(r.name);
    CHECK(names.insert(r.name).second);
    CHECK(r.name.size() <= 32);
    CHECK_FALSE(r.unit.empty());
    CHECK_FALSE(r.description.empty());
    CHECK(r.enforced_by != pl::mechanism::container);
    CHECK(r.min_value >= 0);
    CHECK(r.min_value <= r.default_value);
    CHECK(r.default_value <= r.max_value);
    if (r.loan_minimum) {
      CHECK(*r.loan_minimum >= r.min_value);
      CHECK(*r.loan_minimum <= r.max_value);
    }
    CHECK_FALSE(pl::check_resource_value(r, r.default_value));
    CHECK(pl::find_resource(r.name) == &r);
  }
  CHECK(names.size() == 18);
  CHECK(pl::find_resource("cpulimit") == nullptr);
}

TEST_CASE("parse_resource_value accepts decimal integers in range only", "[resources]") {
  const auto& cpu = row("cpu_share");
  CHECK(pl::parse_resource_value(cpu, "64") == std::int64_t{64});
  CHECK(pl::parse_resource_value(cpu, "0") == std::int64_t{0});
  CHECK(has_code(pl::parse_resource_value(cpu, "-1").error(), pl::errc::negative_value));
  for (auto bad : {"", " 1", "1 ", "+1", "1.5", "0x10", "abc", "32k"}) {
    INFO(bad);
    CHECK(has_code(pl::parse_resource_value(cpu, bad).error(), pl::errc::not_a_number));
  }
  CHECK(has_code(pl::parse_resource_value(cpu, "99999999999999999999").error(),
                 pl::errc::out_of_range));
  const auto& pct = row("cpu_pct");
  CHECK(pl::parse_resource_value(pct, "100") == std::int64_t{100});
  CHECK(has_code(pl::parse_resource_value(pct, "101").error(), pl::errc::out_of_range));
  CHECK(has_code(pl::parse_resource_value(row("io_weight"), "0").error(), pl::errc::out_of_range));
}

TEST_CASE("make_rspec: defaults overridden by tags, bad tags as error values", "[resources]") {
  auto defaults = pl::default_rspec();
  CHECK(defaults.values.size() == pl::resource_table().size());
  CHECK(defaults.value_of("cpu_share") == 32);
  CHECK(pl::rspec{}.value_of("disk_max") == 5000000); // absent means default
  CHECK(pl::rspec{}.value_of("not_a_resource") == 0);

  auto x = pl::make_rspec({{"cpu_share", "64"}, {"net_max_rate", "8000"}});
  REQUIRE(x);
  CHECK(x->value_of("cpu_share") == 64);
  CHECK(x->value_of("net_max_rate") == 8000);
  CHECK(x->value_of("disk_max") == 5000000);
  CHECK(x->values.size() == defaults.values.size());

  auto unknown = pl::make_rspec({{"cpu_share", "64"}, {"initscript", "x"}});
  REQUIRE_FALSE(unknown);
  CHECK(has_code(unknown.error(), pl::errc::unknown_resource));
  auto negative = pl::make_rspec({{"disk_max", "-5"}});
  REQUIRE_FALSE(negative);
  CHECK(has_code(negative.error(), pl::errc::negative_value));
  auto text = pl::make_rspec({{"net_share", "lots"}});
  REQUIRE_FALSE(text);
  CHECK(has_code(text.error(), pl::errc::not_a_number));
}

TEST_CASE("validate checks rspecs from elsewhere", "[resources]") {
  CHECK_FALSE(pl::validate(pl::default_rspec()));
  CHECK_FALSE(pl::validate(pl::rspec{}));
  CHECK(has_code(pl::validate(pl::rspec{{{"bogus", 1}}}), pl::errc::unknown_resource));
  CHECK(has_code(pl::validate(pl::rspec{{{"tasks_max", -1}}}), pl::errc::negative_value));
  CHECK(has_code(pl::validate(pl::rspec{{{"cpu_pct", 150}}}), pl::errc::out_of_range));
}

TEST_CASE("errors carry the pl category and a context", "[resources]") {
  auto err = pl::make_error(pl::errc::unknown_resource, "cpu_sharez");
  CHECK(has_code(err, pl::errc::unknown_resource));
  REQUIRE(err.context().match_elements<std::string>());
  CHECK(err.context().get_as<std::string>(0) == "cpu_sharez");
  CHECK(pl::to_string(pl::errc::not_connected) == "not_connected");
  CHECK(caf::error{pl::errc::expired} != caf::error{pl::errc::revoked});
}
