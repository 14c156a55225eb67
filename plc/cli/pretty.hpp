#pragma once

#include <string>

#include <xmlrpc-c/base.hpp>

namespace pl::plc::cli {

/// Renders an XML-RPC value as indented JSON (two spaces, struct keys sorted), for people and
/// for `jq`.
///
/// nil is `null`; i8 and int are numbers; a double is the shortest text that reads back the
/// same; dateTime.iso8601 is its ISO 8601 text and base64 its Base64 text, both as strings.
/// No trailing newline.
std::string pretty(const xmlrpc_c::value& value);

} // namespace pl::plc::cli
