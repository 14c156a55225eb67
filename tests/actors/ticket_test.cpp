// Slice tickets without an actor system: the canonical encoding (pinned by a
// known answer), Ed25519 keys and their PEM files, every verification verdict,
// tamper detection at every byte of the text form, and the replay guard.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "actors/clock.hpp"
#include "actors/ticket.hpp"
#include "actors/ticket_guard.hpp"
#include "actors/ticket_keys.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::int64_t t0 = 1'200'000'000;

pl::clock::time_point at(std::int64_t s) {
  return pl::clock::time_point{std::chrono::seconds{s}};
}

/// Removes its directory (and everything under it) when it goes out of scope.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "pl_ticket_test_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::uint64_t seed() {
  static const std::uint64_t value = [] {
    std::uint64_t s = std::random_device{}();
    if (const char* env = std::getenv("PL_SEED"))
      s = std::strtoull(env, nullptr, 10);
    std::cout << "random-seed=" << s << "\n";
    return s;
  }();
  return value;
}

pl::signing_key new_key() {
  auto key = pl::signing_key::generate();
  REQUIRE(key);
  return *key;
}

pl::sliver_ticket sample_body() {
  pl::sliver_ticket t;
  t.slice_name = "princeton_codeen";
  t.slice_id = 42;
  t.instantiation = "delegated";
  t.node_ids = {7, 3, 11};
  t.keys = {"ssh-rsa AAAAB3Nza alice@example.org", "ssh-ed25519 AAAAC3 bob@example.org"};
  t.attributes = {{"cpu_share", "64"}, {"vref", "f8"}, {"initscript", "codeen_init"}};
  t.expires = t0 + 3600;
  return t;
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string{hex.substr(i, 2)}, nullptr, 16)));
  return out;
}

/// Issues a ticket at `t0`.
pl::signed_ticket issue(const pl::signing_key& key, pl::sliver_ticket body = sample_body()) {
  pl::manual_clock clk{at(t0)};
  auto t = pl::issue_ticket(std::move(body), key, clk);
  REQUIRE(t);
  return *t;
}

} // namespace

TEST_CASE("the encoding matches the documented layout byte for byte", "[ticket]") {
  // actors/README.md, "Ticket format"; the expected bytes were computed independently.
  pl::sliver_ticket t;
  t.slice_name = "pl_kat";
  t.slice_id = 7;
  t.instantiation = "delegated";
  t.node_ids = {5, 2};
  t.keys = {"k2", "k1"};
  t.attributes = {{"vref", "f8"}, {"cpu_share", "64"}};
  t.issued = 1000;
  t.expires = 2000;
  for (std::uint8_t i = 0; i < 16; ++i)
    t.nonce[i] = i;
  for (std::uint8_t i = 0; i < 8; ++i)
    t.key_id[i] = 0xa0 + i;
  auto expected = from_hex(
      "504c544b01a0a1a2a3a4a5a6a7000102030405060708090a0b0c0d0e0f00000000000003e800000000000007d0"
      "0000000700000006706c5f6b61740000000964656c6567617465640000000002000000020000000500000002"
      "000000026b31000000026b3200000002000000096370755f73686172650000000236340000000476726566000000"
      "026638");
  CHECK(pl::encode_ticket(t) == expected);
  auto back = pl::decode_ticket(expected);
  REQUIRE(back);
  CHECK(*back == pl::canonical(t));

  SECTION("any node is scope byte 1 with no list") {
    t.any_node = true;
    auto bytes = pl::encode_ticket(t);
    // 5 + 8 + 16 + 8 + 8 + 4 + (4 + 6) + (4 + 9) = 72: the scope byte follows.
    REQUIRE(bytes.size() > 73);
    CHECK(bytes[72] == 1);
    CHECK(std::equal(bytes.begin() + 73, bytes.end(), expected.begin() + 85));
    auto decoded = pl::decode_ticket(bytes);
    REQUIRE(decoded);
    CHECK(decoded->any_node);
    CHECK(decoded->node_ids.empty());
  }
}

