#include "actors/resources.hpp"

#include <array>
#include <charconv>

namespace pl {

namespace {

constexpr std::int64_t unbounded = std::numeric_limits<std::int64_t>::max();
constexpr std::optional<std::int64_t> not_loanable = std::nullopt;

using k = resource_kind;
using m = mechanism;

// Units and defaults: the PlanetLab 3.0 design, section 4.3 (resman: cpulimit 32
// shares, memlimit 32768 pages of 4 KiB, tasklimit 256, disklimit 5000000 1K
// blocks, bwlimit in kbps). Network rates, byte caps and loan minimums: node
// manager 1.5.6 (`sm.py` DEFAULT_ALLOCATION, `database.py` MINIMUM_ALLOCATION).
// Rows without a precedent there (mem_share, io_weight, io_max_rate) are this
// project's choices and are not loanable.
constexpr std::array<resource_info, 18> table{{
    {"cpu_share", "shares", 32, 32, k::share, m::cpu, 0, unbounded,
     "Fair-share CPU weight relative to other slivers under contention."},
    {"cpu_pct", "percent", 0, 0, k::guarantee, m::cpu, 0, 100,
     "Reserved percentage of one node's CPU under contention; never a cap."},
    {"mem_limit", "4 KiB pages", 32768, not_loanable, k::limit, m::memory, 0, unbounded,
     "Maximum resident memory of the sliver (32768 pages = 128 MiB)."},
    {"mem_share", "shares", 32, not_loanable, k::share, m::memory, 0, unbounded,
     "Fair-victim weight: under memory pressure the sliver using the most memory per share "
     "is reclaimed first."},
    {"tasks_max", "processes", 256, not_loanable, k::limit, m::tasks, 0, unbounded,
     "Maximum number of tasks (processes and threads) in the sliver."},
    {"disk_max", "1K blocks", 5000000, not_loanable, k::limit, m::disk_space, 0, unbounded,
     "Disk space quota of the sliver's file system (5000000 blocks = about 5 GB)."},
    {"io_weight", "weight", 100, not_loanable, k::share, m::disk_io, 1, 1000,
     "Proportional disk I/O weight, 1..1000 (100 is the default of every sliver)."},
    {"io_max_rate", "KiB/s", 0, not_loanable, k::limit, m::disk_io, 0, unbounded,
     "Disk I/O throughput cap per device, read and write each; 0 means unlimited."},
    {"net_min_rate", "kbps", 1, 0, k::guarantee, m::net, 0, unbounded,
     "Guaranteed outbound rate to ordinary (capped) destinations."},
    {"net_max_rate", "kbps", 1000000, 8, k::limit, m::net, 0, unbounded,
     "Maximum outbound rate to ordinary (capped) destinations."},
    {"net_share", "shares", 1, 1, k::share, m::net, 1, unbounded,
     "Weight for spare outbound bandwidth to ordinary destinations."},
    {"net_i2_min_rate", "kbps", 1, 0, k::guarantee, m::net, 0, unbounded,
     "Guaranteed outbound rate to exempt (Internet2) destinations."},
    {"net_i2_max_rate", "kbps", 1000000, 8, k::limit, m::net, 0, unbounded,
     "Maximum outbound rate to exempt (Internet2) destinations."},
    {"net_i2_share", "shares", 1, not_loanable, k::share, m::net, 1, unbounded,
     "Weight for spare outbound bandwidth to exempt destinations (not lendable in 1.5)."},
    {"net_max_kbyte", "KiB/day", 5662310, not_loanable, k::limit, m::net, 0, unbounded,
     "Daily outbound byte cap to ordinary destinations (about 5.4 GiB)."},
    {"net_thresh_kbyte", "KiB/day", 4529848, not_loanable, k::limit, m::net, 0, unbounded,
     "Daily outbound bytes after which the rate is throttled toward net_max_kbyte."},
    {"net_i2_max_kbyte", "KiB/day", 17196646, not_loanable, k::limit, m::net, 0, unbounded,
     "Daily outbound byte cap to exempt destinations (about 16.4 GiB)."},
    {"net_i2_thresh_kbyte", "KiB/day", 13757316, not_loanable, k::limit, m::net, 0, unbounded,
     "Daily exempt outbound bytes after which the exempt rate is throttled."},
}};

} // namespace

std::span<const resource_info> resource_table() {
  return table;
}

const resource_info* find_resource(std::string_view name) {
  for (const auto& row : table)
    if (row.name == name)
      return &row;
  return nullptr;
}

bool is_loanable(std::string_view name) {
  const auto* row = find_resource(name);
  return row != nullptr && row->loanable();
}

caf::error check_resource_value(const resource_info& resource, std::int64_t value) {
  auto context = [&] { return std::string{resource.name} + "=" + std::to_string(value); };
  if (value < 0)
    return make_error(errc::negative_value, context());
  if (value < resource.min_value || value > resource.max_value)
    return make_error(errc::out_of_range, context() + " (allowed " +
                                              std::to_string(resource.min_value) + ".." +
                                              std::to_string(resource.max_value) + ")");
  return caf::none;
}

caf::expected<std::int64_t> parse_resource_value(const resource_info& resource,
                                                 std::string_view text) {
  auto context = [&] { return std::string{resource.name} + "=\"" + std::string{text} + "\""; };
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range)
    return make_error(errc::out_of_range, context());
  if (text.empty() || ec != std::errc{} || end != last)
    return make_error(errc::not_a_number, context());
  if (auto err = check_resource_value(resource, value))
    return err;
  return value;
}

std::string to_string(resource_kind x) {
  switch (x) {
  case resource_kind::share:
    return "share";
  case resource_kind::guarantee:
    return "guarantee";
  case resource_kind::limit:
    return "limit";
  }
  return "resource_kind(" + std::to_string(static_cast<int>(x)) + ")";
}

std::string to_string(mechanism x) {
  switch (x) {
  case mechanism::cpu:
    return "cpu";
  case mechanism::memory:
    return "memory";
  case mechanism::tasks:
    return "tasks";
  case mechanism::disk_io:
    return "disk_io";
  case mechanism::disk_space:
    return "disk_space";
  case mechanism::net:
    return "net";
  case mechanism::container:
    return "container";
  }
  return "mechanism(" + std::to_string(static_cast<int>(x)) + ")";
}

} // namespace pl
