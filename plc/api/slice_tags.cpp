#include "plc/api/slice_tags.hpp"

#include "actors/clock.hpp"
#include "actors/resources.hpp"
#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/legacy.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

/// The `node` role's id in the roles table: tag types list it where nodes may set them.
constexpr int node_role_id = 50;

store::class_desc make_slice_tag_class() {
  auto from_type = [](const std::string& column) {
    return "(SELECT tt." + column + " FROM tag_types tt WHERE tt.tag_type_id = t.tag_type_id)";
  };
  return {
      "SliceTag",
      "slice_tag",
      "slice_tag_id",
      "",
      {
          {"slice_tag_id", field_type::integer, {}, 0, false, false, "Slice tag identifier"},
          {"slice_id", field_type::integer, {}, 0, false, false, "Slice identifier"},
          {"name", field_type::text, "(SELECT s.name FROM slices s WHERE s.slice_id = t.slice_id)",
           0, false, false, "Slice name"},
          {"node_id", field_type::integer, {}, 0, false, true, "Node of a sliver tag"},
          {"nodegroup_id", field_type::integer, {}, 0, false, true, "Node group of the tag"},
          {"tag_type_id", field_type::integer, {}, 0, false, false, "Tag type identifier"},
          {"tagname", field_type::text, from_type("tagname"), 0, false, false, "Tag type name"},
          {"description", field_type::text, from_type("description"), 0, false, true,
           "Tag type description"},
          {"category", field_type::text, from_type("category"), 0, false, false, "Tag category"},
          {"value", field_type::text, {}, 0, false, false, "Slice attribute value"},
      },
      "t.slice_id IN (SELECT s.slice_id FROM slices s WHERE NOT s.deleted)",
  };
}

std::int64_t now_of(const call_context& ctx) {
  return ctx.svc.clock->now_epoch();
}

/// Tag types of which a slice holds one value per scope: the resources and
/// the switches and names GetSlivers reads as single values.
bool single_valued(const std::string& tagname) {
  static const std::set<std::string> singles{"enabled", "system", "initscript", "initscript_code",
                                             "vref"};
  return pl::is_resource(tagname) || singles.count(tagname) > 0;
}

std::string scope_sql(std::optional<int> node_id, std::optional<int> nodegroup_id) {
  return " AND node_id " + (node_id ? "= " + std::to_string(*node_id) : std::string{"IS NULL"}) +
         " AND nodegroup_id " +
         (nodegroup_id ? "= " + std::to_string(*nodegroup_id) : std::string{"IS NULL"});
}

/// Faults 102 when the slice already holds this value (or, for a single-valued
/// type, any value) of the type in this scope (PLCAPI's messages); `self` is
/// the tag being updated.
void check_duplicate(store::connection& conn, const slice_row& slice, const tag_type_info& type,
                     const std::string& value, std::optional<int> node_id,
                     std::optional<int> nodegroup_id, int self) {
  std::string sql = "SELECT 1 FROM slice_tag WHERE slice_id = $1 AND tag_type_id = $2"
                    " AND slice_tag_id <> $3" +
                    scope_sql(node_id, nodegroup_id);
  std::vector<store::param> params{std::to_string(slice.slice_id), std::to_string(type.tag_type_id),
                                   std::to_string(self)};
  if (!single_valued(type.tagname)) {
    sql += " AND value = $4";
    params.push_back(value);
  }
  if (conn.exec(sql, params).rows() == 0)
    return;
  std::string what = node_id        ? "Sliver attribute already exists"
                     : nodegroup_id ? "Slice attribute already exists for this nodegroup"
                                    : "Slice attribute already exists";
  throw fault(fault_code::invalid_argument, what + " (" + type.tagname + ")");
}

std::optional<int> resolve_node(store::connection& conn, const xv& v) {
  if (v.type() == xv::TYPE_NIL)
    return std::nullopt;
  store::result res = [&] {
    if (v.type() == xv::TYPE_INT)
      return conn.exec("SELECT node_id FROM nodes WHERE node_id = $1 AND NOT deleted",
                       {std::to_string(xmlrpc_c::value_int(v).cvalue())});
    if (v.type() == xv::TYPE_STRING)
      return conn.exec("SELECT node_id FROM nodes WHERE hostname = lower($1) AND NOT deleted",
                       {xmlrpc_c::value_string(v).cvalue()});
    throw fault::invalid_value("node_id_or_hostname", "expected int, string or nil");
  }();
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such node");
  return static_cast<int>(res.integer(0, 0));
}