TEST_CASE("an issued ticket round-trips through text and blob and verifies", "[ticket]") {
  auto key = new_key();
  auto t = issue(key);
  CHECK(t.body.issued == t0);
  CHECK(t.body.key_id == key.id());
  CHECK(t.body.nonce != pl::ticket_nonce{});
  CHECK(t.body.node_ids == std::vector<std::int32_t>{3, 7, 11});
  CHECK(t.encoding == pl::encode_ticket(t.body));

  auto text = t.text();
  CHECK(text.starts_with("pltk1:"));
  CHECK(text.find_first_of(" \n\r\t") == std::string::npos);
  auto parsed = pl::parse_ticket(text);
  REQUIRE(parsed);
  CHECK(*parsed == t);
  auto from_blob = pl::parse_ticket_blob(t.blob());
  REQUIRE(from_blob);
  CHECK(*from_blob == t);

  pl::manual_clock clk{at(t0 + 10)};
  pl::ticket_keyring keys{key.public_key()};
  auto check = pl::verify_ticket(text, keys, clk, {.node_id = 7});
  INFO(check.message);
  CHECK(check.valid());
  CHECK(check.verdict == pl::ticket_verdict::valid);
  REQUIRE(check.ticket);
  CHECK(check.ticket->body == t.body);

  SECTION("two tickets for the same body differ in nonce, so both can be redeemed once") {
    auto u = issue(key);
    CHECK(u.body.nonce != t.body.nonce);
    pl::ticket_verifier v{keys, clk, {.node_id = 7}};
    CHECK(v.redeem(text).valid());
    CHECK(v.redeem(u.text()).valid());
  }
}

TEST_CASE("issuing refuses bodies that cannot make a usable ticket", "[ticket]") {
  auto key = new_key();
  pl::manual_clock clk{at(t0)};
  auto refuses = [&](pl::sliver_ticket body, const char* words) {
    auto t = pl::issue_ticket(std::move(body), key, clk);
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error(), Catch::Contains(words));
  };
  auto b = sample_body();
  b.slice_name.clear();
  refuses(b, "slice name");
  b = sample_body();
  b.instantiation.clear();
  refuses(b, "instantiation");
  b = sample_body();
  b.node_ids.clear();
  refuses(b, "no node");
  b = sample_body();
  b.any_node = true;
  refuses(b, "any node at once");
  b = sample_body();
  b.expires = t0;
  refuses(b, "not after its issue time");
  b = sample_body();
  b.attributes["bad"] = std::string{"\xc3\x28", 2};
  refuses(b, "UTF-8");

  b = sample_body();
  b.node_ids.clear();
  b.any_node = true;
  auto any = pl::issue_ticket(b, key, clk);
  REQUIRE(any);
  pl::ticket_keyring keys{key.public_key()};
  CHECK(pl::verify_ticket(any->text(), keys, clk, {.node_id = 12345}).valid());
}

