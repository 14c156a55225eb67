#include "node/byte_cap.hpp"

#include <algorithm>
#include <limits>

namespace pl::node {

namespace {

using wide = __int128;

constexpr std::int64_t kbyte = 1024;

std::int64_t narrow(wide x) {
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  return x > hi ? hi : static_cast<std::int64_t>(x);
}

// Bytes a counter moved since the last reading; a counter that went
// backwards restarted from 0.
std::int64_t delta(std::int64_t counter, std::int64_t last) {
  return counter >= last ? counter - last : std::max<std::int64_t>(counter, 0);
}

} // namespace

std::int64_t capped_rate(std::int64_t sent, std::int64_t thresh_kbyte, std::int64_t max_kbyte,
                         std::int64_t remaining, std::int64_t min_rate, std::int64_t max_rate) {
  if (static_cast<wide>(sent) < static_cast<wide>(thresh_kbyte) * kbyte)
    return max_rate;
  wide left = static_cast<wide>(max_kbyte) * kbyte - sent;
  std::int64_t rate = 0;
  if (left > 0) {
    // bytes * 8 / seconds = bit/s; / 1000 = kbps, as bwmon (which used bit/s).
    rate = narrow(left * 8 / std::max<std::int64_t>(remaining, 1) / 1000);
  }
  return std::max(std::min(rate, max_rate), min_rate);
}

byte_caps::byte_caps(const pl::clock& clock, std::chrono::seconds window)
    : clock_(clock)
    , window_(std::max<std::int64_t>(window.count(), 1)) {}

std::int64_t byte_caps::window_end(const byte_cap_record& r) const {
  return r.window_start + window_;
}

byte_cap_status byte_caps::update(const std::string& slice, std::int64_t counter,
                                  std::int64_t counter_i2, const rspec& effective) {
  auto now = clock_.now_epoch();
  auto [i, added] = records_.try_emplace(slice);
  auto& r = i->second;
  if (added) {
    // Bytes sent before the node manager knew the slice are not counted (as
    // bwmon, which took running classes' counters as the base).
    r.window_start = now;
  } else if (now >= window_end(r)) {
    r.window_start += (now - r.window_start) / window_ * window_;
    r.sent = 0;
    r.sent_i2 = 0;
  } else {
    r.sent += delta(counter, r.last_counter);
    r.sent_i2 += delta(counter_i2, r.last_counter_i2);
  }
  r.last_counter = counter;
  r.last_counter_i2 = counter_i2;
  r.retired = false;

  byte_cap_status s;
  s.sent = r.sent;
  s.sent_i2 = r.sent_i2;
  s.window_end = window_end(r);
  auto remaining = s.window_end - now;
  auto max_rate = effective.value_of("net_max_rate");
  auto max_i2 = effective.value_of("net_i2_max_rate");
  s.net_max_rate = capped_rate(r.sent, effective.value_of("net_thresh_kbyte"),
                               effective.value_of("net_max_kbyte"), remaining,
                               effective.value_of("net_min_rate"), max_rate);
  s.net_i2_max_rate = capped_rate(r.sent_i2, effective.value_of("net_i2_thresh_kbyte"),
                                  effective.value_of("net_i2_max_kbyte"), remaining,
                                  effective.value_of("net_i2_min_rate"), max_i2);
  s.capped = s.net_max_rate < max_rate;
  s.i2_capped = s.net_i2_max_rate < max_i2;
  auto before = last_.find(slice);
  bool was = before != last_.end() && (before->second.capped || before->second.i2_capped);
  s.newly_capped = (s.capped || s.i2_capped) && !was;
  last_[slice] = s;
  return s;
}

std::optional<byte_cap_status> byte_caps::status(const std::string& slice) const {
  auto i = last_.find(slice);
  if (i == last_.end())
    return std::nullopt;
  return i->second;
}

void byte_caps::retire(const std::string& slice) {
  if (auto i = records_.find(slice); i != records_.end())
    i->second.retired = true;
  last_.erase(slice);
}

std::vector<std::string> byte_caps::prune() {
  auto now = clock_.now_epoch();
  std::vector<std::string> gone;
  for (auto i = records_.begin(); i != records_.end();) {
    if (i->second.retired && now >= window_end(i->second)) {
      gone.push_back(i->first);
      i = records_.erase(i);
    } else {
      ++i;
    }
  }
  return gone;
}

void byte_caps::restore(std::map<std::string, byte_cap_record> records) {
  records_ = std::move(records);
  last_.clear();
}

} // namespace pl::node
