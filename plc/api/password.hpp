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
/// lengths. Unknown or malformed formats never match.
bool verify_password(std::string_view password, std::string_view stored);

} // namespace pl::plc::api
