#include "actors/ticket.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/rand.h>

namespace pl {

namespace {

constexpr std::array<std::uint8_t, 4> magic = {'P', 'L', 'T', 'K'};

// -- writer -------------------------------------------------------------------

class writer {
public:
  void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void u8(std::uint8_t x) { out_.push_back(x); }
  void u32(std::uint32_t x) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(x >> shift));
  }
  void u64(std::uint64_t x) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(x >> shift));
  }
  void i32(std::int32_t x) { u32(static_cast<std::uint32_t>(x)); }
  void i64(std::int64_t x) { u64(static_cast<std::uint64_t>(x)); }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

private:
  std::vector<std::uint8_t> out_;
};

// -- reader -------------------------------------------------------------------

/// Reads the encoding front to back; the first problem sticks in `error`.
class reader {
public:
  explicit reader(std::span<const std::uint8_t> in)
      : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return in_.size() - pos_; }

  void fail(std::string what) {
    if (error_.empty())
      error_ = std::move(what) + " (at byte " + std::to_string(pos_) + ")";
  }

  std::span<const std::uint8_t> bytes(std::size_t n, const char* what) {
    if (!ok() || remaining() < n) {
      fail(std::string{"truncated "} + what);
      return {};
    }
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint8_t u8(const char* what) {
    auto b = bytes(1, what);
    return b.empty() ? 0 : b[0];
  }
  std::uint64_t be(std::size_t n, const char* what) {
    auto b = bytes(n, what);
    std::uint64_t x = 0;
    for (auto byte : b)
      x = x << 8 | byte;
    return x;
  }
  std::uint32_t u32(const char* what) { return static_cast<std::uint32_t>(be(4, what)); }
  std::int32_t i32(const char* what) { return static_cast<std::int32_t>(u32(what)); }
  std::int64_t i64(const char* what) { return static_cast<std::int64_t>(be(8, what)); }
  std::string str(const char* what);
  /// Reads a count of entries that each take at least `min_size` bytes.
  std::uint32_t count(std::size_t min_size, const char* what) {
    auto n = u32(what);
    if (ok() && static_cast<std::uint64_t>(n) * min_size > remaining())
      fail(std::string{"count of "} + what + " exceeds the data");
    return ok() ? n : 0;
  }

private:
  std::span<const std::uint8_t> in_;
  std::size_t pos_ = 0;
  std::string error_;
};

/// Returns whether `s` is well-formed UTF-8 (no overlong forms, surrogates or
/// code points above U+10FFFF).
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size())
      return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (cc & 0x3f);
    }
    static constexpr std::uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

std::string reader::str(const char* what) {
  auto n = u32(what);
  auto b = bytes(n, what);
  if (!ok())
    return {};
  std::string s(reinterpret_cast<const char*>(b.data()), b.size());
  if (!valid_utf8(s))
    fail(std::string{what} + " is not valid UTF-8");
  return s;
}

// -- base64 -------------------------------------------------------------------

constexpr char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/// Returns the first string in `strings` that is not valid UTF-8, or null.
const std::string* first_invalid_utf8(const sliver_ticket& t) {
  if (!valid_utf8(t.slice_name))
    return &t.slice_name;
  if (!valid_utf8(t.instantiation))
    return &t.instantiation;
  for (const auto& k : t.keys)
    if (!valid_utf8(k))
      return &k;
  for (const auto& [name, value] : t.attributes) {
    if (!valid_utf8(name))
      return &name;
    if (!valid_utf8(value))
      return &value;
  }
  return nullptr;
}

std::string describe_nodes(const sliver_ticket& t) {
  if (t.any_node)
    return "any node";
  std::string out = "nodes";
  for (auto id : t.node_ids)
    out += " " + std::to_string(id);
  return out;
}

/// Adds without overflowing (a ticket may carry any 64-bit time).
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t out;
  if (__builtin_add_overflow(a, b, &out))
    return b > 0 ? INT64_MAX : INT64_MIN;
  return out;
}

} // namespace

