#include "plc/api/legacy.hpp"

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

/// What an argument of a method holds, judged by its parameter name.
enum class field_argument {
  none,  ///< ids, names, values: never renamed
  keys,  ///< a filter or a fields struct: its keys are field names
  names, ///< return_fields: its strings are field names
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

field_argument argument_kind(const param_spec& p) {
  if (p.name == "return_fields")
    return field_argument::names;
  if (ends_with(p.name, "filter") || ends_with(p.name, "_fields"))
    return field_argument::keys;
  return field_argument::none;
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
  if (renames.rename_params)
    for (auto& p : legacy.params)
      p.name = renames.legacy_words(p.name);
  legacy.help = "Legacy name of " + current.name + ", with its older field names. " + current.help;
  legacy.handler = [inner = current.handler, params = current.params,
                    renames](call_context& ctx, const std::vector<xv>& args) {
    std::vector<xv> renamed;
    for (std::size_t k = 0; k < args.size(); ++k) {
      field_argument kind = k < params.size() ? argument_kind(params[k]) : field_argument::none;
      bool rename = kind == field_argument::names ||
                    (kind == field_argument::keys && args[k].type() == xv::TYPE_STRUCT);
      renamed.push_back(rename ? legacy_to_current(args[k], renames) : args[k]);
    }
    return current_to_legacy(inner(ctx, renamed), renames);
  };
  return legacy;
}

method_spec with_field_alias(const method_spec& current, const std::string& legacy,
                             const std::string& current_field) {
  method_spec out = current;
  out.handler = [inner = current.handler, params = current.params, legacy,
                 field = current_field](call_context& ctx, const std::vector<xv>& args) -> xv {
    const rename_map renames{{{legacy, field}}, {}};
    std::vector<xv> renamed; // xmlrpc_c values cannot be reassigned: built anew
    bool all = true, want_legacy = false, want_current = false;
    for (std::size_t k = 0; k < args.size(); ++k) {
      field_argument kind = k < params.size() ? argument_kind(params[k]) : field_argument::none;
      if (kind == field_argument::keys && args[k].type() == xv::TYPE_STRUCT) {
        renamed.push_back(legacy_to_current(args[k], renames));
      } else if (kind == field_argument::names && args[k].type() == xv::TYPE_ARRAY) {
        all = false;
        std::vector<xv> names;
        bool listed = false;
        for (const auto& item : xmlrpc_c::value_array(args[k]).vectorValueValue()) {
          if (item.type() == xv::TYPE_STRING) {
            std::string name = xmlrpc_c::value_string(item).cvalue();
            want_legacy = want_legacy || name == legacy;
            want_current = want_current || name == field;
            if (name == legacy || name == field) {
              if (listed)
                continue; // asked for twice: once is enough
              listed = true;
              names.push_back(xmlrpc_c::value_string(field));
              continue;
            }
          }
          names.push_back(item);
        }
        renamed.push_back(xmlrpc_c::value_array(names));
      } else {
        renamed.push_back(args[k]);
      }
    }
    xv result = inner(ctx, renamed);
    if ((!all && !want_legacy) || result.type() != xv::TYPE_ARRAY)
      return result;
    std::vector<xv> rows;
    for (const auto& row : xmlrpc_c::value_array(result).vectorValueValue()) {
      if (row.type() != xv::TYPE_STRUCT) {
        rows.push_back(row);
        continue;
      }
      auto members = xmlrpc_c::value_struct(row).cvalue();
      auto it = members.find(field);
      if (it != members.end()) {
        members.emplace(legacy, it->second);
        if (!all && !want_current)
          members.erase(field);
      }
      rows.push_back(xmlrpc_c::value_struct(members));
    }
    return xmlrpc_c::value_array(rows);
  };
  return out;
}

const rename_map& nodenetwork_renames() {
  static const rename_map renames{
      {
          {"nodenetwork_id", "interface_id"},
          {"nodenetwork_ids", "interface_ids"},
          {"nodenetwork_setting_ids", "interface_tag_ids"},
      },
      {{"NodeNetwork", "Interface"}, {"nodenetwork", "interface"}},
  };
  return renames;
}

const rename_map& nodenetwork_setting_renames() {
  static const rename_map renames{
      {
          {"nodenetwork_id", "interface_id"},
          {"nodenetwork_ids", "interface_ids"},
          {"nodenetwork_setting_id", "interface_tag_id"},
          {"nodenetwork_setting_ids", "interface_tag_ids"},
          {"nodenetwork_setting_type_id", "tag_type_id"},
          {"name", "tagname"},
      },
      {{"NodeNetworkSetting", "InterfaceTag"}},
      false,
  };
  return renames;
}

const rename_map& nodenetwork_setting_type_renames() {
  static const rename_map renames{
      {
          {"nodenetwork_setting_type_id", "tag_type_id"},
          {"name", "tagname"},
      },
      {{"NodeNetworkSettingType", "TagType"}},
      false,
  };
  return renames;
}

void add_legacy_methods(dispatcher& d) {
  const std::pair<const char*, const rename_map*> families[] = {
      {"Interface", &nodenetwork_renames()},
      {"InterfaceTag", &nodenetwork_setting_renames()},
      {"TagType", &nodenetwork_setting_type_renames()},
  };
  for (const auto& [object, renames] : families)
    for (const char* verb : {"Add", "Get", "Update", "Delete"}) {
      std::string name = std::string{verb} + object + (std::string{verb} == "Get" ? "s" : "");
      const method_spec* spec = d.find(name);
      if (!spec)
        throw std::logic_error("add_legacy_methods: " + name + " is not registered yet");
      d.add(legacy_method(*spec, *renames));
    }
}

} // namespace pl::plc::api
