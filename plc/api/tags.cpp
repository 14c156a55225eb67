#include "plc/api/tags.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/sites.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_tag_type_class() {
  return {
      "TagType",
      "tag_types",
      "tag_type_id",
      "tagname",
      {
          {"tag_type_id", field_type::integer, {}, 0, false, false, "Node tag type identifier"},
          {"tagname", field_type::text, {}, 100, true, false, "Node tag type name"},
          {"description", field_type::text, {}, 254, true, true, "Node tag type description"},
          {"category", field_type::text, {}, 64, true, false, "Node tag category"},
          {"role_ids", field_type::int_list,
           "ARRAY(SELECT r.role_id FROM tag_type_role r WHERE r.tag_type_id = t.tag_type_id"
           " ORDER BY 1)",
           0, false, false, "List of role identifiers"},
          {"roles", field_type::text_list,
           "ARRAY(SELECT ro.name FROM tag_type_role r JOIN roles ro ON ro.role_id = r.role_id"
           " WHERE r.tag_type_id = t.tag_type_id ORDER BY r.role_id)",
           0, false, false, "List of roles"},
      },
  };
}

const std::set<std::string> tag_type_updatable{"tagname", "description", "category"};

/// Checks that a tag type name is set and free (but for `self`).
void check_tagname(store::connection& conn, const row_values& values, int self) {
  auto name = value_of(values, "tagname");
  if (!name)
    return;
  if (!name->has_value() || (*name)->empty())
    throw fault(fault_code::invalid_argument, "tag type name must be set");
  auto clash = conn.exec("SELECT 1 FROM tag_types WHERE tagname = $1 AND tag_type_id <> $2",
                         {**name, std::to_string(self)});
  if (clash.rows() > 0)
    throw fault(fault_code::invalid_argument, "tag type name already in use");
}

/// Runs `fn`, turning a lost race for a unique key into fault 102 `what`.
template <class F>
auto unique_or_102(const std::string& what, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, what);
    throw;
  }
}

xv add_tag_type(call_context& ctx, const args_t& args) {
  // PLCAPI keeps only tagname, description and category, silently.
  auto values = writable_values(tag_type_class(), args[0], tag_type_updatable);
  if (!value_of(values, "tagname"))
    throw fault(fault_code::invalid_argument, "tag type name must be set");
  auto conn = ctx.svc.db->acquire();
  check_tagname(*conn, values, 0);
  int id = unique_or_102("tag type name already in use",
                         [&] { return insert_row(*conn, tag_type_class(), values); });
  ctx.touched("TagType", id);
  return xmlrpc_c::value_int(id);
}

xv get_tag_types(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, tag_type_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_tag_type(call_context& ctx, const args_t& args) {
  std::string rejected;
  bool role_keys = false;
  for (const auto& [key, _] : xmlrpc_c::value_struct(args[1]).cvalue())
    if (!tag_type_updatable.count(key)) {
      rejected += (rejected.empty() ? "'" : ", '") + key + "'";
      role_keys = role_keys || key == "roles" || key == "role_ids";
    }
  if (!rejected.empty())
    throw fault(fault_code::invalid_argument,
                "Cannot update TagType column(s) [" + rejected + "]" +
                    (role_keys ? " see AddRoleToTagType DeleteRoleFromTagType" : ""));
  auto values = writable_values(tag_type_class(), args[1], tag_type_updatable, true);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, tag_type_class(), args[0]);
  check_tagname(*conn, values, id);
  unique_or_102("tag type name already in use",
                [&] { return update_row(*conn, tag_type_class(), id, values); });
  ctx.touched("TagType", id);
  return xmlrpc_c::value_int(1);
}

xv delete_tag_type(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, tag_type_class(), args[0]);
  // A node group is defined by its tag type: refuse rather than drop the group.
  auto groups = conn->exec("SELECT string_agg(groupname, ', ' ORDER BY groupname) FROM nodegroups"
                           " WHERE tag_type_id = $1 HAVING count(*) > 0",
                           {std::to_string(id)});
  if (groups.rows() > 0)
    throw fault(fault_code::invalid_argument,
                "Tag type " + std::to_string(id) + " defines node group(s) " +
                    std::string{groups.text(0, 0)} + ": delete them first");
  // The tags of this type and its role list go with it (ON DELETE CASCADE).
  conn->exec("DELETE FROM tag_types WHERE tag_type_id = $1", {std::to_string(id)});
  ctx.touched("TagType", id);
  return xmlrpc_c::value_int(1);
}

