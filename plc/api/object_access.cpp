#include "plc/api/object_access.hpp"

#include "actors/clock.hpp"

#include <map>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;

/// Returns the field a filter key names, without PLCAPI's modifier prefixes.
std::string bare_key(const std::string& key) {
  auto first = key.find_first_not_of("~<>[]&|");
  return first == std::string::npos ? std::string{} : key.substr(first);
}

bool is_deletion_field(const std::string& name) {
  return name == "deleted" || name == "date_deleted";
}

} // namespace

xv normalize_filter(const xv& filter) {
  if (filter.type() == xv::TYPE_INT || filter.type() == xv::TYPE_I8 ||
      filter.type() == xv::TYPE_STRING)
    return xmlrpc_c::value_array(std::vector<xv>{filter});
  return filter;
}

store::class_desc with_deletion_fields(store::class_desc cls) {
  cls.fields.push_back({"deleted",
                        store::field_type::boolean,
                        {},
                        0,
                        false,
                        false,
                        "Has been deleted (admins only, see the deleted filter)"});
  cls.fields.push_back({"date_deleted",
                        store::field_type::timestamp,
                        {},
                        0,
                        false,
                        true,
                        "When it was deleted (admins only)"});
  return cls;
}

xv get_soft_deleted(store::connection& conn, const store::class_desc& live,
                    const store::class_desc& with_deleted, const xv& filter_in,
                    const xv& return_fields, bool admin, select_options opts) {
  // xmlrpc_c values cannot be reassigned once set: build the filter once.
  const xv given = normalize_filter(filter_in);
  bool filter_mentions = false;
  bool hide_all = false;
  std::map<std::string, xv> kept;
  if (given.type() == xv::TYPE_STRUCT) {
    for (const auto& [key, value] : xmlrpc_c::value_struct(given).cvalue()) {
      if (!is_deletion_field(bare_key(key))) {
        kept.emplace(key, value);
        continue;
      }
      filter_mentions = true;
      if (admin)
        kept.emplace(key, value);
      else if (!(key == "deleted" && value.type() == xv::TYPE_BOOLEAN &&
                 !xmlrpc_c::value_boolean(value).cvalue()))
        hide_all = true; // deleted rows are not theirs to see
    }
  }
  if (hide_all)
    return xmlrpc_c::value_array(std::vector<xv>{});
  const xv filter = given.type() == xv::TYPE_STRUCT ? xv{xmlrpc_c::value_struct(kept)} : given;
  bool returns_mention = false;
  if (return_fields.type() == xv::TYPE_ARRAY)
    for (const auto& item : xmlrpc_c::value_array(return_fields).vectorValueValue())
      if (item.type() == xv::TYPE_STRING &&
          is_deletion_field(xmlrpc_c::value_string(item).cvalue()))
        returns_mention = true;
  if (admin && (filter_mentions || returns_mention)) {
    opts.include_deleted = filter_mentions;
    return get_objects(conn, with_deleted, filter, return_fields, opts);
  }
  return get_objects(conn, live, filter, return_fields, opts);
}

std::string now_text(const call_context& ctx) {
  return std::to_string(ctx.svc.clock->now_epoch());
}

const store::param* value_of(const row_values& values, const std::string& column) {
  for (const auto& [name, value] : values.columns)
    if (name == column)
      return &value;
  return nullptr;
}

} // namespace pl::plc::api