TEST_CASE("verification gives each refusal its reason", "[ticket]") {
  auto key = new_key();
  auto t = issue(key); // issued t0, expires t0 + 3600, nodes 3 7 11
  pl::ticket_keyring keys{key.public_key()};
  pl::manual_clock clk{at(t0 + 60)};
  using v = pl::ticket_verdict;
  auto verdict = [&](const std::string& text, pl::verify_options opts = {.node_id = 7}) {
    auto c = pl::verify_ticket(text, keys, clk, opts);
    INFO(c.message);
    CHECK_FALSE(c.message.empty());
    return c.verdict;
  };

  SECTION("malformed") {
    CHECK(verdict("") == v::malformed);
    CHECK(verdict("hello") == v::malformed);
    CHECK(verdict("pltk2:" + t.text().substr(6)) == v::malformed);
    CHECK(verdict(t.text() + "\n") == v::malformed);
    CHECK(verdict(t.text().substr(0, t.text().size() - 4)) == v::malformed);
    CHECK(verdict("pltk1:" + pl::base64_encode(std::vector<std::uint8_t>(10, 0))) == v::malformed);
    // A well-formed base64 body with one trailing byte after the encoding.
    auto blob = t.encoding;
    blob.push_back(0);
    auto sig = key.sign(blob);
    blob.insert(blob.end(), sig.begin(), sig.end());
    CHECK(verdict("pltk1:" + pl::base64_encode(blob)) == v::malformed);
  }
  SECTION("unknown key") {
    auto other = new_key();
    auto c = pl::verify_ticket(issue(other).text(), keys, clk, {});
    CHECK(c.verdict == v::unknown_key);
    CHECK_THAT(c.message, Catch::Contains(pl::to_hex(other.id())));
    REQUIRE(c.ticket); // decoded even though refused
  }
  SECTION("bad signature: content changed after signing") {
    auto forged = t;
    forged.body.node_ids.push_back(99);
    forged.encoding = pl::encode_ticket(forged.body);
    CHECK(verdict(forged.text(), {.node_id = 99}) == v::bad_signature);
    auto flipped = t;
    flipped.signature[5] ^= 1;
    CHECK(verdict(flipped.text()) == v::bad_signature);
  }
  SECTION("expired, with the skew allowance") {
    pl::verify_options opts{.node_id = 7, .skew = 300};
    clk.set(at(t0 + 3600 + 299));
    CHECK(verdict(t.text(), opts) == v::valid);
    clk.set(at(t0 + 3600 + 300));
    CHECK(verdict(t.text(), opts) == v::expired);
    opts.skew = 0;
    clk.set(at(t0 + 3599));
    CHECK(verdict(t.text(), opts) == v::valid);
    clk.set(at(t0 + 3600));
    CHECK(verdict(t.text(), opts) == v::expired);
  }
  SECTION("not yet valid: issued beyond the skew in the future") {
    pl::verify_options opts{.node_id = 7, .skew = 120};
    clk.set(at(t0 - 120));
    CHECK(verdict(t.text(), opts) == v::valid);
    clk.set(at(t0 - 121));
    CHECK(verdict(t.text(), opts) == v::not_yet_valid);
  }
  SECTION("wrong node") {
    CHECK(verdict(t.text(), {.node_id = 8}) == v::wrong_node);
    CHECK(verdict(t.text(), {.node_id = 11}) == v::valid);
    CHECK(verdict(t.text(), {}) == v::valid); // no node given: not checked
  }
  SECTION("replayed and revoked need the verifier's state") {
    pl::ticket_verifier ver{keys, clk, {.node_id = 7}};
    CHECK(ver.check(t.text()).valid());
    CHECK(ver.check(t.text()).valid()); // check records nothing
    CHECK(ver.redeem(t.text()).valid());
    auto again = ver.redeem(t.text());
    CHECK(again.verdict == v::replayed);
    CHECK_THAT(again.message, Catch::Contains("already redeemed"));
    CHECK(ver.check(t.text()).verdict == v::replayed);

    auto u = issue(key);
    REQUIRE(ver.revoke_nonce(u.body.nonce, u.body.expires));
    CHECK(ver.redeem(u.text()).verdict == v::revoked);

    auto w = issue(key);
    REQUIRE(ver.revoke_slice(w.body.slice_name, t0, w.body.expires));
    CHECK(ver.redeem(w.text()).verdict == v::revoked);
    // A ticket issued after the revocation (a re-created slice) is fine.
    pl::manual_clock later{at(t0 + 30)};
    auto fresh = pl::issue_ticket(sample_body(), key, later);
    REQUIRE(fresh);
    CHECK(ver.redeem(fresh->text()).valid());
    // Revoked wins over replayed for a redeemed ticket.
    REQUIRE(ver.revoke_nonce(t.body.nonce, t.body.expires));
    CHECK(ver.check(t.text()).verdict == v::revoked);
    // A stateless refusal comes first.
    pl::ticket_verifier elsewhere{keys, clk, {.node_id = 8}};
    CHECK(elsewhere.redeem(t.text()).verdict == v::wrong_node);
    CHECK(elsewhere.guard().redeemed() == 0);
  }
  SECTION("guard full") {
    pl::ticket_verifier ver{keys, clk, {.node_id = 7, .capacity = 2}};
    CHECK(ver.redeem(issue(key).text()).valid());
    CHECK(ver.redeem(issue(key).text()).valid());
    auto third = issue(key);
    CHECK(ver.redeem(third.text()).verdict == v::guard_full);
    CHECK(ver.guard().size() == 2);
    // Once the first two expire, room returns.
    clk.set(at(t0 + 3600 + 300));
    pl::manual_clock later{at(t0 + 3600 + 300)};
    auto body = sample_body();
    body.expires = t0 + 10000;
    auto fourth = pl::issue_ticket(body, key, later);
    REQUIRE(fourth);
    CHECK(ver.redeem(fourth->text()).valid());
    CHECK(ver.guard().size() == 1);
  }
  for (auto x : {v::valid, v::malformed, v::unknown_key, v::bad_signature, v::expired,
                 v::not_yet_valid, v::wrong_node, v::replayed, v::revoked, v::guard_full})
    CHECK(pl::to_string(x) != "unknown");
}