std::optional<int> resolve_nodegroup(store::connection& conn, const xv& v) {
  if (v.type() == xv::TYPE_NIL)
    return std::nullopt;
  store::result res = [&] {
    if (v.type() == xv::TYPE_INT)
      return conn.exec("SELECT nodegroup_id FROM nodegroups WHERE nodegroup_id = $1",
                       {std::to_string(xmlrpc_c::value_int(v).cvalue())});
    if (v.type() == xv::TYPE_STRING)
      return conn.exec("SELECT nodegroup_id FROM nodegroups WHERE groupname = $1",
                       {xmlrpc_c::value_string(v).cvalue()});
    throw fault::invalid_value("nodegroup_id_or_name", "expected int, string or nil");
  }();
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such nodegroup");
  return static_cast<int>(res.integer(0, 0));
}

bool slice_on_node(store::connection& conn, int slice_id, int node_id) {
  return conn.exec("SELECT 1 FROM slice_node WHERE slice_id = $1 AND node_id = $2",
                   {std::to_string(slice_id), std::to_string(node_id)})
             .rows() > 0;
}

bool system_slice(store::connection& conn, int slice_id) {
  return conn.exec("SELECT 1 FROM slice_tag st JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id"
                   " WHERE st.slice_id = $1 AND tt.tagname = 'system' AND st.value = '1'"
                   " AND st.node_id IS NULL AND st.nodegroup_id IS NULL",
                   {std::to_string(slice_id)})
             .rows() > 0;
}

/// Adds a tag after every check; returns its slice_tag_id.
int add_tag(call_context& ctx, store::connection& conn, const slice_row& slice,
            const tag_type_info& type, const std::string& value, std::optional<int> node_id,
            std::optional<int> nodegroup_id) {
  if (node_id && nodegroup_id)
    throw fault(fault_code::invalid_argument,
                "A slice tag applies to a node or to a node group, not both");
  check_slice_tag_write(conn, ctx.who, slice, type, node_id, nodegroup_id);
  if (node_id && !slice_on_node(conn, slice.slice_id, *node_id) &&
      !system_slice(conn, slice.slice_id))
    throw fault(fault_code::invalid_argument,
                "AddSliceTag: slice " + slice.name + " not on specified node " +
                    std::to_string(*node_id) + " nor is it a system slice");
  validate_slice_tag_value(conn, type.tagname, value);
  check_duplicate(conn, slice, type, value, node_id, nodegroup_id, 0);
  auto opt = [](std::optional<int> v) -> store::param {
    return v ? store::param{std::to_string(*v)} : std::nullopt;
  };
  int id = 0;
  try {
    auto res = conn.exec("INSERT INTO slice_tag (slice_id, node_id, nodegroup_id, tag_type_id,"
                         " value) VALUES ($1, $2, $3, $4, $5) RETURNING slice_tag_id",
                         {std::to_string(slice.slice_id), opt(node_id), opt(nodegroup_id),
                          std::to_string(type.tag_type_id), value});
    id = static_cast<int>(res.integer(0, 0));
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Slice attribute already exists");
    throw;
  }
  ctx.touched("SliceTag", id);
  ctx.touched("Slice", slice.slice_id);
  return id;
}

/// A slice tag row as the write methods need it.
struct slice_tag_row {
  int slice_tag_id;
  int slice_id;
  int tag_type_id;
  std::optional<int> node_id;
  std::optional<int> nodegroup_id;
};

