#include "plc/api/legacy.hpp"

#include "plc/api/nodes.hpp"

#include <map>
#include <stdexcept>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

/// Renames a filter key or sort name behind its modifier prefix.
std::string rename_key(const std::string& key, const char* prefixes, const rename_map& renames) {
  auto first = key.find_first_not_of(prefixes);
  if (first == std::string::npos)
    return key;
  return key.substr(0, first) + renames.to_current(key.substr(first));
}

xv rename_strings(const xv& v, const char* prefixes, const rename_map& renames) {
  if (v.type() == xv::TYPE_STRING)
    return xmlrpc_c::value_string(
        rename_key(xmlrpc_c::value_string(v).cvalue(), prefixes, renames));
  if (v.type() != xv::TYPE_ARRAY)
    return v;
  std::vector<xv> out;
  for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue())
    out.push_back(item.type() == xv::TYPE_STRING ? rename_strings(item, prefixes, renames) : item);
  return xmlrpc_c::value_array(out);
}

} // namespace

std::string rename_map::to_current(const std::string& name) const {
  for (const auto& [legacy, current] : fields)
    if (legacy == name)
      return current;
  return name;
}

std::string rename_map::to_legacy(const std::string& name) const {
  for (const auto& [legacy, current] : fields)
    if (current == name)
      return legacy;
  return name;
}

std::string rename_map::legacy_words(std::string name) const {
  for (const auto& [legacy, current] : words)
    name = replace_all(std::move(name), current, legacy);
  return name;
}

xv legacy_to_current(const xv& arg, const rename_map& renames) {
  if (arg.type() == xv::TYPE_STRUCT) {
    std::map<std::string, xv> out;
    for (const auto& [key, value] : xmlrpc_c::value_struct(arg).cvalue()) {
      if (key == "-SORT")
        out.emplace(key, rename_strings(value, "+-", renames));
      else
        out.emplace(rename_key(key, "~<>[]&|", renames), value);
    }
    return xmlrpc_c::value_struct(out);
  }
  return rename_strings(arg, "", renames);
}

xv current_to_legacy(const xv& result, const rename_map& renames) {
  if (result.type() == xv::TYPE_ARRAY) {
    std::vector<xv> out;
    for (const auto& item : xmlrpc_c::value_array(result).vectorValueValue())
      out.push_back(current_to_legacy(item, renames));
    return xmlrpc_c::value_array(out);
  }
  if (result.type() == xv::TYPE_STRUCT) {
    std::map<std::string, xv> out;
    for (const auto& [key, value] : xmlrpc_c::value_struct(result).cvalue())
      out.emplace(renames.to_legacy(key), current_to_legacy(value, renames));
    return xmlrpc_c::value_struct(out);
  }
  return result;
}

method_spec legacy_method(const method_spec& current, const rename_map& renames) {
  method_spec legacy = current;
  legacy.name = renames.legacy_words(current.name);
  for (auto& p : legacy.params)
    p.name = renames.legacy_words(p.name);
  legacy.help = "Legacy name of " + current.name + ", with its older field names. " + current.help;
  legacy.handler = [inner = current.handler, renames](call_context& ctx,
                                                      const std::vector<xv>& args) {
    std::vector<xv> renamed;
    for (const auto& a : args)
      renamed.push_back(legacy_to_current(a, renames));
    return current_to_legacy(inner(ctx, renamed), renames);
  };
  return legacy;
}

const rename_map& nodenetwork_renames() {
  static const rename_map renames{
      {
          {"nodenetwork_id", "interface_id"},
          {"nodenetwork_ids", "interface_ids"},
          {"nodenetwork_setting_id", "interface_tag_id"},
          {"nodenetwork_setting_ids", "interface_tag_ids"},
          {"nodenetwork_setting_type_id", "tag_type_id"},
          {"name", "tagname"},
      },
      {{"NodeNetworkSetting", "InterfaceTag"},
       {"nodenetwork_setting", "interface_tag"},
       {"NodeNetwork", "Interface"},
       {"nodenetwork", "interface"}},
  };
  return renames;
}

void add_legacy_methods(dispatcher& d) {
  const auto& renames = nodenetwork_renames();
  for (const auto& spec : node_method_specs())
    if (spec.name == "AddInterface" || spec.name == "GetInterfaces" ||
        spec.name == "UpdateInterface" || spec.name == "DeleteInterface")
      d.add(legacy_method(spec, renames));
}

} // namespace pl::plc::api
