#include "node/ticket_desk.hpp"
#include "node/atomic_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace pl::node {

namespace {

constexpr std::string_view state_header = "pl-ticket-state 1";

/// Returns `s` as hex, `-` for an empty string (the format is one line of
/// space-separated tokens, so names are never written raw).
std::string name_token(const std::string& s) {
  if (s.empty())
    return "-";
  return to_hex(
      std::span<const std::uint8_t>{reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

std::optional<std::string> parse_name_token(const std::string& tok) {
  if (tok == "-")
    return std::string{};
  if (tok.size() % 2 != 0)
    return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < tok.size(); i += 2) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      return -1;
    };
    int hi = hex(tok[i]);
    int lo = hex(tok[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::int64_t> parse_int(const std::string& tok) {
  try {
    std::size_t used = 0;
    auto v = std::stoll(tok, &used, 10);
    if (used != tok.size())
      return std::nullopt;
    return static_cast<std::int64_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string guard_message(ticket_verdict v, const sliver_ticket& t) {
  auto nonce = to_hex(t.nonce);
  switch (v) {
  case ticket_verdict::revoked:
    return "the ticket " + nonce + " of slice " + t.slice_name + " has been revoked";
  case ticket_verdict::replayed:
    return "the ticket " + nonce + " of slice " + t.slice_name +
           " has already been redeemed on this node";
  case ticket_verdict::guard_full:
    return "this node remembers too many unexpired tickets to accept another one now";
  default:
    return std::string{to_string(v)};
  }
}

} // namespace

ticket_desk::ticket_desk(ticket_desk_config cfg, const clock& clk)
    : cfg_(std::move(cfg))
    , clock_(clk)
    , guard_(replay_guard::options{cfg_.skew, cfg_.capacity}) {}

outcome<std::unique_ptr<ticket_desk>> ticket_desk::open(ticket_desk_config cfg, const clock& clk) {
  std::unique_ptr<ticket_desk> desk{new ticket_desk(std::move(cfg), clk)};
  const auto& file = desk->cfg_.state_file;
  if (!file.empty()) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) {
      if (auto err = desk->restore(file))
        return failure{*err};
    } else if (ec) {
      return failure{"cannot look at " + file.string() + ": " + ec.message()};
    }
  }
  return desk;
}

std::optional<std::string> ticket_desk::restore(const std::filesystem::path& file) {
  std::ifstream in{file};
  if (!in)
    return "cannot read " + file.string() + ": " + errno_text(errno);
  std::string line;
  std::size_t number = 0;
  auto bad = [&](const std::string& why) {
    return file.string() + ":" + std::to_string(number) + ": " + why;
  };
  if (!std::getline(in, line) || line != state_header) {
    number = 1;
    return bad("not a ticket state file (expected '" + std::string{state_header} + "')");
  }
  number = 1;
  auto now = clock_.now_epoch();
  struct pending_slice {
    std::string slice;
    slice_revocation r;
  };
  std::vector<std::pair<ticket_nonce, std::int64_t>> nonces;
  std::vector<pending_slice> slices;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    std::istringstream words{line};
    std::vector<std::string> tok;
    for (std::string w; words >> w;)
      tok.push_back(w);
    if (tok.empty())
      continue;
    if (tok[0] == "redeemed" && tok.size() == 5) {
      auto nonce = parse_hex<16>(tok[1]);
      auto issued = parse_int(tok[2]);
      auto expires = parse_int(tok[3]);
      auto slice = parse_name_token(tok[4]);
      if (!nonce || !issued || !expires || !slice)
        return bad("malformed redeemed entry");
      sliver_ticket t;
      t.nonce = *nonce;
      t.issued = *issued;
      t.expires = *expires;
      t.slice_name = *slice;
      auto v = guard_.redeem(t, now);
      if (v == ticket_verdict::guard_full)
        return bad("more entries than the configured capacity");
      if (v == ticket_verdict::valid)
        redeemed_[*nonce] = redeemed_entry{*slice, *issued, *expires};
    } else if (tok[0] == "revoked-nonce" && tok.size() == 3) {
      auto nonce = parse_hex<16>(tok[1]);
      auto expires = parse_int(tok[2]);
      if (!nonce || !expires)
        return bad("malformed revoked-nonce entry");
      nonces.emplace_back(*nonce, *expires);
    } else if (tok[0] == "revoked-slice" && tok.size() == 4) {
      auto at = parse_int(tok[1]);
      auto until = parse_int(tok[2]);
      auto slice = parse_name_token(tok[3]);
      if (!at || !until || !slice)
        return bad("malformed revoked-slice entry");
      slices.push_back({*slice, {*at, *until}});
    } else {
      return bad("unknown entry '" + tok[0] + "'");
    }
  }
  // Revocations after the redemptions: the guard refuses to record a
  // redemption of a revoked ticket, and both must come back.
  for (const auto& [nonce, expires] : nonces) {
    if (!guard_.revoke_nonce(nonce, expires, now))
      return file.string() + ": more entries than the configured capacity";
    revoked_nonces_[nonce] = std::max(expires, revoked_nonces_[nonce]);
  }
  for (const auto& s : slices) {
    if (!guard_.revoke_slice(s.slice, s.r.revoked_at, s.r.latest_expiry, now))
      return file.string() + ": more entries than the configured capacity";
    auto& m = revoked_slices_[s.slice];
    m.revoked_at = std::max(m.revoked_at, s.r.revoked_at);
    m.latest_expiry = std::max(m.latest_expiry, s.r.latest_expiry);
  }
  prune_locked(now);
  return std::nullopt;
}

void ticket_desk::prune_locked(std::int64_t now) {
  guard_.prune(now);
  std::erase_if(redeemed_, [&](const auto& kv) {
    return expiry_deadline(kv.second.expires, cfg_.skew) <= now;
  });
  std::erase_if(revoked_nonces_,
                [&](const auto& kv) { return expiry_deadline(kv.second, cfg_.skew) <= now; });
  std::erase_if(revoked_slices_, [&](const auto& kv) {
    return expiry_deadline(kv.second.latest_expiry, cfg_.skew) <= now;
  });
}

std::optional<std::string> ticket_desk::save_locked() {
  if (cfg_.state_file.empty())
    return std::nullopt;
  std::string out{state_header};
  out += '\n';
  for (const auto& [nonce, e] : redeemed_)
    out += "redeemed " + to_hex(nonce) + ' ' + std::to_string(e.issued) + ' ' +
           std::to_string(e.expires) + ' ' + name_token(e.slice) + '\n';
  for (const auto& [nonce, expires] : revoked_nonces_)
    out += "revoked-nonce " + to_hex(nonce) + ' ' + std::to_string(expires) + '\n';
  for (const auto& [slice, r] : revoked_slices_)
    out += "revoked-slice " + std::to_string(r.revoked_at) + ' ' + std::to_string(r.latest_expiry) +
           ' ' + name_token(slice) + '\n';
  return replace_file(cfg_.state_file, out);
}

ticket_check ticket_desk::check_locked(signed_ticket t) const {
  if (cfg_.keys.size() == 0)
    return ticket_check{ticket_verdict::unknown_key, "no PLC ticket key is installed on this node",
                        std::move(t)};
  auto result = verify_ticket(std::move(t), cfg_.keys, clock_, {cfg_.node_id, cfg_.skew});
  if (!result.valid())
    return result;
  const auto& body = result.ticket->body;
  if (auto v = guard_.check(body); v != ticket_verdict::valid) {
    result.verdict = v;
    result.message = guard_message(v, body);
  } else if (guard_.size() >= guard_.config().capacity) {
    result.verdict = ticket_verdict::guard_full;
    result.message = guard_message(ticket_verdict::guard_full, body);
  }
  return result;
}

ticket_check ticket_desk::check(std::string_view text) const {
  auto parsed = parse_ticket(text);
  if (!parsed)
    return ticket_check{ticket_verdict::malformed, parsed.error(), std::nullopt};
  std::lock_guard lock{mutex_};
  return check_locked(std::move(*parsed));
}

ticket_desk::redemption ticket_desk::redeem(std::string_view text, const deliver_fn& deliver) {
  redemption out;
  auto parsed = parse_ticket(text);
  if (!parsed) {
    out.check = ticket_check{ticket_verdict::malformed, parsed.error(), std::nullopt};
    return out;
  }
  std::lock_guard serial{redeem_mutex_};
  {
    std::lock_guard lock{mutex_};
    prune_locked(clock_.now_epoch());
    out.check = check_locked(std::move(*parsed));
  }
  if (!out.check.valid())
    return out;
  out.delivery_error = deliver(*out.check.ticket);
  if (!out.delivery_error.empty())
    return out;
  std::lock_guard lock{mutex_};
  const auto& body = out.check.ticket->body;
  auto now = clock_.now_epoch();
  auto v = guard_.redeem(body, now);
  if (v == ticket_verdict::valid) {
    redeemed_[body.nonce] = redeemed_entry{body.slice_name, body.issued, body.expires};
    prune_locked(now);
    if (auto err = save_locked())
      out.persist_error = *err;
  } else if (v == ticket_verdict::guard_full) {
    // Revocations filled the guard while the ticket was being delivered.
    out.persist_error = "delivered, but " + guard_message(v, body) + ": it may be presented again";
  }
  // `expired`: the deadline passed during delivery; the ticket is refused as
  // expired from now on anyway. `revoked`: a revocation arrived meanwhile and
  // is already recorded.
  return out;
}

std::optional<std::string> ticket_desk::revoke_slice(const std::string& slice,
                                                     std::int64_t revoked_at,
                                                     std::int64_t latest_expiry) {
  std::lock_guard lock{mutex_};
  auto now = clock_.now_epoch();
  if (!guard_.revoke_slice(slice, revoked_at, latest_expiry, now))
    return "cannot revoke the tickets of " + slice + ": " +
           guard_message(ticket_verdict::guard_full, {});
  if (now < expiry_deadline(latest_expiry, cfg_.skew)) {
    auto& m = revoked_slices_[slice];
    m.revoked_at = std::max(m.revoked_at, revoked_at);
    m.latest_expiry = std::max(m.latest_expiry, latest_expiry);
  }
  prune_locked(now);
  return save_locked();
}

std::optional<std::string> ticket_desk::revoke_nonce(const ticket_nonce& nonce,
                                                     std::int64_t expires) {
  std::lock_guard lock{mutex_};
  auto now = clock_.now_epoch();
  if (!guard_.revoke_nonce(nonce, expires, now))
    return "cannot revoke ticket " + to_hex(nonce) + ": " +
           guard_message(ticket_verdict::guard_full, {});
  if (now < expiry_deadline(expires, cfg_.skew)) {
    auto& e = revoked_nonces_[nonce];
    e = std::max(e, expires);
  }
  prune_locked(now);
  return save_locked();
}

void ticket_desk::add_key(verify_key key) {
  std::lock_guard lock{mutex_};
  cfg_.keys.add(std::move(key));
}

std::size_t ticket_desk::redeemed() const {
  std::lock_guard lock{mutex_};
  return redeemed_.size();
}

std::size_t ticket_desk::size() const {
  std::lock_guard lock{mutex_};
  return redeemed_.size() + revoked_nonces_.size() + revoked_slices_.size();
}

} // namespace pl::node
