#include "actors/push_proof.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace pl {

namespace {

// The version tag keeps a proof from being valid for any other use of the key
// (the original's hmac over API calls, say) and lets the layout change later.
constexpr std::string_view proof_tag = "planetlab-push-v1\n";

std::string proof_input(const node_hello& hello) {
  std::string text(proof_tag);
  for (const std::string& field : {std::to_string(hello.node_id), hello.hostname,
                                   std::to_string(hello.timestamp), hello.nonce}) {
    text += field;
    text += '\n';
  }
  return text;
}

} // namespace

std::vector<std::uint8_t> push_proof(std::string_view node_key, const node_hello& hello) {
  const std::string input = proof_input(hello);
  std::vector<std::uint8_t> mac(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), node_key.data(), static_cast<int>(node_key.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(),
           &length) == nullptr)
    throw std::runtime_error("push_proof: HMAC-SHA256 failed");
  mac.resize(length);
  return mac;
}

bool push_proof_matches(std::string_view node_key, const node_hello& hello) {
  if (hello.hostname.find('\n') != std::string::npos || hello.nonce.find('\n') != std::string::npos)
    return false;
  const auto expected = push_proof(node_key, hello);
  return hello.proof.size() == expected.size() &&
         CRYPTO_memcmp(hello.proof.data(), expected.data(), expected.size()) == 0;
}

std::string random_nonce(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1)
    throw std::runtime_error("random_nonce: OpenSSL's generator failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes * 2);
  for (unsigned char c : raw) {
    hex += digits[c >> 4];
    hex += digits[c & 0xf];
  }
  return hex;
}

} // namespace pl