xv change_tag_type_role(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int role = resolve_id(*conn, role_class(), args[0]);
  int type = resolve_id(*conn, tag_type_class(), args[1]);
  set_link(*conn, {"tag_type_role", "tag_type_id", "role_id"}, type, role, add);
  ctx.touched("TagType", type);
  ctx.touched("Role", role);
  ctx.message = "Role " + std::to_string(role) + (add ? " added to" : " revoked from") +
                " tag_type " + std::to_string(type);
  return xmlrpc_c::value_int(1);
}

// --- Tags of one kind ---

/// A tag row as the write methods need it.
struct tag_row {
  int tag_id;
  int object_id;
  int tag_type_id;
};

/// Reads live tag `args_id` of `cls`; fault 102 "No such <class>" otherwise.
tag_row load_tag(store::connection& conn, const tag_kind& kind, const store::class_desc& cls,
                 int tag_id) {
  std::string sql = "SELECT t." + kind.object->primary_key + ", t.tag_type_id FROM " + cls.table +
                    " t WHERE t." + cls.primary_key + " = $1";
  if (!cls.live_condition.empty())
    sql += " AND " + cls.live_condition;
  auto res = conn.exec(sql, {std::to_string(tag_id)});
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such " + cls.name + " " + std::to_string(tag_id));
  return {tag_id, static_cast<int>(res.integer(0, 0)), static_cast<int>(res.integer(0, 1))};
}

void check_write(store::connection& conn, const tag_kind& kind, const caller& who, int object_id,
                 int tag_type_id) {
  if (is_admin(who))
    return;
  kind.may_write(conn, who, object_id, load_tag_type(conn, tag_type_id));
}

xv add_tag(const tag_kind& kind, const store::class_desc& cls, call_context& ctx,
           const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int object_id = resolve_id(*conn, *kind.object, args[0]);
  int type_id = resolve_id(*conn, tag_type_class(), args[1]);
  const std::string& key = kind.object->primary_key;
  std::string already = kind.object->name + " " + std::to_string(object_id) +
                        " already has setting " + std::to_string(type_id);
  auto clash =
      conn->exec("SELECT 1 FROM " + cls.table + " WHERE " + key + " = $1 AND tag_type_id = $2",
                 {std::to_string(object_id), std::to_string(type_id)});
  if (clash.rows() > 0)
    throw fault(fault_code::invalid_argument, already);
  check_write(*conn, kind, ctx.who, object_id, type_id);
  int id = unique_or_102(already, [&] {
    auto res =
        conn->exec("INSERT INTO " + cls.table + " (" + key +
                       ", tag_type_id, value) VALUES ($1, $2, $3) RETURNING " + cls.primary_key,
                   {std::to_string(object_id), std::to_string(type_id),
                    xmlrpc_c::value_string(args[2]).cvalue()});
    return static_cast<int>(res.integer(0, 0));
  });
  ctx.touched(kind.name, id);
  return xmlrpc_c::value_int(id);
}

xv get_tags(const tag_kind& kind, const store::class_desc& cls, call_context& ctx,
            const args_t& args) {
  select_options opts;
  if (kind.view)
    opts.condition = kind.view(ctx.who);
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, cls, normalize_filter(arg_or_nil(args, 0)), arg_or_nil(args, 1), opts);
}

xv write_tag(const tag_kind& kind, const store::class_desc& cls, call_context& ctx,
             const args_t& args, bool remove) {
  auto conn = ctx.svc.db->acquire();
  auto tag = load_tag(*conn, kind, cls, xmlrpc_c::value_int(args[0]).cvalue());
  check_write(*conn, kind, ctx.who, tag.object_id, tag.tag_type_id);
  std::string id = std::to_string(tag.tag_id);
  if (remove)
    conn->exec("DELETE FROM " + cls.table + " WHERE " + cls.primary_key + " = $1", {id});
  else
    conn->exec("UPDATE " + cls.table + " SET value = $2 WHERE " + cls.primary_key + " = $1",
               {id, xmlrpc_c::value_string(args[1]).cvalue()});
  ctx.touched(kind.name, tag.tag_id);
  return xmlrpc_c::value_int(1);
}

// --- Site and person tags ---

void may_write_site_tag(store::connection& conn, const caller& who, int site_id,
                        const tag_type_info& type) {
  if (!holds_tag_type_role(who, type))
    throw fault(fault_code::permission_denied, "Role mismatch for writing tag " + type.tagname);
  if (who.person_id) {
    auto sites = member_site_ids(conn, *who.person_id);
    if (std::find(sites.begin(), sites.end(), site_id) != sites.end())
      return;
  }
  if (can_manage_site(conn, who, site_id)) // a PI through an organization
    return;
  throw fault(fault_code::permission_denied, "Writing site tag: must be part of site");
}

