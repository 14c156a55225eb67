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
  /// Whether `words` also renames parameter names (the 4.0 names did; the
  /// 4.2 NodeNetworkSetting* wrappers kept the 4.3 parameter names).
  bool rename_params = true;

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
/// method and, if `renames.rename_params`, parameter names), with the same
/// roles and checks, whose field-naming arguments are renamed to the current
/// fields before the call and whose result is renamed back. Field-naming
/// arguments are the parameters named `*filter` (struct keys only: a list of
/// ids or names is values), `return_fields` and `*_fields`; other arguments
/// (ids, names, tag values) pass unchanged. Works for any method.
method_spec legacy_method(const method_spec& current, const rename_map& renames);

/// Returns `current` (a Get* method taking `*filter` and `return_fields`)
/// also accepting `legacy` as another name of its field `current_field`, as
/// PLCAPI 4.3 kept GetNodes' nodenetwork_ids next to interface_ids: in filter
/// keys (with modifiers and -SORT) and return_fields; results carry the
/// legacy key, a copy of the current one, when every field is returned or
/// return_fields names it (and the current key only if asked for or all).
method_spec with_field_alias(const method_spec& current, const std::string& legacy,
                             const std::string& current_field);

/// Returns PLCAPI 4.x's NodeNetwork renames for the Interface methods
/// (nodenetwork_id(s) <-> interface_id(s), nodenetwork_setting_ids <->
/// interface_tag_ids), PLCAPI's v42LegacyNodeNetworks.
const rename_map& nodenetwork_renames();

/// Returns PLCAPI 4.2's NodeNetworkSetting renames for the InterfaceTag
/// methods: nodenetwork_setting_id(s) <-> interface_tag_id(s), nodenetwork_id(s)
/// <-> interface_id(s), nodenetwork_setting_type_id <-> tag_type_id, name <-> tagname.
const rename_map& nodenetwork_setting_renames();

/// Returns PLCAPI 4.2's NodeNetworkSettingType renames for the TagType
/// methods: nodenetwork_setting_type_id <-> tag_type_id, name <-> tagname.
const rename_map& nodenetwork_setting_type_renames();

/// Registers the legacy names of methods already registered in `d` (call it
/// after add_node_methods and add_tag_methods): the 4.0 NodeNetwork names of
/// the Interface methods (AddNodeNetwork, GetNodeNetworks, UpdateNodeNetwork,
/// DeleteNodeNetwork), the 4.2 NodeNetworkSetting names of the InterfaceTag
/// methods (AddNodeNetworkSetting, GetNodeNetworkSettings,
/// UpdateNodeNetworkSetting, DeleteNodeNetworkSetting) and the 4.2
/// NodeNetworkSettingType names of the TagType methods
/// (AddNodeNetworkSettingType, GetNodeNetworkSettingTypes,
/// UpdateNodeNetworkSettingType, DeleteNodeNetworkSettingType).
void add_legacy_methods(dispatcher& d);

} // namespace pl::plc::api