// -- base64 (public) ----------------------------------------------------------

std::string base64_encode(std::span<const std::uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
    out.push_back(b64_alphabet[v >> 18 & 63]);
    out.push_back(b64_alphabet[v >> 12 & 63]);
    out.push_back(b64_alphabet[v >> 6 & 63]);
    out.push_back(b64_alphabet[v & 63]);
  }
  if (auto rest = data.size() - i; rest > 0) {
    std::uint32_t v = data[i] << 16 | (rest == 2 ? data[i + 1] << 8 : 0);
    out.push_back(b64_alphabet[v >> 18 & 63]);
    out.push_back(b64_alphabet[v >> 12 & 63]);
    out.push_back(rest == 2 ? b64_alphabet[v >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=')
      pad = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int d = k >= 4 - pad ? 0 : b64_value(text[i + k]);
      if (d < 0)
        return std::nullopt;
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    if (pad < 2)
      out.push_back(static_cast<std::uint8_t>(v >> 8));
    if (pad < 1)
      out.push_back(static_cast<std::uint8_t>(v));
    // Canonical: the bits that padding leaves unused must be zero.
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0))
      return std::nullopt;
  }
  return out;
}

// -- encoding -----------------------------------------------------------------

sliver_ticket canonical(sliver_ticket t) {
  if (t.any_node)
    t.node_ids.clear();
  std::sort(t.node_ids.begin(), t.node_ids.end());
  t.node_ids.erase(std::unique(t.node_ids.begin(), t.node_ids.end()), t.node_ids.end());
  std::sort(t.keys.begin(), t.keys.end());
  t.keys.erase(std::unique(t.keys.begin(), t.keys.end()), t.keys.end());
  return t;
}

std::vector<std::uint8_t> encode_ticket(const sliver_ticket& input) {
  auto t = canonical(input);
  writer w;
  w.bytes(magic);
  w.u8(ticket_format_version);
  w.bytes(t.key_id);
  w.bytes(t.nonce);
  w.i64(t.issued);
  w.i64(t.expires);
  w.i32(t.slice_id);
  w.str(t.slice_name);
  w.str(t.instantiation);
  w.u8(t.any_node ? 1 : 0);
  if (!t.any_node) {
    w.u32(static_cast<std::uint32_t>(t.node_ids.size()));
    for (auto id : t.node_ids)
      w.i32(id);
  }
  w.u32(static_cast<std::uint32_t>(t.keys.size()));
  for (const auto& k : t.keys)
    w.str(k);
  // std::map<std::string, ...> orders names bytewise (char_traits<char> compares as unsigned).
  w.u32(static_cast<std::uint32_t>(t.attributes.size()));
  for (const auto& [name, value] : t.attributes) {
    w.str(name);
    w.str(value);
  }
  return w.take();
}