void may_write_person_tag(store::connection&, const caller& who, int person_id,
                          const tag_type_info&) {
  if (who.person_id && *who.person_id == person_id)
    return;
  throw fault(fault_code::permission_denied,
              "Writing person tag: you can only change your own tags");
}

/// GetPersonTags: a non-admin sees its own tags and, as a PI, those of the
/// persons at its sites.
std::string person_tag_view(const caller& who) {
  if (is_admin(who))
    return {};
  if (!who.person_id)
    return "FALSE";
  std::string me = std::to_string(*who.person_id);
  if (!has_role(who, role::pi))
    return "t.person_id = " + me;
  return "(t.person_id = " + me +
         " OR t.person_id IN (SELECT ps.person_id FROM person_site ps WHERE ps.site_id IN (" +
         pi_sites_sql(*who.person_id) + ")))";
}

} // namespace

const store::class_desc& tag_type_class() {
  static const store::class_desc cls = make_tag_type_class();
  return cls;
}

tag_type_info load_tag_type(store::connection& conn, int tag_type_id) {
  auto res = conn.exec("SELECT tagname, ARRAY(SELECT r.role_id FROM tag_type_role r"
                       " WHERE r.tag_type_id = t.tag_type_id)::text FROM tag_types t"
                       " WHERE t.tag_type_id = $1",
                       {std::to_string(tag_type_id)});
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such tag type " + std::to_string(tag_type_id));
  tag_type_info info{tag_type_id, std::string{res.text(0, 0)}, {}};
  std::string list{res.text(0, 1)}; // "{10,20}"
  std::string number;
  for (char c : list) {
    if (c >= '0' && c <= '9') {
      number += c;
    } else if (!number.empty()) {
      info.role_ids.push_back(std::stoi(number));
      number.clear();
    }
  }
  return info;
}

bool holds_tag_type_role(const caller& who, const tag_type_info& type) {
  return std::any_of(who.roles.begin(), who.roles.end(), [&](role r) {
    return std::find(type.role_ids.begin(), type.role_ids.end(), role_id(r)) != type.role_ids.end();
  });
}

std::vector<std::string> tag_type_names(store::connection& conn) {
  auto res = conn.exec("SELECT tagname FROM tag_types ORDER BY 1", {});
  std::vector<std::string> out;
  for (int r = 0; r < res.rows(); ++r)
    out.emplace_back(res.text(r, 0));
  return out;
}

std::string tag_ids_sql(const std::string& tag_table, const std::string& primary_key) {
  return "ARRAY(SELECT tg." + tag_table + "_id FROM " + tag_table + " tg WHERE tg." + primary_key +
         " = t." + primary_key + " ORDER BY 1)";
}

store::class_desc make_tag_class(const tag_kind& kind) {
  const store::class_desc& obj = *kind.object;
  const std::string& key = obj.primary_key;
  store::class_desc cls{kind.name, kind.table, kind.table + "_id", "", {}};
  cls.fields.push_back(
      {cls.primary_key, field_type::integer, {}, 0, false, false, kind.name + " identifier"});
  cls.fields.push_back({key, field_type::integer, {}, 0, false, false, obj.name + " identifier"});
  for (const auto& [name, column] : kind.object_fields) {
    const store::field_desc* f = obj.find(name);
    cls.fields.push_back(
        {name, f ? f->type : field_type::text,
         "(SELECT o." + column + " FROM " + obj.table + " o WHERE o." + key + " = t." + key + ")",
         0, false, true, f ? f->doc : std::string{}});
  }
  auto from_type = [](const std::string& column) {
    return "(SELECT tt." + column + " FROM tag_types tt WHERE tt.tag_type_id = t.tag_type_id)";
  };
  cls.fields.push_back(
      {"tag_type_id", field_type::integer, {}, 0, false, false, "Tag type identifier"});
  cls.fields.push_back(
      {"tagname", field_type::text, from_type("tagname"), 0, false, false, "Tag type name"});
  cls.fields.push_back({"description", field_type::text, from_type("description"), 0, false, true,
                        "Tag type description"});
  cls.fields.push_back(
      {"category", field_type::text, from_type("category"), 0, false, false, "Tag category"});
  cls.fields.push_back({"value", field_type::text, {}, 0, false, true, "Tag value"});
  if (!obj.live_condition.empty()) // the inner `t` is the object's row
    cls.live_condition = "t." + key + " IN (SELECT t." + key + " FROM " + obj.table + " t WHERE " +
                         obj.live_condition + ")";
  return cls;
}

