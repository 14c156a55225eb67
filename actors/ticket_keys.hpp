#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "actors/outcome.hpp"

// Ed25519 keys for slice tickets (OpenSSL 3, EVP_PKEY_ED25519), CAF-free.
//
// PLC holds one `signing_key` with its data (generated at first start by
// `signing_key::load_or_generate`) and exports the `verify_key` for nodes,
// which keep one or more in a `ticket_keyring`. Keys are named by their
// `ticket_key_id`: the first 8 bytes of SHA-256 over the 32-byte raw public
// key, printed as 16 lowercase hex digits.

struct evp_pkey_st; // OpenSSL's EVP_PKEY

namespace pl {

/// Names a PLC ticket key (first 8 bytes of SHA-256 of the raw public key).
using ticket_key_id = std::array<std::uint8_t, 8>;

/// Holds an Ed25519 signature.
using ticket_signature = std::array<std::uint8_t, 64>;

/// Returns `bytes` as lowercase hex digits.
std::string to_hex(std::span<const std::uint8_t> bytes);

/// Parses exactly `N` bytes of hex digits (either case); empty on any other input.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> parse_hex(std::string_view text);

/// Holds an Ed25519 public key: verifies ticket signatures. Cheap to copy.
class verify_key {
public:
  /// Parses a `-----BEGIN PUBLIC KEY-----` PEM block (SubjectPublicKeyInfo).
  static outcome<verify_key> from_pem(std::string_view pem);
  /// Builds a key from its 32 raw bytes.
  static outcome<verify_key> from_raw(std::span<const std::uint8_t> raw);
  /// Reads a PEM file written by `save` (or `openssl pkey -pubout`).
  static outcome<verify_key> load(const std::filesystem::path& file);

  /// Returns the key as a PUBLIC KEY PEM block.
  std::string pem() const;
  /// Returns the 32 raw bytes of the key.
  std::array<std::uint8_t, 32> raw() const;
  /// Returns the key's id.
  const ticket_key_id& id() const { return id_; }
  /// Returns whether `signature` is this key's signature over `message`.
  bool verify(std::span<const std::uint8_t> message, std::span<const std::uint8_t> signature) const;
  /// Writes the PEM to `file` (mode 0644), replacing it atomically.
  outcome<void> save(const std::filesystem::path& file) const;

private:
  explicit verify_key(std::shared_ptr<evp_pkey_st> key);

  std::shared_ptr<evp_pkey_st> key_;
  ticket_key_id id_{};
};

/// Holds an Ed25519 private key: signs tickets. Cheap to copy (shares the key).
class signing_key {
public:
  /// Makes a new key from OpenSSL's random generator.
  static outcome<signing_key> generate();
  /// Parses an unencrypted `-----BEGIN PRIVATE KEY-----` PEM block (PKCS#8).
  static outcome<signing_key> from_pem(std::string_view pem);
  /// Reads a PEM file; refuses a file that group or others may access (like ssh does).
  static outcome<signing_key> load(const std::filesystem::path& file);
  /// Loads `file`, or when it does not exist generates a key and creates the file
  /// (mode 0600) without ever replacing one made concurrently by someone else.
  static outcome<signing_key> load_or_generate(const std::filesystem::path& file);

  /// Returns the key as an unencrypted PKCS#8 PRIVATE KEY PEM block.
  std::string pem() const;
  /// Writes the PEM to `file` with mode 0600, replacing it atomically.
  outcome<void> save(const std::filesystem::path& file) const;
  /// Returns the public half.
  const verify_key& public_key() const { return public_; }
  /// Returns the key's id (the id of its public half).
  const ticket_key_id& id() const { return public_.id(); }
  /// Signs `message` (Ed25519 is deterministic: the same message gives the same signature).
  ticket_signature sign(std::span<const std::uint8_t> message) const;

private:
  signing_key(std::shared_ptr<evp_pkey_st> key, verify_key pub);

  std::shared_ptr<evp_pkey_st> key_;
  verify_key public_;
};

/// Holds the PLC public keys a node accepts, by id (several during a key rollover).
class ticket_keyring {
public:
  ticket_keyring() = default;
  explicit ticket_keyring(verify_key key) { add(std::move(key)); }

  /// Adds a key; a key with the same id replaces the old one.
  void add(verify_key key);
  /// Returns the key named `id`, or null.
  const verify_key* find(const ticket_key_id& id) const;
  std::size_t size() const { return keys_.size(); }

private:
  std::map<ticket_key_id, verify_key> keys_;
};

extern template std::optional<ticket_key_id> parse_hex<8>(std::string_view);
extern template std::optional<std::array<std::uint8_t, 16>> parse_hex<16>(std::string_view);

} // namespace pl