slice_tag_row load_slice_tag(store::connection& conn, int slice_tag_id) {
  auto res = conn.exec("SELECT st.slice_id, st.tag_type_id, st.node_id, st.nodegroup_id"
                       " FROM slice_tag st WHERE st.slice_tag_id = $1",
                       {std::to_string(slice_tag_id)});
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such slice attribute");
  auto opt = [&](int col) -> std::optional<int> {
    if (res.is_null(0, col))
      return std::nullopt;
    return static_cast<int>(res.integer(0, col));
  };
  return {slice_tag_id, static_cast<int>(res.integer(0, 0)), static_cast<int>(res.integer(0, 1)),
          opt(2), opt(3)};
}

void update_tag(call_context& ctx, store::connection& conn, const slice_row& slice,
                const slice_tag_row& tag, const std::string& value) {
  auto type = load_tag_type(conn, tag.tag_type_id);
  check_slice_tag_write(conn, ctx.who, slice, type, tag.node_id, tag.nodegroup_id);
  validate_slice_tag_value(conn, type.tagname, value);
  if (!single_valued(type.tagname))
    check_duplicate(conn, slice, type, value, tag.node_id, tag.nodegroup_id, tag.slice_tag_id);
  try {
    conn.exec("UPDATE slice_tag SET value = $2 WHERE slice_tag_id = $1",
              {std::to_string(tag.slice_tag_id), value});
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Slice attribute already exists");
    throw;
  }
  ctx.touched("SliceTag", tag.slice_tag_id);
  ctx.touched("Slice", slice.slice_id);
}

// --- Methods ---

xv add_slice_tag(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  return store::in_transaction(*conn, [&](store::connection& c) {
    auto slice = load_slice(c, args[0], now);
    auto type = load_tag_type(c, resolve_id(c, tag_type_class(), args[1]));
    auto node_id = resolve_node(c, arg_or_nil(args, 3));
    auto nodegroup_id = resolve_nodegroup(c, arg_or_nil(args, 4));
    int id = add_tag(ctx, c, slice, type, xmlrpc_c::value_string(args[2]).cvalue(), node_id,
                     nodegroup_id);
    return xv{xmlrpc_c::value_int(id)};
  });
}

xv get_slice_tags(call_context& ctx, const args_t& args) {
  select_options opts;
  // Tags of expired slices are hidden with their slices.
  opts.condition = "t.slice_id IN (SELECT s.slice_id FROM slices s WHERE s.expires >"
                   " to_timestamp(" +
                   std::to_string(now_of(ctx)) + "))";
  if (auto view = slice_view_condition(ctx.who, "t.slice_id"); !view.empty())
    opts.condition += " AND " + view;
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, slice_tag_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1), opts);
}

xv write_slice_tag(call_context& ctx, const args_t& args, bool remove) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  return store::in_transaction(*conn, [&](store::connection& c) {
    auto tag = load_slice_tag(c, xmlrpc_c::value_int(args[0]).cvalue());
    auto slice = load_slice(c, xmlrpc_c::value_int(tag.slice_id), now);
    if (remove) {
      auto type = load_tag_type(c, tag.tag_type_id);
      check_slice_tag_write(c, ctx.who, slice, type, tag.node_id, tag.nodegroup_id);
      c.exec("DELETE FROM slice_tag WHERE slice_tag_id = $1", {std::to_string(tag.slice_tag_id)});
      ctx.touched("SliceTag", tag.slice_tag_id);
      ctx.touched("Slice", slice.slice_id);
    } else {
      update_tag(ctx, c, slice, tag, xmlrpc_c::value_string(args[1]).cvalue());
    }
    return xv{xmlrpc_c::value_int(1)};
  });
}

/// PLCAPI 4.x's SliceAttribute names (PLC/v42LegacySliceAttributes.py and
/// v42LegacySliceAttributeTypes.py).
const rename_map& slice_attribute_renames() {
  static const rename_map renames{
      {
          {"slice_attribute_id", "slice_tag_id"},
          {"slice_attribute_ids", "slice_tag_ids"},
          {"attribute_type_id", "tag_type_id"},
          {"name", "tagname"},
      },
      {{"SliceAttribute", "SliceTag"},
       {"slice_attribute", "slice_tag"},
       {"SliceAttributeType", "TagType"},
       {"attribute_type", "tag_type"}},
  };
  return renames;
}

