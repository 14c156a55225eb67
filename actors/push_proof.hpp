#pragma once

// How a node manager proves its node key to PLC's push endpoint, shared by both
// ends. The node asks the endpoint for a challenge (a fresh random nonce), then
// answers with `node_hello` carrying that nonce and a MAC over it; the key
// itself never crosses the link. PLC accepts each challenge once and only
// within its lifetime, so a recorded hello cannot be replayed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/records.hpp"

namespace pl {

/// Returns HMAC-SHA256 under `node_key` (the node's key from plnode.txt, as
/// PLC stores it) of the hello's identity fields in a fixed, unambiguous
/// layout: a version tag, then node id, hostname, timestamp and nonce, each
/// followed by a newline (none of them may contain one).
std::vector<std::uint8_t> push_proof(std::string_view node_key, const node_hello& hello);

/// True when `hello.proof` is `push_proof(node_key, hello)`, compared in
/// constant time.
bool push_proof_matches(std::string_view node_key, const node_hello& hello);

/// Returns `bytes` random bytes from OpenSSL's generator as lowercase hex.
std::string random_nonce(std::size_t bytes = 16);

} // namespace pl
