#pragma once

// PLC's ticket key on disk: where it lives, made at the first start, and its
// public half exported for nodes (actors/ticket_keys.hpp does the crypto).

#include "actors/ticket_keys.hpp"

#include <filesystem>

namespace pl::plc {

struct plcd_config;

/// Returns where plcd keeps its ticket key: `[tickets] key`, else with --dev
/// `<data_dir>/keys/ticket.key`; empty when tickets are off.
std::filesystem::path ticket_key_path(const plcd_config& cfg);

/// Returns where the public half of `key_file` is written: the same name with
/// the extension `.pub` (`ticket.key` -> `ticket.pub`).
std::filesystem::path ticket_public_key_path(const std::filesystem::path& key_file);

/// Loads the key at `key_file`, or makes it (mode 0600, directories 0700 as
/// needed) when there is none, then writes its public half (PEM, mode 0644)
/// to `ticket_public_key_path(key_file)` unless that already holds exactly it.
/// Throws std::runtime_error naming the file and the problem (e.g. a key file
/// that others may read, or not an Ed25519 key).
signing_key ensure_ticket_key(const std::filesystem::path& key_file);

} // namespace pl::plc
