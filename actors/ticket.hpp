#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "actors/clock.hpp"
#include "actors/outcome.hpp"
#include "actors/ticket_keys.hpp"

// Slice tickets (GetSliceTicket): the record, its canonical encoding, the text
// form that travels in XML-RPC strings, issuing and verifying. CAF-free; the
// byte layout is documented in actors/README.md ("Ticket format").
//
// PLC:   auto t = pl::issue_ticket(body, plc_key, clock);   // t->text() to the caller
// Node:  auto c = pl::verify_ticket(text, keyring, clock, {.node_id = 7});
//        if (!c.valid()) refuse(c.message);
// Replays and revocations: ticket_verifier (actors/ticket_guard.hpp).

namespace pl {

/// Makes each ticket unique, so a node can refuse a replay (128 random bits).
using ticket_nonce = std::array<std::uint8_t, 16>;

/// Grants a slice's slivers: the signed content of a ticket.
struct sliver_ticket {
  std::string slice_name;
  std::int32_t slice_id = 0;
  /// `plc-instantiated`, `delegated`, `nm-controller` or `not-instantiated`.
  std::string instantiation;
  /// True: redeemable on any node (then `node_ids` is empty).
  bool any_node = false;
  /// The nodes where the ticket may be redeemed (ascending in the encoding).
  std::vector<std::int32_t> node_ids;
  /// authorized_keys lines of the slice's enabled members (sorted in the encoding).
  std::vector<std::string> keys;
  /// Slice tags, name -> value, as in `slice_spec::attributes`.
  std::map<std::string, std::string> attributes;
  /// PLC's time of issue, epoch seconds.
  std::int64_t issued = 0;
  /// Absolute end of validity, epoch seconds.
  std::int64_t expires = 0;
  ticket_nonce nonce{};
  /// Names the PLC key that signs the ticket.
  ticket_key_id key_id{};

  friend bool operator==(const sliver_ticket&, const sliver_ticket&) = default;
};

/// Is the format version, the encoding's fifth byte.
inline constexpr std::uint8_t ticket_format_version = 1;
/// Starts every ticket in text form; the digit is the format version.
inline constexpr std::string_view ticket_text_prefix = "pltk1:";
/// Bounds the encoding (everything but the signature).
inline constexpr std::size_t max_ticket_encoding = 1 << 20;

/// Returns `t` in canonical form: node ids and keys sorted, duplicates dropped,
/// node ids cleared when `any_node`. `decode_ticket(encode_ticket(t)) == canonical(t)`.
sliver_ticket canonical(sliver_ticket t);

/// Returns the canonical encoding of `t` (of `canonical(t)`): the bytes PLC signs.
std::vector<std::uint8_t> encode_ticket(const sliver_ticket& t);

/// Parses a canonical encoding; refuses anything else (wrong magic or version,
/// unsorted or duplicate entries, invalid UTF-8, trailing bytes, too large).
outcome<sliver_ticket> decode_ticket(std::span<const std::uint8_t> encoding);

/// Holds a ticket as it travels: its encoding, PLC's signature over it, and
/// the decoded content. Not yet verified unless a verification said so.
struct signed_ticket {
  sliver_ticket body;
  std::vector<std::uint8_t> encoding;
  ticket_signature signature{};

  /// Returns the binary form: `encoding` followed by `signature`.
  std::vector<std::uint8_t> blob() const;
  /// Returns the text form: `ticket_text_prefix` + base64 of `blob()`, one line.
  std::string text() const;

  friend bool operator==(const signed_ticket&, const signed_ticket&) = default;
};

/// Parses the text form strictly (no whitespace, canonical base64); does not verify.
outcome<signed_ticket> parse_ticket(std::string_view text);

/// Parses the binary form (`signed_ticket::blob`); does not verify.
outcome<signed_ticket> parse_ticket_blob(std::span<const std::uint8_t> blob);

/// Signs a ticket for `body`: sets `issued` to the clock's time, a fresh random
/// nonce and the key's id, then encodes and signs. Fails when `body` is not
/// issuable: empty slice name or instantiation, no node and not `any_node`,
/// both nodes and `any_node`, `expires <= issued`, invalid UTF-8, too large,
/// or the random generator fails.
outcome<signed_ticket> issue_ticket(sliver_ticket body, const signing_key& key, const clock& clk);

/// Says whether a ticket is accepted and, if not, why.
enum class ticket_verdict : std::uint8_t {
  valid,
  /// Not a ticket: bad prefix, base64, layout or version.
  malformed,
  /// Signed by a key the verifier does not hold.
  unknown_key,
  /// The signature does not match the content (tampered or corrupted).
  bad_signature,
  /// `expires` plus the skew allowance has passed.
  expired,
  /// `issued` lies further in the future than the skew allowance.
  not_yet_valid,
  /// The redeeming node is not in the ticket's node set.
  wrong_node,
  /// This ticket (nonce) was already redeemed here.
  replayed,
  /// The ticket or its slice was revoked.
  revoked,
  /// The replay guard is full of unexpired entries; nothing was recorded.
  guard_full,
};

/// Returns the verdict's name, e.g. `bad_signature`.
std::string_view to_string(ticket_verdict v);

/// Holds the result of a verification.
struct ticket_check {
  ticket_verdict verdict = ticket_verdict::malformed;
  /// Says why, for logs and for the caller (e.g. in fault 102's text).
  std::string message;
  /// The parsed ticket when it could be parsed, also when refused (then its
  /// content is untrusted: show it, never act on it).
  std::optional<signed_ticket> ticket;

  bool valid() const { return verdict == ticket_verdict::valid; }
};

/// Tunes what `verify_ticket` checks.
struct verify_options {
  /// The node redeeming the ticket; none skips the node check (e.g. inspecting at PLC).
  std::optional<std::int32_t> node_id;
  /// Clock-skew allowance in seconds, applied to both `issued` and `expires`.
  std::int64_t skew = 300;
};

/// Returns the first time (epoch seconds) at which a ticket expiring at
/// `expires` is refused as expired under a skew allowance of `skew` seconds:
/// `expires + skew`, saturated.
std::int64_t expiry_deadline(std::int64_t expires, std::int64_t skew);

/// Verifies a parsed ticket at the clock's time, in this order: key known,
/// signature, not yet valid (`issued > now + skew`), expired (`now >= expires +
/// skew`), node. Replays and revocations need state: see `ticket_verifier`.
ticket_check verify_ticket(signed_ticket t, const ticket_keyring& keys, const clock& clk,
                           const verify_options& opts = {});

/// Parses the text form, then verifies as above (`malformed` when it does not parse).
ticket_check verify_ticket(std::string_view text, const ticket_keyring& keys, const clock& clk,
                           const verify_options& opts = {});

/// Returns `data` as standard base64 with padding, no line breaks.
std::string base64_encode(std::span<const std::uint8_t> data);

/// Decodes canonical base64 (standard alphabet, padding, zero unused bits, no
/// whitespace); empty on anything else.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

} // namespace pl
