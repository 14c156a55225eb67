#pragma once

// PLCAPI node authentication (AuthMethod "hmac", PLCAPI's BootAuth), both
// ends: a node proves it holds its node key by sending HMAC-SHA1(key,
// message), where the message is PLCAPI's canonical form of the call's other
// arguments. PLC checks it (plc/api/node_auth), node and boot managers make it;
// both use this one copy of the canonicalisation. CAF-free.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xmlrpc-c/base.hpp>

namespace pl {

/// How a float argument is turned into text for the HMAC message.
enum class float_text {
  python3, ///< repr(): the shortest text that reads back the same (PLCAPI 5.x/7.x)
  python2, ///< unicode() of Python 2: 12 significant digits (PLCAPI 4.x, BootManager, NM 1.x/2.0)
};

// A namespace of their own, so that argument-dependent lookup on `float_text`
// never mixes these up with PLC's fault-throwing wrappers of the same names.
namespace hmac {

/// Returns the text PLCAPI's canonicalisation gives one scalar value, or
/// nothing for a type it cannot hash (an array or struct, or an unknown type).
///
/// Strings as they are; ints in decimal; booleans "True"/"False"; nil
/// "None"; doubles as `style` says; dateTime as XML-RPC's
/// "YYYYMMDDTHH:MM:SS"; base64 as its bytes read as Latin-1 (Python 3's
/// str(Binary)), in UTF-8.
std::optional<std::string> canonical_scalar(const xmlrpc_c::value& v,
                                            float_text style = float_text::python3);

/// Returns BootAuth's message for the arguments after the auth struct:
/// every scalar (arrays flattened recursively, of structs only the values,
/// never the keys) as canonical_scalar() text, sorted by code point, joined
/// without separator and enclosed in "[" and "]". No arguments give "[]".
/// Nothing when an argument holds a value canonical_scalar() refuses.
std::optional<std::string> message(const std::vector<xmlrpc_c::value>& args,
                                   float_text style = float_text::python3);

/// Returns HMAC-SHA1(`key`, `message`) in lowercase hex (Python's hexdigest()).
std::string sha1_hex(std::string_view key, std::string_view message);

/// Returns whether any argument holds a double (at any depth), i.e. whether
/// the Python 2 and Python 3 spellings of the message can differ.
bool contains_double(const xmlrpc_c::value& v);

/// Returns the auth struct a node sends with a call whose other arguments
/// are `args`: {AuthMethod: "hmac", node_id, value: the hex digest}. Nothing
/// when `args` cannot be hashed (see message).
std::optional<xmlrpc_c::value> node_auth(std::int32_t node_id, std::string_view node_key,
                                         const std::vector<xmlrpc_c::value>& args);

} // namespace hmac

} // namespace pl
