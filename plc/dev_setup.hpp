#pragma once

#include <filesystem>
#include <string>

namespace pl::plc {

/// Writes a self-signed certificate (EC P-256, 10 years, SAN localhost and
/// 127.0.0.1) and its private key (mode 0600) unless both files exist.
/// Returns true if it created them.
bool ensure_self_signed_certificate(const std::filesystem::path& cert_pem,
                                    const std::filesystem::path& key_pem,
                                    const std::string& common_name = "localhost");

/// Returns a random password of `length` URL-safe characters.
std::string random_password(std::size_t length = 20);

} // namespace pl::plc
