#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/clock.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_keys.hpp"

// The state a node needs to refuse replayed and revoked tickets, CAF-free.
//
//   pl::ticket_verifier v{keyring, clock, {.node_id = 7}};
//   auto c = v.redeem(text);          // valid once; the same text again: replayed
//   v.revoke_slice("pl_x", t, exp);   // tickets of pl_x issued up to t: revoked
//
// Every entry is kept only while a ticket it refuses could otherwise still pass
// the expiry check (until `expires + skew`), then pruned; the number of entries
// is capped, so memory stays bounded.

namespace pl {

/// Remembers redeemed nonces and revocations until the tickets they concern expire.
///
/// Not thread-safe: one owner (the node manager's ticket logic) calls it.
class replay_guard {
public:
  struct options {
    /// Clock-skew allowance in seconds; must equal the one used by `verify_ticket`.
    std::int64_t skew = 300;
    /// At most this many entries (redeemed nonces plus revocations), about 150
    /// bytes each. A full guard refuses (`guard_full`) rather than forget.
    std::size_t capacity = 100'000;
  };

  replay_guard()
      : replay_guard(options{}) {}
  explicit replay_guard(options opts)
      : opts_(opts) {}

  /// Returns `revoked`, `replayed` or `valid` for `t`; records nothing.
  ticket_verdict check(const sliver_ticket& t) const;

  /// Prunes at `now`, checks `t` as `check` does, then remembers its nonce
  /// until `expiry_deadline(t.expires, skew)`. Returns `valid`, `revoked`, `replayed`,
  /// `expired` (the deadline has passed) or `guard_full` (nothing recorded).
  ticket_verdict redeem(const sliver_ticket& t, std::int64_t now);

  /// Refuses the ticket carrying `nonce` (which expires at `expires`) from now
  /// on. Returns false only when the guard is full (nothing recorded).
  bool revoke_nonce(const ticket_nonce& nonce, std::int64_t expires, std::int64_t now);

  /// Refuses every ticket of `slice` issued at or before `revoked_at` (a slice
  /// re-created later gets valid tickets again). `latest_expiry` bounds the
  /// expiry of the slice's tickets (e.g. the slice's own expiry); the entry is
  /// kept until it plus the skew; a node that does not know it can pass
  /// `revoked_at` plus the longest lifetime PLC gives a ticket. Returns false
  /// only when the guard is full.
  bool revoke_slice(const std::string& slice, std::int64_t revoked_at, std::int64_t latest_expiry,
                    std::int64_t now);

  /// Forgets every entry whose deadline is at or before `now`.
  void prune(std::int64_t now);

  /// Returns the number of entries (redeemed nonces plus revocations).
  std::size_t size() const {
    return redeemed_.size() + revoked_nonces_.size() + revoked_slices_.size();
  }
  std::size_t redeemed() const { return redeemed_.size(); }
  const options& config() const { return opts_; }

private:
  /// Holds keys with a deadline, indexed by deadline for cheap pruning.
  template <class Key, class Value>
  class expiring_map {
  public:
    const Value* find(const Key& k) const {
      auto i = entries_.find(k);
      return i == entries_.end() ? nullptr : &i->second.value;
    }
    std::int64_t deadline(const Key& k) const { return entries_.at(k).deadline; }
    /// Inserts `k`, or replaces its value and deadline.
    void put(const Key& k, Value v, std::int64_t deadline) {
      if (auto i = entries_.find(k); i != entries_.end()) {
        by_deadline_.erase(i->second.pos);
        i->second.value = std::move(v);
        i->second.deadline = deadline;
        i->second.pos = by_deadline_.emplace(deadline, k);
        return;
      }
      auto pos = by_deadline_.emplace(deadline, k);
      entries_.emplace(k, entry{std::move(v), deadline, pos});
    }
    void prune(std::int64_t now) {
      while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
        entries_.erase(by_deadline_.begin()->second);
        by_deadline_.erase(by_deadline_.begin());
      }
    }
    std::size_t size() const { return entries_.size(); }

  private:
    using index = std::multimap<std::int64_t, Key>;
    struct entry {
      Value value;
      std::int64_t deadline;
      typename index::iterator pos;
    };
    std::map<Key, entry> entries_;
    index by_deadline_;
  };

  bool full() const { return size() >= opts_.capacity; }

  options opts_;
  /// Nonces redeemed here.
  expiring_map<ticket_nonce, bool> redeemed_;
  /// Nonces revoked one by one.
  expiring_map<ticket_nonce, bool> revoked_nonces_;
  /// Slice name -> tickets issued at or before this time are revoked.
  expiring_map<std::string, std::int64_t> revoked_slices_;
};

/// Verifies and redeems tickets at a node: `verify_ticket` plus a `replay_guard`,
/// reading the time from one clock (which must outlive the verifier).
///
/// Not thread-safe, like the guard: keep it in one actor's state.
class ticket_verifier {
public:
  struct options {
    /// This node's id; none accepts tickets for any node set.
    std::optional<std::int32_t> node_id;
    /// Clock-skew allowance in seconds for expiry, issue time and pruning.
    std::int64_t skew = 300;
    /// The replay guard's entry cap.
    std::size_t capacity = 100'000;
  };

  ticket_verifier(ticket_keyring keys, const clock& clk, options opts);

  /// Verifies `text` fully (signature, time, node, revocation, replay) without recording it.
  ticket_check check(std::string_view text) const;
  ticket_check check(signed_ticket t) const;

  /// Verifies `text` fully and, when valid, records it: it is `replayed` from then on.
  ticket_check redeem(std::string_view text);
  ticket_check redeem(signed_ticket t);

  /// See `replay_guard::revoke_slice` and `revoke_nonce`, at the clock's time.
  bool revoke_slice(const std::string& slice, std::int64_t revoked_at, std::int64_t latest_expiry);
  bool revoke_nonce(const ticket_nonce& nonce, std::int64_t expires);

  /// Forgets entries that can no longer matter (also done by every redeem and revoke).
  void prune();

  /// Accepts tickets signed by another PLC key too (key rollover).
  void add_key(verify_key key) { keys_.add(std::move(key)); }

  const replay_guard& guard() const { return guard_; }

private:
  verify_options verify_opts() const { return {opts_.node_id, opts_.skew}; }

  ticket_keyring keys_;
  const clock& clock_;
  options opts_;
  replay_guard guard_;
};

} // namespace pl
