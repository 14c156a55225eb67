#pragma once

#include <string>
#include <string_view>

namespace pl::plc::api {

/// Cost of the scrypt key derivation used for new passwords.
struct kdf_cost {
  int log2_n = 14; ///< N = 2^log2_n; with r = 8 each derivation touches 16 MiB.
  int r = 8;
  int p = 5; ///< OWASP's equivalent of N=2^17,p=1 at an eighth of the memory.
};

/// Derives a storable hash of `password` with a fresh random salt:
/// `$scrypt$ln=14,r=8,p=5$<salt>$<hash>` (base64, no padding).
std::string hash_password(std::string_view password, kdf_cost cost = {});

/// Tells whether `password` matches `stored`, in constant time for equal
/// lengths. Accepts scrypt strings and legacy MD5-crypt (`$1$salt$hash`, the
/// format of accounts imported from PlanetLab 4/5). Unknown or malformed
/// formats never match.
bool verify_password(std::string_view password, std::string_view stored);

/// Tells whether `stored` should be replaced by a fresh hash_password() after
/// a successful login: true for legacy MD5-crypt strings.
bool needs_rehash(std::string_view stored);

/// Computes the MD5-crypt string of `password` (the FreeBSD/glibc `$1$`
/// scheme): `$1$<salt>$<22 characters>`. At most 8 salt characters are used,
/// and the salt ends at the first `$`. Only for verifying imported hashes.
std::string md5_crypt(std::string_view password, std::string_view salt);

} // namespace pl::plc::api
