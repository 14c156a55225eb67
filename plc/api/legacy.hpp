#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"

#include <xmlrpc-c/base.hpp>

#include <string>
#include <utility>
#include <vector>

namespace pl::plc::api {

/// How an older API generation named things, as pairs of (legacy, current).
struct rename_map {
  /// Field names: ("nodenetwork_id", "interface_id").
  std::vector<std::pair<std::string, std::string>> fields;
  /// Word parts of method and parameter names: ("NodeNetwork", "Interface").
  std::vector<std::pair<std::string, std::string>> words;

  /// Returns the current name of legacy field `name` (itself if not renamed).
  std::string to_current(const std::string& name) const;
  /// Returns the legacy name of current field `name` (itself if not renamed).
  std::string to_legacy(const std::string& name) const;
  /// Replaces every current word part of `name` by its legacy form.
  std::string legacy_words(std::string name) const;
};

/// Renames the legacy field names of one argument: struct keys (keeping
/// PLCAPI's filter modifiers `~<>[]&|`, and inside `-SORT` values), the
/// strings of an array (return_fields, lists of names) and a bare string,
/// as PLCAPI's v42legacy `patch` does.
xmlrpc_c::value legacy_to_current(const xmlrpc_c::value& arg, const rename_map& renames);

/// Renames current field names to legacy ones in a result: the keys of every
/// struct, also inside arrays and nested structs.
xmlrpc_c::value current_to_legacy(const xmlrpc_c::value& result, const rename_map& renames);

/// Returns `current` under its legacy name (`renames.words` applied to the
/// method and parameter names), with the same roles and checks, whose
/// arguments are renamed to the current fields before the call and whose
/// result is renamed back. Works for any method.
method_spec legacy_method(const method_spec& current, const rename_map& renames);

/// Returns PLCAPI 4.x's NodeNetwork renames (nodenetwork_id <-> interface_id,
/// nodenetwork_setting_id <-> interface_tag_id, setting type ids <->
/// tag_type_id, name <-> tagname).
const rename_map& nodenetwork_renames();

/// Registers the 4.0 NodeNetwork names of the Interface methods:
/// AddNodeNetwork, GetNodeNetworks, UpdateNodeNetwork, DeleteNodeNetwork.
void add_legacy_methods(dispatcher& d);

} // namespace pl::plc::api
