#include "vnet/conntrack.hpp"

#include <algorithm>

namespace pl::vnet {

namespace {

// Bounds the work of one eviction on huge tables; small tables are scanned
// twice over, which makes "an idle unbound entry goes first" exact there.
constexpr std::size_t max_eviction_scan = 4096;

} // namespace

conn_table::conn_table(std::size_t max_connections, const timeouts& t, const bind_table& binds,
                       std::uint64_t seed)
    : max_(std::max<std::size_t>(max_connections, 1))
    , slot_count_(max_ + (max_ + 1) / 2 + 1)
    , slots_(new conn_entry[slot_count_])
    , timeouts_(t)
    , binds_(&binds)
    , seed_(seed) {}

conn_entry* conn_table::find(const flow_key& k, std::uint64_t h, time_ns now) noexcept {
  // The load stays below two thirds, so an empty slot always ends the probe.
  for (std::size_t i = home(h);; i = next(i)) {
    conn_entry& e = slots_[i];
    if (e.empty())
      return nullptr;
    if (e.key == k)
      return expired(e, now) ? nullptr : &e;
  }
}

conn_table::upsert_result conn_table::upsert(const flow_key& k, std::uint64_t h,
                                             time_ns now) noexcept {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::size_t reuse = none;
  std::size_t i = home(h);
  for (;; i = next(i)) {
    conn_entry& e = slots_[i];
    if (e.empty())
      break;
    if (e.key == k) {
      if (!expired(e, now))
        return {&e, false};
      ++expirations_;
      e.owner = no_slice;
      e.flags = 0;
      e.last_seen = now;
      return {&e, true};
    }
    if (reuse == none && expired(e, now))
      reuse = i;
  }
  // The whole chain was searched, so `k` is absent and an expired slot on the
  // chain can take it without breaking any other key's chain.
  if (reuse != none) {
    ++expirations_;
    i = reuse;
  } else if (size_ >= max_) {
    evict_one(now);
    return upsert(k, h, now); // size_ < max_ now: no second eviction
  } else {
    ++size_;
  }
  conn_entry& e = slots_[i];
  e = conn_entry{};
  e.key = k;
  e.last_seen = now;
  return {&e, true};
}

void conn_table::remove_at(std::size_t i) noexcept {
  // Backward-shift deletion keeps linear probing free of tombstones.
  std::size_t j = i;
  for (;;) {
    j = next(j);
    if (slots_[j].empty())
      break;
    const std::size_t k = home(hash(slots_[j].key));
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays)
      continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = conn_entry{};
  --size_;
}

void conn_table::evict_one(time_ns now) noexcept {
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  const std::size_t limit = std::min(2 * slot_count_, max_eviction_scan);
  std::size_t fallback = none;
  std::size_t any = none;
  for (std::size_t step = 0; step < limit; ++step) {
    const std::size_t i = hand_;
    hand_ = next(hand_);
    conn_entry& e = slots_[i];
    if (e.empty())
      continue;
    if (expired(e, now)) {
      ++expirations_;
      remove_at(i);
      return;
    }
    any = i;
    if (e.flags & conn_referenced) {
      e.flags &= static_cast<std::uint8_t>(~conn_referenced);
      continue;
    }
    if (!pinned(e)) {
      ++evictions_;
      remove_at(i);
      return;
    }
    if (fallback == none)
      fallback = i;
  }
  // Only connections on bound ports (or recently used ones) were met.
  std::size_t victim = fallback != none ? fallback : any;
  while (victim == none) { // the scanned stretch was empty: take the next entry
    if (!slots_[hand_].empty())
      victim = hand_;
    hand_ = next(hand_);
  }
  if (pinned(slots_[victim]))
    ++bound_evictions_;
  ++evictions_;
  remove_at(victim);
}

std::size_t conn_table::expire(time_ns now, std::size_t budget) noexcept {
  std::size_t removed = 0;
  for (std::size_t step = 0; step < budget && size_ > 0; ++step) {
    conn_entry& e = slots_[sweep_];
    if (!e.empty() && expired(e, now)) {
      ++expirations_;
      ++removed;
      remove_at(sweep_); // may shift a later entry into this slot: look again
      continue;
    }
    sweep_ = next(sweep_);
  }
  return removed;
}

} // namespace pl::vnet
