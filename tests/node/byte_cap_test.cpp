// Daily byte caps (bwmon): accounting per window on a manual clock, the
// throttled ceiling past the threshold, the daily reset, counter restarts,
// retired slices and persisted records.
#include <catch2/catch.hpp>

#include "node/byte_cap.hpp"

using namespace pl;
using namespace pl::node;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kib = 1024;

rspec caps(std::int64_t thresh_kbyte, std::int64_t max_kbyte, std::int64_t min_rate = 1,
           std::int64_t max_rate = 100'000) {
  auto x = default_rspec();
  x.values["net_thresh_kbyte"] = thresh_kbyte;
  x.values["net_max_kbyte"] = max_kbyte;
  x.values["net_min_rate"] = min_rate;
  x.values["net_max_rate"] = max_rate;
  return x;
}

} // namespace

TEST_CASE("the ceiling spreads what is left of the cap over the time left") {
  // Under the threshold: the rspec's maximum.
  CHECK(capped_rate(800 * kib - 1, 800, 1000, 100, 1, 50) == 50);
  // At the threshold: 200 KiB left over 100 s = 16384 bit/s = 16 kbps.
  CHECK(capped_rate(800 * kib, 800, 1000, 100, 1, 50) == 16);
  // Never above the maximum (plenty left, little time used).
  CHECK(capped_rate(800 * kib, 800, 1000, 1, 1, 50) == 50);
  // Never below the guaranteed minimum, also once the cap is used up.
  CHECK(capped_rate(990 * kib, 800, 1000, 100'000, 7, 50) == 7);
  CHECK(capped_rate(2000 * kib, 800, 1000, 100, 7, 50) == 7);
  // No time left counts as one second.
  CHECK(capped_rate(800 * kib, 800, 1000, 0, 1, 1'000'000) == 1638);
  // Huge caps do not overflow.
  constexpr auto big = std::numeric_limits<std::int64_t>::max();
  CHECK(capped_rate(0, big, big, 1, 1, 5) == 5);
  CHECK(capped_rate(big, 0, big, 1, 1, 5) == 5);
}

TEST_CASE("a slice is throttled past its threshold until its window ends") {
  manual_clock clock;
  byte_caps bw{clock};
  auto start = clock.now_epoch();
  auto limits = caps(800, 1000);
  // The first reading is the base: earlier bytes are not counted.
  auto s = bw.update("pl_a", 5'000'000, 0, limits);
  CHECK(s.sent == 0);
  CHECK_FALSE(s.capped);
  CHECK(s.net_max_rate == 100'000);
  CHECK(s.window_end == start + 86'400);

  clock.advance(1h);
  s = bw.update("pl_a", 5'000'000 + 799 * kib, 0, limits);
  CHECK(s.sent == 799 * kib);
  CHECK_FALSE(s.capped);
  CHECK_FALSE(s.newly_capped);

  clock.advance(1h);
  s = bw.update("pl_a", 5'000'000 + 900 * kib, 0, limits);
  CHECK(s.capped);
  CHECK(s.newly_capped);
  // 100 KiB left over 22 h: 819200 bit / 79200 s = 10 bit/s -> 0 kbps -> min 1.
  CHECK(s.net_max_rate == 1);
  CHECK_FALSE(s.i2_capped);
  CHECK(s.net_i2_max_rate == 1'000'000);
  CHECK(bw.status("pl_a") == s);

  // A bigger cap near the end of the window gives a usable ceiling.
  auto generous = caps(800, 100'000);
  clock.set(std::chrono::system_clock::time_point{std::chrono::seconds{start + 86'400 - 100}});
  s = bw.update("pl_a", 5'000'000 + 900 * kib, 0, generous);
  CHECK(s.capped);
  CHECK_FALSE(s.newly_capped);
  // (100000 - 900) KiB * 8 / 100 s = 8118272 bit/s -> 8118 kbps.
  CHECK(s.net_max_rate == 8118);

  // The window ends: counts and ceilings start over, on the same schedule.
  clock.advance(100s + 3 * 24h + 5s);
  s = bw.update("pl_a", 5'000'000 + 901 * kib, 0, limits);
  CHECK(s.sent == 0);
  CHECK_FALSE(s.capped);
  CHECK(s.net_max_rate == 100'000);
  CHECK(s.window_end == start + 5 * 86'400);
  CHECK(bw.records().at("pl_a").window_start == start + 4 * 86'400);
}

TEST_CASE("ordinary and exempt traffic are counted and capped separately") {
  manual_clock clock;
  byte_caps bw{clock, 1000s};
  auto limits = caps(1'000'000, 2'000'000);
  limits.values["net_i2_thresh_kbyte"] = 10;
  limits.values["net_i2_max_kbyte"] = 20;
  limits.values["net_i2_min_rate"] = 3;
  bw.update("pl_a", 0, 0, limits);
  clock.advance(500s);
  auto s = bw.update("pl_a", 50 * kib, 15 * kib, limits);
  CHECK(s.sent == 50 * kib);
  CHECK(s.sent_i2 == 15 * kib);
  CHECK_FALSE(s.capped);
  CHECK(s.i2_capped);
  CHECK(s.newly_capped);
  // 5 KiB over 500 s = 81 bit/s -> 0 kbps -> the i2 minimum.
  CHECK(s.net_i2_max_rate == 3);
}

TEST_CASE("a counter that restarts counts from zero, never backwards") {
  manual_clock clock;
  byte_caps bw{clock};
  auto limits = caps(1'000'000, 2'000'000);
  bw.update("pl_a", 0, 0, limits);
  bw.update("pl_a", 10'000, 0, limits);
  // The class was recreated: its counter starts again.
  auto s = bw.update("pl_a", 300, 0, limits);
  CHECK(s.sent == 10'300);
  s = bw.update("pl_a", 400, 0, limits);
  CHECK(s.sent == 10'400);
}

TEST_CASE("a slice that leaves and returns within its window keeps its bytes") {
  manual_clock clock;
  byte_caps bw{clock, 1000s};
  auto limits = caps(10, 20);
  bw.update("pl_a", 0, 0, limits);
  bw.update("pl_a", 15 * kib, 0, limits);
  bw.update("pl_b", 0, 0, limits);
  bw.retire("pl_a");
  CHECK_FALSE(bw.status("pl_a").has_value());
  clock.advance(500s);
  CHECK(bw.prune().empty());
  // Recreated: a fresh counter, but the window's bytes still count.
  auto s = bw.update("pl_a", 0, 0, limits);
  CHECK(s.sent == 15 * kib);
  CHECK(s.capped);
  bw.retire("pl_a");
  clock.advance(501s);
  CHECK(bw.prune() == std::vector<std::string>{"pl_a"});
  // A live slice is never pruned.
  CHECK(bw.records().count("pl_b") == 1);
  CHECK(bw.records().count("pl_a") == 0);
}

TEST_CASE("persisted records carry the accounting across a restart") {
  manual_clock clock;
  auto limits = caps(10, 20);
  std::map<std::string, byte_cap_record> saved;
  {
    byte_caps bw{clock, 1000s};
    bw.update("pl_a", 100, 0, limits);
    clock.advance(10s);
    bw.update("pl_a", 100 + 12 * kib, 0, limits);
    saved = bw.records();
  }
  byte_caps again{clock, 1000s};
  again.restore(saved);
  CHECK(again.records() == saved);
  clock.advance(10s);
  auto s = again.update("pl_a", 100 + 13 * kib, 0, limits);
  CHECK(s.sent == 13 * kib);
  CHECK(s.capped);
}