TEST_CASE("any one-byte change of the text form is refused", "[ticket]") {
  auto key = new_key();
  auto t = issue(key);
  pl::ticket_keyring keys{key.public_key()};
  pl::manual_clock clk{at(t0 + 1)};
  auto text = t.text();
  REQUIRE(pl::verify_ticket(text, keys, clk, {.node_id = 7}).valid());
  const std::string replacements = "AB/+=a0 \n\x01\xff";
  std::size_t tried = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (char r : replacements) {
      if (text[i] == r)
        continue;
      auto changed = text;
      changed[i] = r;
      auto c = pl::verify_ticket(changed, keys, clk, {.node_id = 7});
      INFO("position " << i << " -> " << int(r) << ": " << c.message);
      CHECK_FALSE(c.valid());
      ++tried;
    }
    auto dropped = text;
    dropped.erase(i, 1);
    CHECK_FALSE(pl::verify_ticket(dropped, keys, clk, {.node_id = 7}).valid());
    auto inserted = text;
    inserted.insert(i, 1, 'A');
    CHECK_FALSE(pl::verify_ticket(inserted, keys, clk, {.node_id = 7}).valid());
  }
  CHECK(tried > text.size() * 8);

  // Every single bit of the binary form, too.
  auto blob = t.blob();
  for (std::size_t i = 0; i < blob.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      auto changed = blob;
      changed[i] ^= static_cast<std::uint8_t>(1 << bit);
      auto parsed = pl::parse_ticket_blob(changed);
      if (!parsed)
        continue; // malformed: refused
      INFO("byte " << i << " bit " << bit);
      CHECK_FALSE(pl::verify_ticket(*parsed, keys, clk, {.node_id = 7}).valid());
    }
}

TEST_CASE("base64 decoding accepts only the canonical form", "[ticket]") {
  std::vector<std::uint8_t> data{0xfb, 0xff, 0x00, 0x10};
  auto text = pl::base64_encode(data);
  CHECK(text == "+/8AEA==");
  CHECK(pl::base64_decode(text) == data);
  CHECK(pl::base64_decode("") == std::vector<std::uint8_t>{});
  CHECK_FALSE(pl::base64_decode("+/8AEB=="));  // nonzero unused bits
  CHECK_FALSE(pl::base64_decode("+/8AEA="));   // missing padding
  CHECK_FALSE(pl::base64_decode("+/8A EA==")); // whitespace
  CHECK_FALSE(pl::base64_decode("+/8=AEA="));  // padding inside
  CHECK_FALSE(pl::base64_decode("-_8AEA=="));  // URL alphabet
}

TEST_CASE("the canonical encoding does not depend on insertion order", "[ticket]") {
  std::mt19937_64 rng{seed()};
  auto body = sample_body();
  body.issued = t0;
  body.node_ids = {1, 2, 3, 5, 8, 13, 21, 34, -4};
  body.keys = {"k-a", "k-b", "K-c", "k-\xc3\xa9", "k-e"};
  for (int i = 0; i < 20; ++i)
    body.attributes["attr" + std::to_string(i)] = std::to_string(i * i);
  auto reference = pl::encode_ticket(body);
  for (int round = 0; round < 50; ++round) {
    pl::sliver_ticket shuffled = body;
    std::shuffle(shuffled.node_ids.begin(), shuffled.node_ids.end(), rng);
    std::shuffle(shuffled.keys.begin(), shuffled.keys.end(), rng);
    // Duplicates are dropped.
    shuffled.node_ids.push_back(shuffled.node_ids.front());
    shuffled.keys.push_back(shuffled.keys.back());
    // Attributes inserted in another order.
    std::vector<std::pair<std::string, std::string>> attrs(body.attributes.begin(),
                                                           body.attributes.end());
    std::shuffle(attrs.begin(), attrs.end(), rng);
    shuffled.attributes.clear();
    for (auto& [k, val] : attrs)
      shuffled.attributes.emplace(k, val);
    CHECK(pl::encode_ticket(shuffled) == reference);
  }
  auto decoded = pl::decode_ticket(reference);
  REQUIRE(decoded);
  CHECK(decoded->node_ids.front() == -4);
  CHECK(std::is_sorted(decoded->keys.begin(), decoded->keys.end()));
  CHECK(pl::encode_ticket(*decoded) == reference);
}

