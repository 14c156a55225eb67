#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

#include <string>

namespace pl::plc::api {

/// Describes PLCAPI's Key (table `keys`, joined to its person by `person_key`);
/// blacklisted keys are never live.
const store::class_desc& key_class();

/// Checks an OpenSSH public key line, `<type> <base64> [comment]`, and
/// returns its material `<type> <base64>` (what blacklisting matches).
///
/// The type is ssh-rsa, ssh-dss, ssh-ed25519 or ecdsa-sha2-nistp256/384/521;
/// the base64 must decode, and the blob must start with the same type (and,
/// for ECDSA, name the same curve). Options before the type, line breaks and
/// other control characters are refused: the key ends up in authorized_keys
/// files. Throws fault 102 "Invalid SSH version 2 public key: ...".
std::string ssh_key_material(const std::string& key);

/// Registers AddPersonKey, GetKeys, UpdateKey, DeleteKey, BlacklistKey,
/// AddKeyType, GetKeyTypes and DeleteKeyType.
void add_key_methods(dispatcher& d);

} // namespace pl::plc::api
