#include "drivers/knobs.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pl::drivers {

std::int64_t cgroup_cpu_shares(std::int64_t planetlab_shares) {
  if (planetlab_shares > 262144 / 32)
    return 262144;
  return std::clamp<std::int64_t>(planetlab_shares * 32, 2, 262144);
}

std::int64_t cpu_weight_from_shares(std::int64_t shares) {
  if (shares <= 0)
    return 0;
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  double l = std::log2(static_cast<double>(shares));
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return static_cast<std::int64_t>(std::ceil(std::pow(10.0, exponent)));
}

std::int64_t cfs_quota_us(std::int64_t percent) {
  if (percent <= 0)
    return -1;
  return std::max<std::int64_t>(1000, percent * cfs_period_us / 100);
}

std::int64_t pages_to_bytes(std::int64_t pages) {
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  if (pages > max / 4096)
    return max;
  return pages * 4096;
}

std::int64_t bytes_to_pages(std::int64_t bytes) {
  return (bytes + 4095) / 4096;
}

std::int64_t blkio_weight_v1(std::int64_t weight) {
  return std::clamp<std::int64_t>(weight, 10, 1000);
}

std::int64_t htb_quantum(std::int64_t share) {
  return share * 1600;
}

} // namespace pl::drivers
