#include "actors/ticket_guard.hpp"

#include <algorithm>

namespace pl {

// -- replay_guard -------------------------------------------------------------

ticket_verdict replay_guard::check(const sliver_ticket& t) const {
  if (revoked_nonces_.find(t.nonce) != nullptr)
    return ticket_verdict::revoked;
  if (const auto* revoked_at = revoked_slices_.find(t.slice_name);
      revoked_at != nullptr && t.issued <= *revoked_at)
    return ticket_verdict::revoked;
  if (redeemed_.find(t.nonce) != nullptr)
    return ticket_verdict::replayed;
  return ticket_verdict::valid;
}

ticket_verdict replay_guard::redeem(const sliver_ticket& t, std::int64_t now) {
  auto deadline = expiry_deadline(t.expires, opts_.skew);
  if (now >= deadline)
    return ticket_verdict::expired;
  prune(now);
  if (auto v = check(t); v != ticket_verdict::valid)
    return v;
  if (full())
    return ticket_verdict::guard_full;
  redeemed_.put(t.nonce, true, deadline);
  return ticket_verdict::valid;
}

bool replay_guard::revoke_nonce(const ticket_nonce& nonce, std::int64_t expires, std::int64_t now) {
  auto deadline = expiry_deadline(expires, opts_.skew);
  prune(now);
  if (now >= deadline)
    return true; // such a ticket is refused as expired anyway
  if (revoked_nonces_.find(nonce) != nullptr) {
    revoked_nonces_.put(nonce, true, std::max(deadline, revoked_nonces_.deadline(nonce)));
    return true;
  }
  if (full())
    return false;
  revoked_nonces_.put(nonce, true, deadline);
  return true;
}

bool replay_guard::revoke_slice(const std::string& slice, std::int64_t revoked_at,
                                std::int64_t latest_expiry, std::int64_t now) {
  auto deadline = expiry_deadline(latest_expiry, opts_.skew);
  prune(now);
  if (now >= deadline)
    return true;
  if (const auto* old = revoked_slices_.find(slice)) {
    revoked_slices_.put(slice, std::max(*old, revoked_at),
                        std::max(deadline, revoked_slices_.deadline(slice)));
    return true;
  }
  if (full())
    return false;
  revoked_slices_.put(slice, revoked_at, deadline);
  return true;
}

void replay_guard::prune(std::int64_t now) {
  redeemed_.prune(now);
  revoked_nonces_.prune(now);
  revoked_slices_.prune(now);
}

// -- ticket_verifier ----------------------------------------------------------

namespace {

std::string guard_message(ticket_verdict v, const sliver_ticket& t) {
  auto nonce = to_hex(t.nonce);
  switch (v) {
  case ticket_verdict::revoked:
    return "ticket " + nonce + " for slice " + t.slice_name + " was revoked";
  case ticket_verdict::replayed:
    return "ticket " + nonce + " for slice " + t.slice_name + " was already redeemed here";
  case ticket_verdict::expired:
    return "ticket " + nonce + " expired at " + std::to_string(t.expires);
  case ticket_verdict::guard_full:
    return "replay guard full of unexpired tickets; ticket " + nonce + " not redeemed";
  default:
    return std::string{to_string(v)};
  }
}

} // namespace

ticket_verifier::ticket_verifier(ticket_keyring keys, const clock& clk, options opts)
    : keys_(std::move(keys))
    , clock_(clk)
    , opts_(opts)
    , guard_(replay_guard::options{opts.skew, opts.capacity}) {}

ticket_check ticket_verifier::check(signed_ticket t) const {
  auto result = verify_ticket(std::move(t), keys_, clock_, verify_opts());
  if (!result.valid())
    return result;
  if (auto v = guard_.check(result.ticket->body); v != ticket_verdict::valid) {
    result.verdict = v;
    result.message = guard_message(v, result.ticket->body);
  }
  return result;
}

ticket_check ticket_verifier::check(std::string_view text) const {
  auto parsed = parse_ticket(text);
  if (!parsed)
    return ticket_check{ticket_verdict::malformed, parsed.error(), std::nullopt};
  return check(std::move(*parsed));
}

ticket_check ticket_verifier::redeem(signed_ticket t) {
  auto result = verify_ticket(std::move(t), keys_, clock_, verify_opts());
  if (!result.valid())
    return result;
  if (auto v = guard_.redeem(result.ticket->body, clock_.now_epoch()); v != ticket_verdict::valid) {
    result.verdict = v;
    result.message = guard_message(v, result.ticket->body);
  }
  return result;
}

ticket_check ticket_verifier::redeem(std::string_view text) {
  auto parsed = parse_ticket(text);
  if (!parsed)
    return ticket_check{ticket_verdict::malformed, parsed.error(), std::nullopt};
  return redeem(std::move(*parsed));
}

bool ticket_verifier::revoke_slice(const std::string& slice, std::int64_t revoked_at,
                                   std::int64_t latest_expiry) {
  return guard_.revoke_slice(slice, revoked_at, latest_expiry, clock_.now_epoch());
}

bool ticket_verifier::revoke_nonce(const ticket_nonce& nonce, std::int64_t expires) {
  return guard_.revoke_nonce(nonce, expires, clock_.now_epoch());
}

void ticket_verifier::prune() {
  guard_.prune(clock_.now_epoch());
}

} // namespace pl