outcome<sliver_ticket> decode_ticket(std::span<const std::uint8_t> encoding) {
  if (encoding.size() > max_ticket_encoding)
    return failure{"ticket encoding larger than " + std::to_string(max_ticket_encoding) + " bytes"};
  reader r{encoding};
  sliver_ticket t;
  auto m = r.bytes(magic.size(), "magic");
  if (r.ok() && !std::equal(m.begin(), m.end(), magic.begin()))
    return failure{"not a ticket (bad magic)"};
  auto version = r.u8("version");
  if (r.ok() && version != ticket_format_version)
    return failure{"unsupported ticket format version " + std::to_string(version)};
  auto id = r.bytes(t.key_id.size(), "key id");
  if (r.ok())
    std::copy(id.begin(), id.end(), t.key_id.begin());
  auto nonce = r.bytes(t.nonce.size(), "nonce");
  if (r.ok())
    std::copy(nonce.begin(), nonce.end(), t.nonce.begin());
  t.issued = r.i64("issued");
  t.expires = r.i64("expires");
  t.slice_id = r.i32("slice_id");
  t.slice_name = r.str("slice name");
  t.instantiation = r.str("instantiation");
  auto scope = r.u8("node scope");
  if (r.ok() && scope > 1)
    r.fail("node scope " + std::to_string(scope) + " is neither 0 (listed) nor 1 (any)");
  t.any_node = scope == 1;
  if (r.ok() && !t.any_node) {
    auto n = r.count(4, "node ids");
    if (r.ok() && n == 0)
      r.fail("empty node set");
    for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
      auto id = r.i32("node id");
      if (r.ok() && !t.node_ids.empty() && id <= t.node_ids.back())
        r.fail("node ids not strictly ascending");
      t.node_ids.push_back(id);
    }
  }
  auto nkeys = r.count(4, "keys");
  for (std::uint32_t i = 0; i < nkeys && r.ok(); ++i) {
    auto k = r.str("key");
    if (r.ok() && !t.keys.empty() && k <= t.keys.back())
      r.fail("keys not strictly ascending");
    t.keys.push_back(std::move(k));
  }
  auto nattrs = r.count(8, "attributes");
  for (std::uint32_t i = 0; i < nattrs && r.ok(); ++i) {
    auto name = r.str("attribute name");
    auto value = r.str("attribute value");
    if (r.ok() && !t.attributes.empty() && name <= t.attributes.rbegin()->first)
      r.fail("attribute names not strictly ascending");
    t.attributes.emplace_hint(t.attributes.end(), std::move(name), std::move(value));
  }
  if (r.ok() && r.remaining() != 0)
    r.fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok())
    return failure{"malformed ticket: " + r.error()};
  return t;
}

// -- signed form --------------------------------------------------------------

std::vector<std::uint8_t> signed_ticket::blob() const {
  auto out = encoding;
  out.insert(out.end(), signature.begin(), signature.end());
  return out;
}

std::string signed_ticket::text() const {
  return std::string{ticket_text_prefix} + base64_encode(blob());
}

outcome<signed_ticket> parse_ticket_blob(std::span<const std::uint8_t> blob) {
  signed_ticket t;
  if (blob.size() < t.signature.size())
    return failure{"malformed ticket: shorter than a signature"};
  auto body = blob.first(blob.size() - t.signature.size());
  auto decoded = decode_ticket(body);
  if (!decoded)
    return failure{decoded.error()};
  t.body = std::move(*decoded);
  t.encoding.assign(body.begin(), body.end());
  std::copy(blob.end() - static_cast<std::ptrdiff_t>(t.signature.size()), blob.end(),
            t.signature.begin());
  return t;
}

outcome<signed_ticket> parse_ticket(std::string_view text) {
  if (!text.starts_with(ticket_text_prefix)) {
    if (text.starts_with("pltk"))
      return failure{"unsupported ticket text version (expected prefix " +
                     std::string{ticket_text_prefix} + ")"};
    return failure{"not a ticket (expected prefix " + std::string{ticket_text_prefix} + ")"};
  }
  text.remove_prefix(ticket_text_prefix.size());
  if (text.size() > (max_ticket_encoding + 64) / 3 * 4 + 4)
    return failure{"ticket text too long"};
  auto blob = base64_decode(text);
  if (!blob)
    return failure{"malformed ticket: invalid base64"};
  return parse_ticket_blob(*blob);
}

// -- issuing ------------------------------------------------------------------