TEST_CASE("decoding refuses every non-canonical encoding", "[ticket]") {
  pl::sliver_ticket t = sample_body();
  t.node_ids = {1, 2};
  t.keys = {"a", "b"};
  t.attributes = {{"x", "1"}, {"y", "2"}};
  auto good = pl::encode_ticket(t);
  REQUIRE(pl::decode_ticket(good));
  auto refused = [](std::vector<std::uint8_t> bytes, const char* words) {
    auto d = pl::decode_ticket(bytes);
    REQUIRE_FALSE(d);
    CHECK_THAT(d.error(), Catch::Contains(words));
  };
  auto find = [&](std::string_view s) {
    auto it = std::search(good.begin(), good.end(), s.begin(), s.end());
    REQUIRE(it != good.end());
    return static_cast<std::size_t>(it - good.begin());
  };
  auto bytes = good;
  bytes[0] = 'X';
  refused(bytes, "magic");
  bytes = good;
  bytes[4] = 2;
  refused(bytes, "version 2");
  // Node ids 1, 2 -> 2, 2 (not strictly ascending).
  auto scope = find(std::string{"delegated"}) + 9;
  REQUIRE(good[scope] == 0);
  bytes = good;
  bytes[scope + 1 + 4 + 3] = 2;
  refused(bytes, "node ids");
  bytes = good;
  bytes[scope] = 2;
  refused(bytes, "node scope");
  // Zero nodes with scope 0.
  bytes = good;
  bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(scope + 1),
              bytes.begin() + static_cast<std::ptrdiff_t>(scope + 1 + 4 + 8));
  bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(scope + 1), {0, 0, 0, 0});
  refused(bytes, "empty node set");
  // Keys "a", "b" -> "b", "b".
  bytes = good;
  bytes[find(std::string{"\0\0\0\1a", 5}) + 4] = 'b';
  refused(bytes, "keys");
  // Attributes x, y -> y, y.
  bytes = good;
  bytes[find(std::string{"\0\0\0\1x", 5}) + 4] = 'y';
  refused(bytes, "attribute names");
  // Invalid UTF-8 in a string.
  bytes = good;
  bytes[find("princeton")] = 0xff;
  refused(bytes, "UTF-8");
  // Truncated anywhere, or followed by a byte.
  for (std::size_t n = 0; n < good.size(); ++n)
    CHECK_FALSE(pl::decode_ticket(std::span{good}.first(n)));
  bytes = good;
  bytes.push_back(0);
  refused(bytes, "trailing");
  // A count larger than the data never allocates it.
  bytes = good;
  auto keys_count = find(std::string{"\0\0\0\1a", 5}) - 4;
  bytes[keys_count] = 0xff;
  refused(bytes, "exceeds");
}

TEST_CASE("random damage to an encoding is refused or decodes to the same bytes", "[ticket]") {
  // Whatever decode_ticket accepts must be canonical: encoding it again gives the input back.
  std::mt19937_64 rng{seed()};
  auto key = new_key();
  auto body = sample_body();
  body.any_node = false;
  auto good = issue(key, body).encoding;
  std::size_t accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    auto bytes = good;
    auto edits = 1 + rng() % 4;
    for (std::size_t e = 0; e < edits; ++e) {
      auto pos = rng() % bytes.size();
      switch (rng() % 4) {
      case 0:
        bytes[pos] = static_cast<std::uint8_t>(rng());
        break;
      case 1:
        bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(pos));
        break;
      case 2:
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                     static_cast<std::uint8_t>(rng()));
        break;
      default:
        bytes.resize(pos);
        break;
      }
      if (bytes.empty())
        bytes.push_back(0);
    }
    auto decoded = pl::decode_ticket(bytes);
    if (!decoded)
      continue;
    ++accepted;
    INFO("round " << round);
    CHECK(pl::encode_ticket(*decoded) == bytes);
  }
  CHECK(accepted < 3000); // most damage is caught by the layout alone
}