void add_tag_kind_methods(dispatcher& d, tag_kind kind) {
  auto shared = std::make_shared<const tag_kind>(std::move(kind));
  auto cls = std::make_shared<const store::class_desc>(make_tag_class(*shared));
  const tag_kind& k = *shared;
  const std::string tag_id = cls->primary_key;
  const std::string lower = k.table; // "site_tag"
  const std::string object = k.object->name;
  const param_spec value{"value", xml_type::string};
  d.add({"Add" + k.name,
         k.add_roles,
         {{k.object->primary_key, k.object_by_name ? xml_type::any : xml_type::integer},
          {"tag_type_id_or_name", xml_type::any},
          value},
         xml_type::integer,
         "Sets tag tag_type_id_or_name of the " + object +
             " to value. Admins may always; others need one of the tag type's roles and "
             "rights over the " +
             object + ". Returns the new " + tag_id + ".",
         [shared, cls](call_context& ctx, const args_t& args) {
           return add_tag(*shared, *cls, ctx, args);
         }});
  d.add({"Get" + k.name + "s",
         k.get_roles,
         {{lower + "_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns the " + object + " tags matching the filter (" + tag_id + "s, or a struct).",
         [shared, cls](call_context& ctx, const args_t& args) {
           return get_tags(*shared, *cls, ctx, args);
         }});
  d.add({"Update" + k.name,
         k.update_roles,
         {{tag_id, xml_type::integer}, value},
         xml_type::integer,
         "Changes the value of a " + object + " tag, with the rights of Add" + k.name +
             ". Returns 1.",
         [shared, cls](call_context& ctx, const args_t& args) {
           return write_tag(*shared, *cls, ctx, args, false);
         }});
  d.add({"Delete" + k.name,
         k.delete_roles,
         {{tag_id, xml_type::integer}},
         xml_type::integer,
         "Deletes a " + object + " tag, with the rights of Add" + k.name + ". Returns 1.",
         [shared, cls](call_context& ctx, const args_t& args) {
           return write_tag(*shared, *cls, ctx, args, true);
         }});
}

std::vector<method_spec> tag_type_method_specs() {
  const param_spec type{"tag_type_id_or_name", xml_type::any};
  const param_spec fields{"tag_type_fields", xml_type::structure};
  std::vector<method_spec> out;
  out.push_back(
      {"AddTagType",
       {role::admin},
       {fields},
       xml_type::integer,
       "Adds a tag type (tagname, description, category; other keys are ignored). Its role "
       "list starts empty: see AddRoleToTagType. Returns the new tag_type_id.",
       add_tag_type});
  out.push_back({"GetTagTypes",
                 {role::admin, role::pi, role::user, role::tech, role::node},
                 {{"tag_type_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
                 xml_type::array,
                 "Returns tag types matching the filter (ids/tagnames, or a struct), with their "
                 "role_ids and roles.",
                 get_tag_types});
  out.push_back({"UpdateTagType",
                 {role::admin},
                 {type, fields},
                 xml_type::integer,
                 "Updates a tag type's tagname, description or category; other keys are fault 102. "
                 "Returns 1.",
                 update_tag_type});
  out.push_back(
      {"DeleteTagType",
       {role::admin},
       {type},
       xml_type::integer,
       "Deletes a tag type with every tag of that type; refused (102) while a node group is "
       "defined by it. Returns 1.",
       delete_tag_type});
  return out;
}

void add_tag_methods(dispatcher& d) {
  for (auto& spec : tag_type_method_specs())
    d.add(std::move(spec));
  const param_spec role_arg{"role_id_or_name", xml_type::any};
  const param_spec tagname{"tag_type_id_or_tagname", xml_type::any};
  d.add({"AddRoleToTagType",
         {role::admin},
         {role_arg, tagname},
         xml_type::integer,
         "Lets callers with the role set tags of this type. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_tag_type_role(ctx, args, true);
         }});
  d.add({"DeleteRoleFromTagType",
         {role::admin},
         {role_arg, tagname},
         xml_type::integer,
         "Removes a role from the tag type's role list. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_tag_type_role(ctx, args, false);
         }});

  add_tag_kind_methods(d, {"SiteTag",
                           "site_tag",
                           &site_class(),
                           {{"login_base", "login_base"}},
                           false,
                           may_write_site_tag,
                           {},
                           {role::admin, role::pi, role::tech, role::user},
                           {role::admin, role::pi, role::user, role::node},
                           {role::admin, role::pi, role::tech, role::user},
                           {role::admin, role::pi, role::user}});
  add_tag_kind_methods(d, {"PersonTag",
                           "person_tag",
                           &person_class(),
                           {{"email", "email"}},
                           false,
                           may_write_person_tag,
                           person_tag_view,
                           {role::admin, role::pi, role::tech, role::user},
                           {role::admin, role::pi, role::user, role::tech},
                           {role::admin, role::pi, role::tech, role::user},
                           {role::admin, role::pi, role::user}});
}

} // namespace pl::plc::api