outcome<signed_ticket> issue_ticket(sliver_ticket body, const signing_key& key, const clock& clk) {
  if (body.slice_name.empty())
    return failure{"ticket without a slice name"};
  if (body.instantiation.empty())
    return failure{"ticket for " + body.slice_name + " without an instantiation"};
  if (body.any_node && !body.node_ids.empty())
    return failure{"ticket for " + body.slice_name + " names nodes and any node at once"};
  if (!body.any_node && body.node_ids.empty())
    return failure{"ticket for " + body.slice_name + " has no node (use any_node for all)"};
  if (const auto* bad = first_invalid_utf8(body))
    return failure{"ticket for " + body.slice_name + ": invalid UTF-8 in \"" + *bad + "\""};
  body.issued = clk.now_epoch();
  if (body.expires <= body.issued)
    return failure{"ticket for " + body.slice_name + " would expire at " +
                   std::to_string(body.expires) + ", not after its issue time " +
                   std::to_string(body.issued)};
  body.key_id = key.id();
  if (RAND_bytes(body.nonce.data(), static_cast<int>(body.nonce.size())) != 1)
    return failure{"random generator failed; no ticket issued"};
  signed_ticket t;
  t.body = canonical(std::move(body));
  t.encoding = encode_ticket(t.body);
  if (t.encoding.size() > max_ticket_encoding)
    return failure{"ticket for " + t.body.slice_name + " exceeds " +
                   std::to_string(max_ticket_encoding) + " bytes"};
  t.signature = key.sign(t.encoding);
  return t;
}

// -- verifying ----------------------------------------------------------------

std::string_view to_string(ticket_verdict v) {
  switch (v) {
  case ticket_verdict::valid:
    return "valid";
  case ticket_verdict::malformed:
    return "malformed";
  case ticket_verdict::unknown_key:
    return "unknown_key";
  case ticket_verdict::bad_signature:
    return "bad_signature";
  case ticket_verdict::expired:
    return "expired";
  case ticket_verdict::not_yet_valid:
    return "not_yet_valid";
  case ticket_verdict::wrong_node:
    return "wrong_node";
  case ticket_verdict::replayed:
    return "replayed";
  case ticket_verdict::revoked:
    return "revoked";
  case ticket_verdict::guard_full:
    return "guard_full";
  }
  return "unknown";
}

std::int64_t expiry_deadline(std::int64_t expires, std::int64_t skew) {
  return saturating_add(expires, skew);
}

ticket_check verify_ticket(signed_ticket t, const ticket_keyring& keys, const clock& clk,
                           const verify_options& opts) {
  // Each message is built before `t` moves into the result (`b` refers into `t`).
  const auto& b = t.body;
  auto verdict = ticket_verdict::valid;
  std::string message;
  auto now = clk.now_epoch();
  const auto* key = keys.find(b.key_id);
  if (key == nullptr) {
    verdict = ticket_verdict::unknown_key;
    message = "ticket signed by unknown key " + to_hex(b.key_id);
  } else if (!key->verify(t.encoding, t.signature)) {
    verdict = ticket_verdict::bad_signature;
    message = "signature does not match the ticket (tampered or corrupted)";
  } else if (b.issued > saturating_add(now, opts.skew)) {
    verdict = ticket_verdict::not_yet_valid;
    message = "ticket issued at " + std::to_string(b.issued) + ", in the future (now " +
              std::to_string(now) + ", skew " + std::to_string(opts.skew) + " s)";
  } else if (now >= expiry_deadline(b.expires, opts.skew)) {
    verdict = ticket_verdict::expired;
    message = "ticket expired at " + std::to_string(b.expires) + " (now " + std::to_string(now) +
              ", skew " + std::to_string(opts.skew) + " s)";
  } else if (opts.node_id && !b.any_node &&
             !std::binary_search(b.node_ids.begin(), b.node_ids.end(), *opts.node_id)) {
    verdict = ticket_verdict::wrong_node;
    message = "ticket is for " + describe_nodes(b) + ", not node " + std::to_string(*opts.node_id);
  } else {
    message = "valid ticket for slice " + b.slice_name + " on " + describe_nodes(b);
  }
  return ticket_check{verdict, std::move(message), std::move(t)};
}

ticket_check verify_ticket(std::string_view text, const ticket_keyring& keys, const clock& clk,
                           const verify_options& opts) {
  auto parsed = parse_ticket(text);
  if (!parsed)
    return ticket_check{ticket_verdict::malformed, parsed.error(), std::nullopt};
  return verify_ticket(std::move(*parsed), keys, clk, opts);
}

} // namespace pl