TEST_CASE("the replay guard prunes what can no longer be replayed", "[ticket][guard]") {
  pl::replay_guard guard{{.skew = 100, .capacity = 1000}};
  auto ticket = [](std::uint8_t n, std::int64_t expires) {
    pl::sliver_ticket t;
    t.slice_name = "pl_s" + std::to_string(n % 3);
    t.issued = t0;
    t.expires = expires;
    t.nonce[0] = n;
    return t;
  };
  for (std::uint8_t n = 0; n < 30; ++n)
    REQUIRE(guard.redeem(ticket(n, t0 + 1000 * (n % 10 + 1)), t0) == pl::ticket_verdict::valid);
  CHECK(guard.redeemed() == 30);
  CHECK(guard.redeem(ticket(4, t0 + 5000), t0) == pl::ticket_verdict::replayed);
  // Tickets with expires = t0 + 1000 go at t0 + 1000 + skew, not before.
  guard.prune(t0 + 1099);
  CHECK(guard.redeemed() == 30);
  guard.prune(t0 + 1100);
  CHECK(guard.redeemed() == 27);
  CHECK(guard.check(ticket(0, t0 + 1000)) == pl::ticket_verdict::valid); // forgotten ...
  // ... but it can no longer be redeemed: it expired.
  CHECK(guard.redeem(ticket(0, t0 + 1000), t0 + 1100) == pl::ticket_verdict::expired);
  CHECK(guard.redeemed() == 27);
  guard.prune(t0 + 5100);
  CHECK(guard.redeemed() == 15);
  CHECK(guard.check(ticket(9, t0 + 10000)) == pl::ticket_verdict::replayed);

  // Revocations are pruned the same way.
  REQUIRE(guard.revoke_slice("pl_gone", t0, t0 + 20000, t0 + 5100));
  REQUIRE(guard.revoke_nonce(ticket(200, 0).nonce, t0 + 6000, t0 + 5100));
  CHECK(guard.size() == 17);
  auto gone = ticket(201, t0 + 20000);
  gone.slice_name = "pl_gone";
  CHECK(guard.check(gone) == pl::ticket_verdict::revoked);
  CHECK(guard.check(ticket(200, t0 + 6000)) == pl::ticket_verdict::revoked);
  guard.prune(t0 + 6100);
  CHECK(guard.check(ticket(200, t0 + 6000)) == pl::ticket_verdict::valid);
  guard.prune(t0 + 20099);
  CHECK(guard.check(gone) == pl::ticket_verdict::revoked);
  guard.prune(t0 + 20100);
  CHECK(guard.size() == 0);
  // A revocation of something already expired takes no room.
  CHECK(guard.revoke_nonce(ticket(202, 0).nonce, t0, t0 + 20100));
  CHECK(guard.size() == 0);

  SECTION("a full guard refuses rather than forgets, also for revocations") {
    pl::replay_guard small{{.skew = 0, .capacity = 3}};
    REQUIRE(small.redeem(ticket(1, t0 + 10), t0) == pl::ticket_verdict::valid);
    REQUIRE(small.redeem(ticket(2, t0 + 20), t0) == pl::ticket_verdict::valid);
    REQUIRE(small.revoke_slice("pl_x", t0, t0 + 30, t0));
    CHECK(small.redeem(ticket(3, t0 + 40), t0) == pl::ticket_verdict::guard_full);
    CHECK_FALSE(small.revoke_nonce(ticket(4, 0).nonce, t0 + 40, t0));
    // Re-revoking a known slice needs no room; it keeps the later time and deadline.
    CHECK(small.revoke_slice("pl_x", t0 + 5, t0 + 50, t0));
    CHECK(small.size() == 3);
    CHECK(small.check(ticket(1, t0 + 10)) == pl::ticket_verdict::replayed);
    CHECK(small.redeem(ticket(3, t0 + 40), t0 + 10) == pl::ticket_verdict::valid);
    CHECK(small.size() == 3);
    small.prune(t0 + 49);
    auto x = ticket(5, t0 + 100);
    x.slice_name = "pl_x";
    x.issued = t0 + 5;
    CHECK(small.check(x) == pl::ticket_verdict::revoked);
    small.prune(t0 + 50);
    CHECK(small.check(x) == pl::ticket_verdict::valid);
  }
}

