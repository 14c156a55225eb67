#include "node/allocation_policy.hpp"

#include <cmath>
#include <set>

namespace pl::node {

std::map<std::string, std::int64_t> cpu_weights(const std::map<std::string, cpu_input>& slivers) {
  std::map<std::string, std::int64_t> w;
  std::int64_t reserved = 0;
  for (const auto& [name, in] : slivers) {
    w[name] = std::max<std::int64_t>(in.share, 0);
    if (in.pct > 0)
      reserved += in.pct;
  }
  if (reserved == 0)
    return w;
  if (reserved >= 100) {
    // Nothing can be left for the others: reservations in proportion.
    for (const auto& [name, in] : slivers)
      w[name] = in.pct > 0 ? in.pct * 32 : 0;
    return w;
  }
  // The binding slivers (whose share is below pct x total) get pct x total;
  // the total is then free / (1 - P). Adding a sliver to the binding set
  // only raises the total, so the set grows to a fixed point in at most one
  // round per reserving sliver.
  std::set<std::string> binding;
  double total = 0;
  for (;;) {
    double free = 0;
    double p = 0;
    for (const auto& [name, in] : slivers) {
      if (binding.count(name))
        p += static_cast<double>(in.pct) / 100.0;
      else
        free += static_cast<double>(w[name]);
    }
    total = free / (1.0 - p);
    bool grew = false;
    for (const auto& [name, in] : slivers)
      if (in.pct > 0 && !binding.count(name) &&
          static_cast<double>(w[name]) < static_cast<double>(in.pct) / 100.0 * total) {
        binding.insert(name);
        grew = true;
      }
    if (!grew)
      break;
  }
  if (total <= 0) {
    // Only reserving slivers, all with share 0: weights in proportion.
    for (const auto& name : binding)
      w[name] = slivers.at(name).pct * 32;
    return w;
  }
  for (const auto& name : binding)
    w[name] =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(
                                      static_cast<double>(slivers.at(name).pct) / 100.0 * total)));
  // Rounding up one weight raises the total: top up until every
  // reservation holds exactly in integers. Each step adds one unit, and as
  // the reservations sum to less than 100 the loop ends.
  auto sum = [&] {
    std::int64_t s = 0;
    for (const auto& [name, x] : w)
      s += x;
    return s;
  };
  for (bool short_of = true; short_of;) {
    short_of = false;
    auto s = sum();
    for (const auto& [name, in] : slivers)
      if (in.pct > 0 && w[name] * 100 < in.pct * s) {
        w[name] += 1;
        s += 1;
        short_of = true;
      }
  }
  return w;
}

namespace {

bool reserves(mechanism m, const rspec& rs) {
  return m == mechanism::cpu && rs.value_of("cpu_pct") > 0;
}

} // namespace

void allocation_policy::all_dirty() {
  for (const auto& [name, rs] : rspecs_)
    dirty_.insert(dirty_.end(), name);
}

rspec allocation_policy::relevant(const rspec& rs) const {
  rspec out;
  for (const auto& [key, value] : rs.values) {
    const auto* row = find_resource(key);
    if ((row != nullptr && row->enforced_by == kind_) ||
        (kind_ == mechanism::cpu && (key == "cpu_share" || key == "cpu_pct")))
      out.values.emplace(key, value);
  }
  return out;
}

void allocation_policy::put(const std::string& name, const rspec& full) {
  // Only the values this mechanism's allocations read are kept (absent ones
  // read as the table default either way): six controllers each holding
  // every sliver's whole rspec were the simulator's largest cost per node.
  auto effective = relevant(full);
  auto i = rspecs_.find(name);
  if (i != rspecs_.end() && i->second == effective)
    return; // nothing anyone's allocation depends on changed
  bool was = i != rspecs_.end() && reserves(kind_, i->second);
  bool coupled_before = coupled();
  rspecs_[name] = std::move(effective);
  const auto& now = rspecs_[name];
  reserving_ = reserving_ - (was ? 1 : 0) + (reserves(kind_, now) ? 1 : 0);
  if (coupled_before || coupled()) {
    all_dirty();
    return;
  }
  // A change this mechanism does not enforce (cpu_share for the memory
  // controller) leaves the allocation in force as it is.
  if (auto f = applied_.find(name); f != applied_.end() && f->second == own(name, now))
    dirty_.erase(name);
  else
    dirty_.insert(name);
}

void allocation_policy::remove(const std::string& name) {
  auto i = rspecs_.find(name);
  if (i != rspecs_.end()) {
    bool coupled_before = coupled();
    if (reserves(kind_, i->second))
      reserving_ -= 1;
    rspecs_.erase(i);
    if (coupled_before)
      all_dirty();
  }
  applied_.erase(name);
  dirty_.erase(name);
}

void allocation_policy::applied(const allocation& a) {
  applied_[a.sliver] = a;
  // Coupled, the current allocation needs every sliver: leave it to pending.
  if (!coupled())
    if (auto i = rspecs_.find(a.sliver); i != rspecs_.end() && own(a.sliver, i->second) == a)
      dirty_.erase(a.sliver);
}

allocation allocation_policy::own(const std::string& name, const rspec& rs) const {
  allocation a;
  a.sliver = name;
  a.enforced_by = kind_;
  for (const auto& row : resource_table())
    if (row.enforced_by == kind_)
      a.values[std::string{row.name}] = rs.value_of(row.name);
  if (kind_ == mechanism::cpu)
    a.values["cpu_share"] = std::max<std::int64_t>(rs.value_of("cpu_share"), 0);
  return a;
}

std::map<std::string, allocation> allocation_policy::compute() const {
  std::map<std::string, allocation> out;
  for (const auto& [name, rs] : rspecs_)
    out.emplace(name, own(name, rs));
  if (coupled()) {
    std::map<std::string, cpu_input> in;
    for (const auto& [name, rs] : rspecs_)
      in[name] = {rs.value_of("cpu_share"), rs.value_of("cpu_pct")};
    for (const auto& [name, weight] : cpu_weights(in))
      out[name].values["cpu_share"] = weight;
  }
  return out;
}

std::vector<allocation> allocation_policy::pending(const std::string& first) const {
  std::vector<allocation> out;
  std::map<std::string, allocation> all;
  if (coupled()) {
    auto every = compute();
    for (const auto& name : dirty_)
      all.insert(every.extract(name));
  } else {
    for (const auto& name : dirty_)
      all.emplace(name, own(name, rspecs_.at(name)));
  }
  auto changed = [&](const allocation& a) {
    auto i = applied_.find(a.sliver);
    return i == applied_.end() || i->second != a;
  };
  if (auto i = all.find(first); i != all.end() && changed(i->second))
    out.push_back(i->second);
  for (const auto& [name, a] : all)
    if (name != first && changed(a))
      out.push_back(a);
  return out;
}

std::optional<allocation> allocation_policy::in_force(const std::string& name) const {
  auto i = applied_.find(name);
  if (i == applied_.end())
    return std::nullopt;
  return i->second;
}

} // namespace pl::node
