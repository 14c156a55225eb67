#include "drivers/sim/model.hpp"

#include <algorithm>

#include "actors/errors.hpp"
#include "drivers/fair_victim.hpp"

namespace pl::drivers::sim {

namespace {

std::size_t row_index(std::string_view name) {
  auto rows = resource_table();
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].name == name)
      return i;
  return rows.size();
}

std::uint8_t bit(mechanism m) {
  return static_cast<std::uint8_t>(1u << static_cast<unsigned>(m));
}

} // namespace

model::model(costs c)
    : costs_(c) {}

model::sliver* model::find(const std::string& name) {
  auto i = slivers_.find(name);
  return i == slivers_.end() ? nullptr : &i->second;
}

const model::sliver* model::find(const std::string& name) const {
  auto i = slivers_.find(name);
  return i == slivers_.end() ? nullptr : &i->second;
}

caf::error model::apply(const allocation& a) {
  elapsed_ += costs_.apply;
  auto err = a.enforced_by == mechanism::cpu ? check_allocation(a, a.enforced_by, {"cpu_cap"})
             : a.enforced_by == mechanism::disk_io
                 ? check_allocation(a, a.enforced_by, {"io_max_iops"})
                 : check_allocation(a, a.enforced_by);
  if (err)
    return err;
  if (a.enforced_by == mechanism::container)
    return make_error(errc::invalid_argument, "containers are not allocations");
  auto* s = find(a.sliver);
  if (a.enforced_by == mechanism::disk_space && s != nullptr) {
    auto limit = value_or_default(a, "disk_max");
    if (limit < s->disk_blocks)
      return make_error(errc::invalid_argument,
                        "disk_max " + std::to_string(limit) + " is below the " +
                            std::to_string(s->disk_blocks) + " blocks in use");
  }
  if (s == nullptr) {
    s = &slivers_[a.sliver];
    auto rows = resource_table();
    for (std::size_t i = 0; i < rows.size() && i < max_rows; ++i)
      s->values[i] = rows[i].default_value;
  }
  auto rows = resource_table();
  for (std::size_t i = 0; i < rows.size() && i < max_rows; ++i)
    if (rows[i].enforced_by == a.enforced_by)
      s->values[i] = value_or_default(a, rows[i].name);
  if (a.enforced_by == mechanism::cpu)
    s->cpu_cap = value_or_default(a, "cpu_cap");
  if (a.enforced_by == mechanism::disk_io)
    s->io_max_iops = value_or_default(a, "io_max_iops");
  s->mechanisms |= bit(a.enforced_by);
  if (a.enforced_by == mechanism::memory && s->mem_pages > s->values[row_index("mem_limit")]) {
    // Lowering the limit below use: the kernel reclaims, then kills.
    s->mem_pages = 0;
    s->tasks = 0;
    ++s->oom_kills;
  }
  return {};
}

caf::error model::remove(const std::string& name, mechanism m) {
  elapsed_ += costs_.remove;
  auto i = slivers_.find(name);
  if (i == slivers_.end())
    return {};
  i->second.mechanisms &= static_cast<std::uint8_t>(~bit(m));
  if (i->second.mechanisms == 0)
    slivers_.erase(i);
  return {};
}

caf::expected<allocation> model::read(const std::string& name, mechanism m) const {
  const auto* s = find(name);
  if (s == nullptr || (s->mechanisms & bit(m)) == 0)
    return make_error(errc::unknown_sliver, name);
  allocation out{name, m, {}};
  auto rows = resource_table();
  for (std::size_t i = 0; i < rows.size() && i < max_rows; ++i)
    if (rows[i].enforced_by == m)
      out.values[std::string{rows[i].name}] = s->values[i];
  if (m == mechanism::cpu)
    out.values["cpu_cap"] = s->cpu_cap;
  if (m == mechanism::disk_io)
    out.values["io_max_iops"] = s->io_max_iops;
  return out;
}

std::vector<std::string> model::slivers(mechanism m) const {
  std::vector<std::string> out;
  for (const auto& [name, s] : slivers_)
    if (s.mechanisms & bit(m))
      out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

caf::expected<std::int64_t> model::usage(const std::string& name, std::string_view resource) const {
  const auto* s = find(name);
  if (s == nullptr)
    return make_error(errc::unknown_sliver, name);
  if (resource == "mem_limit")
    return s->mem_pages;
  if (resource == "tasks_max")
    return s->tasks;
  if (resource == "disk_max")
    return s->disk_blocks;
  return make_error(errc::unsupported, "no use of " + std::string{resource});
}

bool model::fork(const std::string& name) {
  auto* s = find(name);
  if (s == nullptr || s->tasks >= s->values[row_index("tasks_max")])
    return false;
  ++s->tasks;
  return true;
}

void model::exit(const std::string& name) {
  if (auto* s = find(name); s != nullptr && s->tasks > 0)
    --s->tasks;
}

bool model::allocate(const std::string& name, std::int64_t pages) {
  auto* s = find(name);
  if (s == nullptr)
    return false;
  if (s->mem_pages + pages > s->values[row_index("mem_limit")]) {
    s->mem_pages = 0;
    s->tasks = 0;
    ++s->oom_kills;
    return false;
  }
  s->mem_pages += pages;
  return true;
}

bool model::write(const std::string& name, std::int64_t blocks) {
  auto* s = find(name);
  if (s == nullptr || s->disk_blocks + blocks > s->values[row_index("disk_max")])
    return false;
  s->disk_blocks += blocks;
  return true;
}

std::optional<std::string> model::enforce_fair_victim(std::int64_t threshold_percent) {
  std::int64_t total = 0;
  std::vector<victim_candidate> xs;
  for (const auto& [name, s] : slivers_) {
    total += s.mem_pages;
    xs.push_back({name, s.mem_pages, s.values[row_index("mem_share")]});
  }
  if (!parent_short(total, parent_limit_, threshold_percent))
    return std::nullopt;
  std::sort(xs.begin(), xs.end(), [](const auto& x, const auto& y) { return x.sliver < y.sliver; });
  auto victim = pick_fair_victim(xs, parent_limit_);
  if (!victim)
    return std::nullopt;
  auto& s = slivers_[xs[*victim].sliver];
  s.mem_pages = 0;
  s.tasks = 0;
  ++s.oom_kills;
  return xs[*victim].sliver;
}

std::int64_t model::oom_kills(const std::string& name) const {
  const auto* s = find(name);
  return s == nullptr ? 0 : s->oom_kills;
}

} // namespace pl::drivers::sim