/// Drops the slice's `name` from GetSliceTags rows: in 4.x a slice
/// attribute's `name` is its type's name (tagname), which takes its place.
xv without_slice_name(const xv& rows) {
  std::vector<xv> out;
  for (const auto& row : xmlrpc_c::value_array(rows).vectorValueValue()) {
    auto m = xmlrpc_c::value_struct(row).cvalue();
    m.erase("name");
    out.push_back(xmlrpc_c::value_struct(m));
  }
  return xmlrpc_c::value_array(out);
}

} // namespace

const store::class_desc& slice_tag_class() {
  static const store::class_desc cls = make_slice_tag_class();
  return cls;
}

void seed_slice_tag_types(store::connection& conn) {
  store::in_transaction(conn, [&](store::connection& c) {
    for (const auto& r : pl::resource_table()) {
      std::string description =
          std::string{r.description} + " (" + std::string{r.unit} + ", " + to_string(r.kind) + ")";
      auto res = c.exec("INSERT INTO tag_types (tagname, category, description)"
                        " VALUES ($1, 'slice/rspec', $2) ON CONFLICT (tagname) DO NOTHING"
                        " RETURNING tag_type_id",
                        {std::string{r.name}, description});
      if (res.rows() > 0)
        c.exec("INSERT INTO tag_type_role (tag_type_id, role_id) VALUES ($1, 10)",
               {std::string{res.text(0, 0)}});
    }
  });
}

void validate_slice_tag_value(store::connection& conn, const std::string& tagname,
                              const std::string& value) {
  if (const auto* r = pl::find_resource(tagname)) {
    auto parsed = pl::parse_resource_value(*r, value);
    if (parsed)
      return;
    std::string why;
    switch (static_cast<pl::errc>(parsed.error().code())) {
    case pl::errc::not_a_number:
      why = "must be a decimal integer (" + std::string{r->unit} + "), got '" + value + "'";
      break;
    case pl::errc::negative_value:
      why = "must not be negative";
      break;
    default:
      why = "must be between " + std::to_string(r->min_value) + " and " +
            std::to_string(r->max_value);
    }
    throw fault::invalid_value(tagname, why);
  }
  if ((tagname == "enabled" || tagname == "system") && value != "0" && value != "1")
    throw fault::invalid_value(tagname, "must be 0 or 1");
  if (tagname == "initscript" &&
      conn.exec("SELECT 1 FROM initscripts WHERE name = $1 AND enabled", {value}).rows() == 0)
    throw fault(fault_code::invalid_argument, "No such plc initscript '" + value + "'");
}

void check_slice_tag_write(store::connection& conn, const caller& who, const slice_row& slice,
                           const tag_type_info& type, std::optional<int> node_id,
                           std::optional<int> nodegroup_id) {
  if (is_admin(who))
    return;
  auto denied = [&](const std::string& reason) {
    return fault(fault_code::permission_denied,
                 "Cannot write slice tag " + type.tagname + " - " + reason);
  };
  const auto& roles = type.role_ids;
  if (who.node_id && !who.person_id) { // a node (hmac or node session)
    if (std::find(roles.begin(), roles.end(), node_role_id) == roles.end())
      throw denied("caller may not access this tag type");
    if (nodegroup_id || !node_id)
      throw denied("wrong node caller");
    if (*node_id != *who.node_id)
      throw denied("node mismatch");
    if (!slice_on_node(conn, slice.slice_id, *node_id))
      throw denied("slice not in node");
    return;
  }
  if (!holds_tag_type_role(who, type))
    throw denied("caller may not access this tag type");
  if (nodegroup_id)
    throw fault(fault_code::permission_denied,
                "Cannot set slice tag " + type.tagname + " on nodegroup - restricted to admins");
  if (node_id && !slice_on_node(conn, slice.slice_id, *node_id))
    throw fault(fault_code::permission_denied,
                type.tagname + ", node must be in slice when setting sliver tag");
  // Techs are not granted anything here (PLCAPI: not in AddSliceTag's roles).
  auto holds = [&](role r) {
    return has_role(who, r) && std::find(roles.begin(), roles.end(), role_id(r)) != roles.end();
  };
  if (holds(role::user) && who.person_id && is_slice_member(conn, *who.person_id, slice.slice_id))
    return;
  if (holds(role::pi) && can_manage_site(conn, who, slice.site_id))
    return;
  throw denied("user not in slice; or slice does not belong to pi's site");
}

