#include "drivers/fair_victim.hpp"

namespace pl::drivers {

std::optional<std::size_t> pick_fair_victim(std::span<const victim_candidate> slivers,
                                            std::int64_t parent_limit) {
  long double total = 0;
  for (const auto& s : slivers)
    total += s.share > 0 ? s.share : 1;
  std::optional<std::size_t> best;
  long double best_excess = 0;
  for (std::size_t i = 0; i < slivers.size(); ++i) {
    const auto& s = slivers[i];
    long double entitled =
        parent_limit * static_cast<long double>(s.share > 0 ? s.share : 1) / total;
    long double excess = s.usage - entitled;
    if (excess > 0 && (!best || excess > best_excess)) {
      best = i;
      best_excess = excess;
    }
  }
  return best;
}

bool parent_short(std::int64_t usage, std::int64_t limit, std::int64_t threshold_percent) {
  if (limit <= 0)
    return false;
  return static_cast<long double>(usage) * 100 >=
         static_cast<long double>(limit) * threshold_percent;
}

} // namespace pl::drivers
