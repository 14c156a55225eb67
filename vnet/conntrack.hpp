#pragma once

// Connection tracking (seed 4.4.3, 4.4.4): one flat open-addressing table of
// 32-byte entries, linear probing, at most two thirds full, with per-protocol
// expiry and CLOCK eviction that prefers idle connections on unbound ports.

#include "vnet/bind_table.hpp"
#include "vnet/types.hpp"

#include <cstdint>
#include <cstring>
#include <memory>

namespace pl::vnet {

/// Identifies a connection from the node's side: the 5-tuple in 13 bytes.
///
/// Outbound datagrams map `src` to local and `dst` to remote, inbound ones the
/// other way round, so both directions of a flow share one key. For ICMP the
/// identifier is `local_port` and `remote_port` is 0.
struct flow_key {
  ipv4_addr local_addr = 0;
  ipv4_addr remote_addr = 0;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;
  std::uint8_t proto = 0;
  /// Always zero, so that the key compares and hashes as two 64-bit words.
  std::uint8_t zero[3] = {0, 0, 0};

  friend bool operator==(const flow_key&, const flow_key&) = default;
};
static_assert(sizeof(flow_key) == 16);

/// Per-protocol idle timeouts.
struct timeouts {
  time_ns tcp = seconds(3600);
  /// For TCP connections after a RST or a FIN in each direction.
  time_ns tcp_closing = seconds(120);
  time_ns udp = seconds(60);
  time_ns icmp = seconds(30);

  friend bool operator==(const timeouts&, const timeouts&) = default;
};

/// Flag bits of a tracked connection.
inline constexpr std::uint8_t conn_referenced = 0x01; // CLOCK reference bit
inline constexpr std::uint8_t conn_fin_out = 0x02;
inline constexpr std::uint8_t conn_fin_in = 0x04;
inline constexpr std::uint8_t conn_rst = 0x08;

/// Holds one tracked connection; two fit in a cache line.
struct alignas(32) conn_entry {
  flow_key key;
  /// The slice entitled to the connection's inbound datagrams.
  slice_id owner = no_slice;
  std::uint8_t flags = 0;
  std::uint8_t zero[3] = {0, 0, 0};
  time_ns last_seen = 0;

  /// Tells whether the slot is free (no trackable protocol is 0).
  bool empty() const noexcept { return key.proto == 0; }
};
static_assert(sizeof(conn_entry) == 32);

/// Returns the idle timeout that applies to `e`.
inline time_ns timeout_of(const timeouts& t, const conn_entry& e) noexcept {
  switch (e.key.proto) {
  case 6:
    return (e.flags & conn_rst) || ((e.flags & conn_fin_out) && (e.flags & conn_fin_in))
               ? t.tcp_closing
               : t.tcp;
  case 17:
    return t.udp;
  default:
    return t.icmp;
  }
}

/// Tracks connections in a bounded flat hash table.
///
/// Expired entries stay in place until a lookup, an insert or `expire` meets
/// them; they never count as present. When the table holds `capacity()`
/// entries an insert first evicts one (see `evict_one`).
class conn_table {
public:
  /// Makes a table for at most `max_connections` entries.
  ///
  /// `binds` tells eviction which ports are bound; it must outlive the table.
  /// `seed` keys the hash, so remote hosts cannot aim at one probe chain.
  conn_table(std::size_t max_connections, const timeouts& t, const bind_table& binds,
             std::uint64_t seed);

  /// Returns the hash of `k` (pass it to the other members).
  std::uint64_t hash(const flow_key& k) const noexcept {
    std::uint64_t a;
    std::uint64_t b;
    std::memcpy(&a, &k, 8);
    std::memcpy(&b, reinterpret_cast<const char*>(&k) + 8, 8);
    std::uint64_t h = (a ^ seed_) * 0x9E3779B97F4A7C15ull;
    h ^= (b + (seed_ >> 17)) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 31;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
  }

  /// Hints the CPU to load the home slot of hash `h`.
  void prefetch(std::uint64_t h) const noexcept { __builtin_prefetch(&slots_[home(h)], 1, 3); }

  /// Returns the live entry for `k`, or nullptr.
  conn_entry* find(const flow_key& k, std::uint64_t h, time_ns now) noexcept;

  /// Returns the live entry for `k`, or nullptr.
  const conn_entry* find(const flow_key& k, std::uint64_t h, time_ns now) const noexcept {
    return const_cast<conn_table*>(this)->find(k, h, now);
  }

  /// Holds the result of `upsert`.
  struct upsert_result {
    conn_entry* entry;
    /// True if the entry is new (or replaced an expired one): owner is `no_slice`.
    bool created;
  };

  /// Returns the live entry for `k`, creating it (and evicting if full).
  upsert_result upsert(const flow_key& k, std::uint64_t h, time_ns now) noexcept;

  /// Tells whether `e` has been idle longer than its timeout at `now`.
  bool expired(const conn_entry& e, time_ns now) const noexcept {
    return now - e.last_seen >= timeout_of(timeouts_, e);
  }

  /// Reclaims expired entries among the next `budget` slots; returns how many.
  std::size_t expire(time_ns now, std::size_t budget) noexcept;

  /// Returns the number of occupied slots (live and not yet reclaimed).
  std::size_t size() const noexcept { return size_; }

  /// Returns the maximum number of entries.
  std::size_t capacity() const noexcept { return max_; }

  /// Returns the number of slots (1.5 times the capacity, rounded up).
  std::size_t slot_count() const noexcept { return slot_count_; }

  /// Returns the bytes held by the slot array.
  std::size_t memory_bytes() const noexcept { return slot_count_ * sizeof(conn_entry); }

  /// Returns how many live entries eviction has removed.
  std::uint64_t evictions() const noexcept { return evictions_; }

  /// Returns how many evictions hit a connection on a bound port.
  std::uint64_t bound_evictions() const noexcept { return bound_evictions_; }

  /// Returns how many expired entries were reclaimed or replaced.
  std::uint64_t expirations() const noexcept { return expirations_; }

  /// Replaces the timeouts (they apply to existing entries as well).
  void set_timeouts(const timeouts& t) noexcept { timeouts_ = t; }

  /// Returns the timeouts in force.
  const timeouts& timeouts_in_force() const noexcept { return timeouts_; }

  /// Calls `f(const conn_entry&)` for every occupied slot.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < slot_count_; ++i)
      if (!slots_[i].empty())
        f(slots_[i]);
  }

private:
  std::size_t home(std::uint64_t h) const noexcept {
    // Lemire's multiply-shift maps the hash onto a slot count that need not be
    // a power of two; that keeps 1M connections within 48 bytes each.
    return static_cast<std::size_t>((static_cast<unsigned __int128>(h) * slot_count_) >> 64);
  }

  std::size_t next(std::size_t i) const noexcept { return i + 1 == slot_count_ ? 0 : i + 1; }

  bool pinned(const conn_entry& e) const noexcept {
    return binds_->owner(e.key.proto, e.key.local_port) != no_slice;
  }

  void remove_at(std::size_t i) noexcept;
  void evict_one(time_ns now) noexcept;

  std::size_t max_;
  std::size_t slot_count_;
  std::unique_ptr<conn_entry[]> slots_;
  timeouts timeouts_;
  const bind_table* binds_;
  std::uint64_t seed_;
  std::size_t size_ = 0;
  std::size_t hand_ = 0;
  std::size_t sweep_ = 0;
  std::uint64_t evictions_ = 0;
  std::uint64_t bound_evictions_ = 0;
  std::uint64_t expirations_ = 0;
};

} // namespace pl::vnet