void set_slice_tag_fields(call_context& ctx, store::connection& conn, const slice_row& slice,
                          const std::vector<std::pair<std::string, std::string>>& tags) {
  for (const auto& [tagname, value] : tags) {
    auto type =
        load_tag_type(conn, resolve_id(conn, tag_type_class(), xmlrpc_c::value_string(tagname)));
    auto existing = conn.exec("SELECT min(slice_tag_id) FROM slice_tag WHERE slice_id = $1"
                              " AND tag_type_id = $2 AND node_id IS NULL AND nodegroup_id IS NULL",
                              {std::to_string(slice.slice_id), std::to_string(type.tag_type_id)});
    if (existing.is_null(0, 0))
      add_tag(ctx, conn, slice, type, value, std::nullopt, std::nullopt);
    else
      update_tag(ctx, conn, slice, load_slice_tag(conn, static_cast<int>(existing.integer(0, 0))),
                 value);
  }
}

void add_slice_tag_methods(dispatcher& d) {
  const param_spec tag_id{"slice_tag_id", xml_type::integer};
  const param_spec value{"value", xml_type::string};
  std::vector<method_spec> specs;
  specs.push_back({"AddSliceTag",
                   {role::admin, role::pi, role::user, role::node},
                   {{"slice_id_or_name", xml_type::any},
                    {"tag_type_id_or_name", xml_type::any},
                    value,
                    {"node_id_or_hostname", xml_type::any, true},
                    {"nodegroup_id_or_name", xml_type::any, true}},
                   xml_type::integer,
                   "Sets a tag of a slice: slice-wide, of one sliver (node), or of the slivers "
                   "on a node group's nodes (admins only). Non-admins need one of the tag "
                   "type's roles and to be a member of the slice (user) or a PI of its site "
                   "(pi); a node may set its own slivers' tags. Resource values are checked "
                   "against the resource table. Returns the new slice_tag_id.",
                   add_slice_tag});
  specs.push_back(
      {"GetSliceTags",
       {role::admin, role::pi, role::user, role::node},
       {{"slice_tag_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
       xml_type::array,
       "Returns the slice and sliver tags matching the filter (slice_tag_ids, or a "
       "struct) among the slices the caller may see (as GetSlices).",
       get_slice_tags});
  specs.push_back(
      {"UpdateSliceTag",
       {role::admin, role::pi, role::user, role::node},
       {tag_id, value},
       xml_type::integer,
       "Changes the value of a slice or sliver tag, with the rights of AddSliceTag. "
       "Returns 1.",
       [](call_context& ctx, const args_t& args) { return write_slice_tag(ctx, args, false); }});
  specs.push_back(
      {"DeleteSliceTag",
       {role::admin, role::pi, role::user, role::tech, role::node},
       {tag_id},
       xml_type::integer,
       "Deletes a slice or sliver tag, with the rights of AddSliceTag. Returns 1.",
       [](call_context& ctx, const args_t& args) { return write_slice_tag(ctx, args, true); }});
  const auto& renames = slice_attribute_renames();
  for (auto& spec : specs) {
    auto legacy = legacy_method(spec, renames);
    // PLCAPI 4.0's roles: nodes came to slice attributes with 5.x.
    legacy.roles = {role::admin, role::pi, role::user};
    if (spec.name == "GetSliceTags") {
      legacy.roles.push_back(role::node);
      auto inner = spec.handler;
      legacy.handler = [inner, &renames](call_context& ctx, const args_t& args) {
        args_t renamed;
        for (const auto& a : args)
          renamed.push_back(legacy_to_current(a, renames));
        return current_to_legacy(without_slice_name(inner(ctx, renamed)), renames);
      };
    }
    d.add(std::move(spec));
    d.add(std::move(legacy));
  }
  for (auto& spec : tag_type_method_specs())
    d.add(legacy_method(spec, renames));
}

} // namespace pl::plc::api
