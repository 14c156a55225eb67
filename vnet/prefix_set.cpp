#include "vnet/prefix_set.hpp"

#include <algorithm>

namespace pl::vnet {

namespace {

bool prefix_less(const prefix& a, const prefix& b) {
  return a.addr != b.addr ? a.addr < b.addr : a.length < b.length;
}

} // namespace

error prefix_set::assign(std::span<const prefix> prefixes) {
  for (const auto& p : prefixes)
    if (!p.valid())
      return error::bad_prefix;
  prefixes_.assign(prefixes.begin(), prefixes.end());
  rebuild();
  return error::none;
}

error prefix_set::add(prefix p) {
  if (!p.valid())
    return error::bad_prefix;
  prefixes_.push_back(p);
  rebuild();
  return error::none;
}

error prefix_set::remove(prefix p) {
  auto i = std::find(prefixes_.begin(), prefixes_.end(), p);
  if (i == prefixes_.end())
    return error::not_bound;
  prefixes_.erase(i);
  rebuild();
  return error::none;
}

bool prefix_set::contains(ipv4_addr a) const noexcept {
  if (ranges_.empty())
    return false;
  // The last range starting at or before `a` is the only candidate.
  auto i = std::upper_bound(ranges_.begin(), ranges_.end(), a,
                            [](ipv4_addr v, const auto& r) { return v < r.first; });
  if (i == ranges_.begin())
    return false;
  --i;
  return a <= i->second;
}

void prefix_set::rebuild() {
  std::sort(prefixes_.begin(), prefixes_.end(), prefix_less);
  prefixes_.erase(std::unique(prefixes_.begin(), prefixes_.end()), prefixes_.end());
  ranges_.clear();
  for (const auto& p : prefixes_) {
    const ipv4_addr first = p.addr;
    const ipv4_addr last = p.addr | ~p.mask();
    // Sorted by first address, so a range can only merge with the previous one.
    if (!ranges_.empty() && first <= ranges_.back().second) {
      ranges_.back().second = std::max(ranges_.back().second, last);
    } else if (!ranges_.empty() && ranges_.back().second != 0xFFFFFFFFu &&
               first == ranges_.back().second + 1) {
      ranges_.back().second = last;
    } else {
      ranges_.emplace_back(first, last);
    }
  }
}

} // namespace pl::vnet
