#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "actors/clock.hpp"
#include "actors/outcome.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_guard.hpp"
#include "actors/ticket_keys.hpp"

// The node's side of slice tickets (issue #6 point 6): verify with PLC's
// public key, refuse tampered, expired, other-node, revoked and replayed
// tickets, and remember redeemed nonces and revocations across restarts.
// CAF-free; thread-safe (the local API serves several connections at once).
//
//   auto desk = pl::node::ticket_desk::open({.node_id = 7, .keys = keyring,
//                                            .state_file = dir / "tickets"}, clock);
//   auto c = (*desk)->redeem(text, [&](const pl::signed_ticket& t) { return deliver(t); });

namespace pl::node {

/// Configures a `ticket_desk`.
struct ticket_desk_config {
  /// This node's id: a ticket for other nodes is refused (`wrong_node`).
  std::int32_t node_id = 0;
  /// PLC's public keys installed on the node (more than one during a rollover).
  ticket_keyring keys;
  /// Clock-skew allowance in seconds (issue time and expiry).
  std::int64_t skew = 300;
  /// The most redeemed nonces plus revocations kept at once.
  std::size_t capacity = 100'000;
  /// Where redeemed nonces and revocations are kept across restarts (written
  /// atomically on every change); empty keeps them in memory only.
  std::filesystem::path state_file;
};

/// Verifies and redeems slice tickets at a node; remembers what it must refuse.
///
/// A ticket is redeemed in three steps under one lock, so two connections
/// presenting the same ticket cannot both succeed: check it completely
/// (signature, validity, node, revocation, replay), hand it to `deliver` (the
/// node manager), and only when that succeeds record its nonce and persist.
/// A refused or undeliverable ticket changes nothing and can be presented
/// again. Entries are kept until the ticket they concern expires (plus the
/// skew), then pruned, also from the state file.
class ticket_desk {
public:
  /// Receives a verified ticket; returns an empty string on success, else why not.
  using deliver_fn = std::function<std::string(const signed_ticket&)>;

  /// Opens the desk, restoring `cfg.state_file` when it exists. Fails on a
  /// state file that cannot be read or parsed (naming the line): forgetting
  /// redeemed nonces would let replays through.
  static outcome<std::unique_ptr<ticket_desk>> open(ticket_desk_config cfg, const clock& clk);

  /// Verifies `text` completely without recording anything.
  ticket_check check(std::string_view text) const;

  /// Verifies `text`, delivers it, and records its nonce. A delivery failure
  /// is reported with verdict `valid` and the delivery's message in
  /// `delivery_error`; nothing is recorded then.
  struct redemption {
    ticket_check check;
    /// Says why `deliver` refused the verified ticket; empty when delivered.
    std::string delivery_error;
    /// Says the nonce was recorded but the state file could not be written
    /// (the ticket is refused as a replay until this process ends).
    std::string persist_error;

    bool redeemed() const { return check.valid() && delivery_error.empty(); }
  };
  redemption redeem(std::string_view text, const deliver_fn& deliver);

  /// Refuses every ticket of `slice` issued at or before `revoked_at` until
  /// `latest_expiry` (+ skew); see `replay_guard::revoke_slice`. Returns an
  /// error message when the guard is full or the state cannot be saved.
  std::optional<std::string> revoke_slice(const std::string& slice, std::int64_t revoked_at,
                                          std::int64_t latest_expiry);

  /// Refuses the ticket with `nonce` (expiring at `expires`) from now on.
  std::optional<std::string> revoke_nonce(const ticket_nonce& nonce, std::int64_t expires);

  /// Adds a PLC key (key rollover); tickets signed by it are accepted too.
  void add_key(verify_key key);

  /// Returns the number of remembered redeemed nonces.
  std::size_t redeemed() const;

  /// Returns the number of entries (redeemed nonces plus revocations).
  std::size_t size() const;

  const ticket_desk_config& config() const { return cfg_; }

private:
  ticket_desk(ticket_desk_config cfg, const clock& clk);

  struct redeemed_entry {
    std::string slice;
    std::int64_t issued = 0;
    std::int64_t expires = 0;
  };
  struct slice_revocation {
    std::int64_t revoked_at = 0;
    std::int64_t latest_expiry = 0;
  };

  ticket_check check_locked(signed_ticket t) const;
  std::optional<std::string> restore(const std::filesystem::path& file);
  /// Drops mirrored entries whose deadline has passed.
  void prune_locked(std::int64_t now);
  /// Writes the mirror to the state file; returns why not on failure.
  std::optional<std::string> save_locked();

  ticket_desk_config cfg_;
  const clock& clock_;
  /// Serialises redemptions from check to record (held across `deliver`).
  std::mutex redeem_mutex_;
  /// Guards everything below.
  mutable std::mutex mutex_;
  replay_guard guard_;
  /// What the guard holds, as needed to rebuild it after a restart.
  std::map<ticket_nonce, redeemed_entry> redeemed_;
  std::map<ticket_nonce, std::int64_t> revoked_nonces_;
  std::map<std::string, slice_revocation> revoked_slices_;
};

} // namespace pl::node
