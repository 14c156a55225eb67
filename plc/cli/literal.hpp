#pragma once

#include <string>
#include <string_view>

#include <xmlrpc-c/base.hpp>

namespace pl::plc::cli {

/// Holds one parsed command-line argument, or why it is not one.
struct parsed_literal {
  bool ok = false;
  xmlrpc_c::value value; ///< valid when `ok`
  std::string error;     ///< set when not `ok`
};

/// Turns one command-line argument into an XML-RPC value, the way a PLCAPI shell user writes it.
///
/// - JSON: `42`, `-1.5`, `"text"`, `[1, 2]`, `{"login_base": "x"}`, `true`, `null`.
/// - Python spellings, also inside lists and structs: `True`, `False`, `None`, `'single quotes'`.
/// - Anything else that does not start like JSON (`{ [ " '`) is a string as written:
///   `admin@localhost`, `GetSites`, `2024-01-01`. Quote a string that looks like a number:
///   `'"42"'`.
///
/// Integers within 32 bits become `int`, larger ones `i8`; other numbers `double`; null and None
/// become `nil`; objects become structs.
parsed_literal parse_literal(std::string_view text);

} // namespace pl::plc::cli
