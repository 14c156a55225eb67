#include "node/admission.hpp"

#include <cmath>

namespace pl::node {

namespace {

promises of(const rspec& x) {
  return {x.value_of("cpu_pct"), x.value_of("net_min_rate"), x.value_of("net_i2_min_rate"),
          x.value_of("disk_max")};
}

std::string refusal(const char* resource, std::int64_t asked, std::int64_t others,
                    std::int64_t limit, const char* unit, const char* what) {
  return std::string{resource} + "=" + std::to_string(asked) +
         " does not fit: other slivers hold " + std::to_string(others) + " " + unit + " of the " +
         std::to_string(limit) + " " + unit + " " + what;
}

} // namespace

promises total(const std::map<std::string, rspec>& slivers) {
  promises sum;
  for (const auto& [name, x] : slivers) {
    auto p = of(x);
    sum.cpu_pct += p.cpu_pct;
    sum.net_min_rate += p.net_min_rate;
    sum.net_i2_min_rate += p.net_i2_min_rate;
    sum.disk_max += p.disk_max;
  }
  return sum;
}

bool promises_more(const rspec& before, const rspec& after) {
  auto b = of(before);
  auto a = of(after);
  return a.cpu_pct > b.cpu_pct || a.net_min_rate > b.net_min_rate ||
         a.net_i2_min_rate > b.net_i2_min_rate || a.disk_max > b.disk_max;
}

std::optional<std::string> admission::check(const std::string& name, const rspec& candidate,
                                            const std::map<std::string, rspec>& admitted) const {
  // Summed in place: copying `admitted` (a map of maps) for every check made
  // admitting 1,000 slivers cost half a second.
  promises now;
  promises held;
  for (const auto& [other, x] : admitted) {
    auto p = of(x);
    if (other == name) {
      now = p;
      continue;
    }
    held.cpu_pct += p.cpu_pct;
    held.net_min_rate += p.net_min_rate;
    held.net_i2_min_rate += p.net_i2_min_rate;
    held.disk_max += p.disk_max;
  }
  auto want = of(candidate);
  // Whole percent points: a fraction of 0.8 allows 80.
  auto cpu_limit = static_cast<std::int64_t>(std::floor(capacity_.cpu_reservable * 100.0 + 1e-9));
  if (want.cpu_pct > now.cpu_pct && held.cpu_pct + want.cpu_pct > cpu_limit)
    return refusal("cpu_pct", want.cpu_pct, held.cpu_pct, cpu_limit, "percent",
                   "of CPU the node may reserve");
  if (want.net_min_rate > now.net_min_rate &&
      held.net_min_rate + want.net_min_rate > capacity_.net_cap_kbps)
    return refusal("net_min_rate", want.net_min_rate, held.net_min_rate, capacity_.net_cap_kbps,
                   "kbps", "node cap");
  if (want.net_i2_min_rate > now.net_i2_min_rate &&
      held.net_i2_min_rate + want.net_i2_min_rate > capacity_.net_i2_cap_kbps)
    return refusal("net_i2_min_rate", want.net_i2_min_rate, held.net_i2_min_rate,
                   capacity_.net_i2_cap_kbps, "kbps", "exempt cap");
  if (capacity_.disk_pool_kb && want.disk_max > now.disk_max &&
      held.disk_max + want.disk_max > *capacity_.disk_pool_kb)
    return refusal("disk_max", want.disk_max, held.disk_max, *capacity_.disk_pool_kb, "blocks",
                   "sliver disk pool");
  return std::nullopt;
}

} // namespace pl::node