TEST_CASE("keys round-trip through PEM and files", "[ticket][keys]") {
  auto key = new_key();
  auto message = std::vector<std::uint8_t>{'h', 'i'};
  auto sig = key.sign(message);
  CHECK(key.public_key().verify(message, sig));
  CHECK(pl::to_hex(key.id()).size() == 16);

  auto priv = pl::signing_key::from_pem(key.pem());
  REQUIRE(priv);
  CHECK(priv->id() == key.id());
  CHECK(priv->sign(message) == sig); // Ed25519 is deterministic
  CHECK_THAT(key.pem(), Catch::StartsWith("-----BEGIN PRIVATE KEY-----"));

  auto pub = pl::verify_key::from_pem(key.public_key().pem());
  REQUIRE(pub);
  CHECK(pub->id() == key.id());
  CHECK(pub->raw() == key.public_key().raw());
  CHECK(pub->verify(message, sig));
  message[0] = 'H';
  CHECK_FALSE(pub->verify(message, sig));
  auto raw = pl::verify_key::from_raw(key.public_key().raw());
  REQUIRE(raw);
  CHECK(raw->id() == key.id());
  CHECK_FALSE(pl::verify_key::from_raw(std::vector<std::uint8_t>(31, 1)));
  CHECK(pl::parse_hex<8>(pl::to_hex(key.id())) == key.id());
  CHECK_FALSE(pl::parse_hex<8>("00112233445566zz"));

  SECTION("wrong PEM blocks and key types are refused with a reason") {
    auto p = pl::verify_key::from_pem(key.pem());
    REQUIRE_FALSE(p);
    CHECK_THAT(p.error(), Catch::Contains("PUBLIC KEY"));
    CHECK_FALSE(pl::signing_key::from_pem(key.public_key().pem()));
    CHECK_FALSE(pl::signing_key::from_pem("garbage"));
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    REQUIRE(ec != nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    REQUIRE(PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string ec_pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    EVP_PKEY_free(ec);
    auto k = pl::signing_key::from_pem(ec_pem);
    REQUIRE_FALSE(k);
    CHECK_THAT(k.error(), Catch::Contains("not an Ed25519 key"));
  }

  SECTION("files: private 0600, public 0644, permissive private files refused") {
    temp_dir dir;
    auto priv_file = dir.path / "plc_ticket.key";
    auto pub_file = dir.path / "plc_ticket.pub";
    ::umask(022);
    REQUIRE(key.save(priv_file));
    REQUIRE(key.public_key().save(pub_file));
    struct stat st {};
    REQUIRE(::stat(priv_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(pub_file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    auto loaded = pl::signing_key::load(priv_file);
    REQUIRE(loaded);
    CHECK(loaded->id() == key.id());
    auto loaded_pub = pl::verify_key::load(pub_file);
    REQUIRE(loaded_pub);
    CHECK(loaded_pub->id() == key.id());

    ::chmod(priv_file.c_str(), 0640);
    auto refused = pl::signing_key::load(priv_file);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error(), Catch::Contains("mode 0640"));
    auto missing = pl::verify_key::load(dir.path / "absent.pub");
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error(), Catch::Contains("No such file"));
    CHECK_FALSE(key.save(dir.path / "no" / "dir.key"));
  }

  SECTION("load_or_generate creates the key once and then keeps it") {
    temp_dir dir;
    auto file = dir.path / "plc_ticket.key";
    auto first = pl::signing_key::load_or_generate(file);
    REQUIRE(first);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto second = pl::signing_key::load_or_generate(file);
    REQUIRE(second);
    CHECK(second->id() == first->id());
    CHECK(std::distance(std::filesystem::directory_iterator{dir.path},
                        std::filesystem::directory_iterator{}) == 1); // no temp file left
  }
}
