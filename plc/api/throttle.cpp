#include "plc/api/throttle.hpp"

#include <algorithm>

namespace pl::plc::api {

login_throttle::login_throttle(throttle_config cfg, const pl::clock& clock)
    : cfg_(cfg)
    , clock_(clock) {}

std::chrono::seconds login_throttle::retry_after(const std::string& account,
                                                 const std::string& address) {
  if (!cfg_.enabled)
    return std::chrono::seconds{0};
  auto now = clock_.now();
  std::lock_guard<std::mutex> guard{mtx_};
  return std::max(wait_for("a:" + account, cfg_.account_failures, now),
                  wait_for("ip:" + address, cfg_.address_failures, now));
}

void login_throttle::failure(const std::string& account, const std::string& address) {
  if (!cfg_.enabled)
    return;
  auto now = clock_.now();
  std::lock_guard<std::mutex> guard{mtx_};
  record("a:" + account, cfg_.account_failures, now);
  record("ip:" + address, cfg_.address_failures, now);
}

void login_throttle::success(const std::string& account) {
  std::lock_guard<std::mutex> guard{mtx_};
  failures_.erase("a:" + account);
}

std::size_t login_throttle::tracked() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failures_.size();
}

std::chrono::seconds login_throttle::wait_for(const std::string& key, std::size_t limit,
                                              time_point now) {
  auto i = failures_.find(key);
  if (i == failures_.end() || limit == 0)
    return std::chrono::seconds{0};
  auto& times = i->second;
  while (!times.empty() && times.front() + cfg_.window <= now)
    times.pop_front();
  if (times.empty()) {
    failures_.erase(i);
    return std::chrono::seconds{0};
  }
  if (times.size() < limit)
    return std::chrono::seconds{0};
  // Free again when the oldest counted failure leaves the window; round up so
  // a client that waits the advertised time is let in.
  auto left = times.front() + cfg_.window - now;
  auto secs = std::chrono::ceil<std::chrono::seconds>(left);
  return std::max(secs, std::chrono::seconds{1});
}

void login_throttle::record(const std::string& key, std::size_t limit, time_point now) {
  if (limit == 0)
    return;
  auto i = failures_.find(key);
  if (i == failures_.end()) {
    make_room(now);
    i = failures_.emplace(key, std::deque<time_point>{}).first;
  }
  auto& times = i->second;
  times.push_back(now);
  // Only the newest `limit` failures matter for the decision.
  while (times.size() > limit)
    times.pop_front();
}

void login_throttle::make_room(time_point now) {
  if (failures_.size() < cfg_.max_tracked)
    return;
  // Full: drop what has aged out, then, if still full, the stalest key. This
  // runs only when the table is full, so its linear cost is rare.
  for (auto i = failures_.begin(); i != failures_.end();) {
    if (i->second.empty() || i->second.back() + cfg_.window <= now)
      i = failures_.erase(i);
    else
      ++i;
  }
  while (failures_.size() >= cfg_.max_tracked && !failures_.empty()) {
    auto stalest = std::min_element(failures_.begin(), failures_.end(), [](auto& a, auto& b) {
      return a.second.back() < b.second.back();
    });
    failures_.erase(stalest);
  }
}

} // namespace pl::plc::api
