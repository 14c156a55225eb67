#include "plc/api/slices.hpp"

#include "actors/clock.hpp"
#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/slice_tags.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

const char* no_peer = "NULL::integer";
constexpr std::int64_t week = 7 * 24 * 3600;

store::class_desc make_slice_class() {
  return {
      "Slice",
      "slices",
      "slice_id",
      "name",
      {
          {"slice_id", field_type::integer, {}, 0, false, false, "Slice identifier"},
          {"site_id",
           field_type::integer,
           {},
           0,
           false,
           false,
           "Identifier of the site to which this slice belongs"},
          {"name", field_type::text, {}, 64, true, false, "Slice name"},
          {"instantiation", field_type::text, {}, 100, true, false, "Slice instantiation state"},
          {"url", field_type::text, {}, 254, true, true, "URL further describing this slice"},
          {"description", field_type::text, {}, 2048, true, true, "Slice description"},
          {"max_nodes",
           field_type::integer,
           {},
           0,
           true,
           false,
           "Maximum number of nodes that can be assigned to this slice"},
          {"creator_person_id",
           field_type::integer,
           {},
           0,
           false,
           true,
           "Identifier of the account that created this slice"},
          {"created", field_type::timestamp, {}, 0, false, false, "When the slice was created"},
          {"expires", field_type::timestamp, {}, 0, true, false, "When the slice expires"},
          {"node_ids", field_type::int_list,
           "ARRAY(SELECT sn.node_id FROM slice_node sn WHERE sn.slice_id = t.slice_id ORDER BY 1)",
           0, false, false, "Nodes in this slice"},
          {"person_ids", field_type::int_list,
           "ARRAY(SELECT sp.person_id FROM slice_person sp WHERE sp.slice_id = t.slice_id"
           " ORDER BY 1)",
           0, false, false, "Accounts that can use this slice"},
          {"slice_tag_ids", field_type::int_list,
           "ARRAY(SELECT st.slice_tag_id FROM slice_tag st WHERE st.slice_id = t.slice_id"
           " ORDER BY 1)",
           0, false, false, "Tags of this slice and its slivers"},
          {"node_ids_whitelist", field_type::int_list,
           "ARRAY(SELECT w.node_id FROM node_slice_whitelist w WHERE w.slice_id = t.slice_id"
           " ORDER BY 1)",
           0, false, false, "Nodes whose whitelist names this slice"},
          {"peer_id", field_type::integer, no_peer, 0, false, true, "Peer of a foreign slice"},
          {"peer_slice_id", field_type::integer, no_peer, 0, false, true, "Slice id at the peer"},
      },
      "NOT t.deleted",
      "slice_tag_global",
  };
}

store::class_desc make_initscript_class() {
  return {
      "InitScript",
      "initscripts",
      "initscript_id",
      "name",
      {
          {"initscript_id", field_type::integer, {}, 0, false, false, "Initscript identifier"},
          {"name", field_type::text, {}, 254, true, false, "Initscript name"},
          {"enabled", field_type::boolean, {}, 0, true, false, "Initscript is active"},
          {"script", field_type::text, {}, 0, true, false, "Initscript"},
      },
  };
}

const store::class_desc& slice_with_deleted() {
  static const store::class_desc cls = with_deletion_fields(slice_class());
  return cls;
}

const store::class_desc& initscript_class() {
  static const store::class_desc cls = make_initscript_class();
  return cls;
}

std::int64_t now_of(const call_context& ctx) {
  return ctx.svc.clock->now_epoch();
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

bool valid_slice_name(const std::string& name) {
  static const std::regex good{R"(^[a-z0-9.]+_[a-zA-Z0-9_.]+$)"};
  return std::regex_match(name, good);
}

std::string quoted_list(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys)
    out += (out.empty() ? "'" : ", '") + k + "'";
  return "[" + out + "]";
}

/// A caller's slice fields split as PLCAPI's Row.split_fields does: the
/// native fields it accepts and the tags (tag type names) to set.
struct slice_fields {
  xv native;
  std::vector<std::pair<std::string, std::string>> tags;
};

/// Splits `fields`: known slice fields outside `accepted` are 102 ("Trying to
/// set/change unaccepted key"), names neither a field nor a tag type are 102
/// ("Cannot <verb> Slice with column(s) [...]").
slice_fields split_slice_fields(store::connection& conn, const xv& fields,
                                const std::set<std::string>& accepted, const std::string& verb) {
  if (fields.type() != xv::TYPE_STRUCT)
    throw fault::invalid_value("slice_fields", "expected struct");
  auto tagnames = tag_type_names(conn);
  std::map<std::string, xv> native;
  slice_fields out;
  std::vector<std::string> rejected;
  for (const auto& [key, value] : xmlrpc_c::value_struct(fields).cvalue()) {
    if (slice_class().find(key)) {
      if (!accepted.count(key))
        throw fault(fault_code::invalid_argument, "Trying to set/change unaccepted key " + key);
      native.emplace(key, value);
    } else if (std::binary_search(tagnames.begin(), tagnames.end(), key)) {
      if (value.type() == xv::TYPE_STRING)
        out.tags.emplace_back(key, xmlrpc_c::value_string(value).cvalue());
      else if (value.type() == xv::TYPE_INT)
        out.tags.emplace_back(key, std::to_string(xmlrpc_c::value_int(value).cvalue()));
      else
        throw fault::invalid_value(key, "expected string");
    } else {
      rejected.push_back(key);
    }
  }
  if (!rejected.empty())
    throw fault(fault_code::invalid_argument,
                "Cannot " + verb + " Slice with column(s) " + quoted_list(rejected));
  out.native = xmlrpc_c::value_struct(native);
  return out;
}

void check_instantiation(store::connection& conn, const row_values& values) {
  if (auto inst = value_of(values, "instantiation"))
    if (conn.exec("SELECT 1 FROM slice_instantiations WHERE instantiation = $1",
                  {inst->value_or("")})
            .rows() == 0)
      throw fault(fault_code::invalid_argument, "No such instantiation state");
}

/// Slices tests `expires` as PLCAPI's Timestamp.sql_validate(check_future).
void check_future(const row_values& values, std::int64_t now) {
  if (auto e = value_of(values, "expires"); e && e->has_value() && std::stoll(**e) <= now)
    throw fault::invalid_value("expires", "must be in the future");
}

/// Returns whether a text is missing or only blanks (PLCAPI's `not x.strip()`).
bool blank(const std::optional<std::string>& s) {
  return !s || s->find_first_not_of(" \t\r\n") == std::string::npos;
}

// --- Slices ---

const std::set<std::string> add_fields = {"name", "instantiation", "url", "description",
                                          "max_nodes"};
const std::set<std::string> update_fields = {"instantiation", "url", "description", "max_nodes",
                                             "expires"};

xv add_slice(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  auto split = split_slice_fields(*conn, args[0], add_fields, "add");
  auto values = writable_values(slice_class(), split.native, add_fields);
  auto name_p = value_of(values, "name");
  std::string name = name_p ? name_p->value_or("") : "";
  if (!valid_slice_name(name))
    throw fault(fault_code::invalid_argument, "Invalid slice name");
  std::string login_base = name.substr(0, name.find('_'));
  auto site =
      conn->exec("SELECT site_id FROM sites WHERE login_base = $1 AND NOT deleted", {login_base});
  if (site.rows() == 0)
    throw fault(fault_code::invalid_argument, "Invalid slice prefix " + login_base + " in " + name);
  int site_id = static_cast<int>(site.integer(0, 0));
  if (!is_admin(ctx.who) && !can_manage_site(*conn, ctx.who, site_id))
    throw fault(fault_code::permission_denied,
                "Slice prefix " + login_base + " must match one of your sites' login_base");
  check_instantiation(*conn, values);
  std::int64_t now = now_of(ctx);
  int id = store::in_transaction(*conn, [&](store::connection& c) {
    // The site row lock serialises AddSlice per site, so max_slices holds
    // under concurrent calls.
    auto s = c.exec("SELECT name, enabled, max_slices FROM sites WHERE site_id = $1 FOR UPDATE",
                    {std::to_string(site_id)});
    std::string site_name{s.text(0, 0)};
    for (int expired : reap_expired_slices(c, now))
      ctx.touched("Slice", expired);
    auto count = c.exec("SELECT count(*) FROM slices WHERE site_id = $1 AND NOT deleted",
                        {std::to_string(site_id)});
    long long used = count.integer(0, 0), max_slices = s.integer(0, 2);
    if (used >= max_slices)
      throw fault(fault_code::invalid_argument,
                  "Site " + site_name + " has reached (" + std::to_string(used) +
                      ") its maximum allowable slice count (" + std::to_string(max_slices) + ")");
    if (!s.boolean(0, 1))
      throw fault(fault_code::invalid_argument,
                  "Site " + site_name + " is disabled and can cannot create slices");
    if (c.exec("SELECT 1 FROM slices WHERE name = $1 AND NOT deleted", {name}).rows() > 0)
      throw fault(fault_code::invalid_argument, "Slice name already in use, " + name);
    values.set("site_id", std::to_string(site_id));
    if (ctx.who.person_id)
      values.set("creator_person_id", std::to_string(*ctx.who.person_id));
    values.set("created", std::to_string(now), "to_timestamp");
    values.set("expires", std::to_string(now + 2 * week), "to_timestamp");
    int slice_id = unique_or_102("Slice name already in use, " + name,
                                 [&] { return insert_row(c, slice_class(), values); });
    set_slice_tag_fields(ctx, c, load_slice(c, xmlrpc_c::value_int(slice_id), now), split.tags);
    return slice_id;
  });
  ctx.touched("Slice", id);
  ctx.message = "Slice " + std::to_string(id) + " created";
  return xmlrpc_c::value_int(id);
}

xv get_slices(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  bool admin = is_admin(ctx.who);
  const xv filter = normalize_filter(arg_or_nil(args, 0));
  // Expired slices are hidden (PLCAPI's Slices()); an admin who filters on
  // expires, deleted or date_deleted sees expired ones too.
  bool expiry_asked = false;
  if (admin && filter.type() == xv::TYPE_STRUCT)
    for (const auto& [key, _] : xmlrpc_c::value_struct(filter).cvalue()) {
      auto bare = key.substr(std::min(key.size(), key.find_first_not_of("~<>[]&|")));
      expiry_asked =
          expiry_asked || bare == "expires" || bare == "deleted" || bare == "date_deleted";
    }
  select_options opts;
  opts.tag_names = tag_type_names(*conn);
  std::vector<std::string> conditions;
  if (!expiry_asked)
    conditions.push_back("t.expires > to_timestamp(" + std::to_string(now_of(ctx)) + ")");
  if (auto view = slice_view_condition(ctx.who, "t.slice_id"); !view.empty())
    conditions.push_back(view);
  for (const auto& c : conditions)
    opts.condition += (opts.condition.empty() ? "" : " AND ") + c;
  return get_soft_deleted(*conn, slice_class(), slice_with_deleted(), filter, arg_or_nil(args, 1),
                          admin, opts);
}

xv update_slice(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  auto split = split_slice_fields(*conn, args[1], update_fields, "update");
  auto values = writable_values(slice_class(), split.native, update_fields);
  return store::in_transaction(*conn, [&](store::connection& c) {
    auto slice = load_slice(c, args[0], now);
    check_slice_rights(c, ctx.who, slice);
    bool admin = is_admin(ctx.who);
    check_future(values, now);
    check_instantiation(c, values);
    bool renewing = false;
    auto expires = value_of(values, "expires");
    if (expires && expires->has_value() && std::stoll(**expires) > slice.expires) {
      auto site = c.exec("SELECT max_slices FROM sites WHERE site_id = $1",
                         {std::to_string(slice.site_id)});
      if (site.integer(0, 0) <= 0)
        throw fault(fault_code::invalid_argument,
                    "Slice creation and renewal have been disabled for the site");
      if (!admin && std::stoll(**expires) > now + 8 * week)
        throw fault(fault_code::invalid_argument, "Cannot renew a slice beyond 8 weeks from now");
      auto after = [&](const char* column, const std::optional<std::string>& stored) {
        auto given = value_of(values, column);
        return given ? *given : stored;
      };
      if (blank(after("description", slice.description)) || blank(after("url", slice.url)))
        throw fault(fault_code::invalid_argument,
                    "Cannot renew a slice with an empty description or URL");
      renewing = true;
    }
    if (auto m = value_of(values, "max_nodes"); m && m->has_value() &&
                                                std::stoi(**m) != slice.max_nodes && !admin &&
                                                !has_role(ctx.who, role::pi))
      throw fault(fault_code::invalid_argument, "Only admins and PIs may update max_nodes");
    update_row(c, slice_class(), slice.slice_id, values);
    set_slice_tag_fields(ctx, c, slice, split.tags);
    ctx.touched("Slice", slice.slice_id);
    ctx.message = "Slice " + slice.name + " updated";
    if (renewing)
      ctx.message += " renewed until " + std::string{**expires};
    return xv{xmlrpc_c::value_int(1)};
  });
}

xv delete_slice_method(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  store::in_transaction(*conn, [&](store::connection& c) {
    auto slice = load_slice(c, args[0], now);
    check_slice_rights(c, ctx.who, slice);
    delete_slice(c, slice.slice_id, std::to_string(now));
    ctx.touched("Slice", slice.slice_id);
  });
  return xmlrpc_c::value_int(1);
}

/// AddPersonToSlice and DeletePersonFromSlice: admins, or a PI over the slice's site.
xv change_slice_person(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int person_id = resolve_id(*conn, person_class(), args[0]);
  auto slice = load_slice(*conn, args[1], now_of(ctx));
  if (!is_admin(ctx.who) && !can_manage_site(*conn, ctx.who, slice.site_id))
    throw fault(fault_code::permission_denied, std::string{"Not allowed to "} +
                                                   (add ? "add users to" : "delete users from") +
                                                   " slice " + slice.name);
  set_link(*conn, {"slice_person", "slice_id", "person_id"}, slice.slice_id, person_id, add);
  ctx.touched("Person", person_id);
  ctx.touched("Slice", slice.slice_id);
  return xmlrpc_c::value_int(1);
}

/// A live node as AddSliceToNodes needs it.
struct node_ref {
  int node_id;
  int site_id;
  std::string hostname;
};

/// Resolves a list of node ids and hostnames; fault 102 naming every unknown
/// one (nothing changes then).
std::vector<node_ref> resolve_nodes(store::connection& conn, const xv& list) {
  if (list.type() != xv::TYPE_ARRAY)
    throw fault::invalid_value("node_id_or_hostname_list", "expected array");
  std::vector<node_ref> out;
  std::vector<std::string> missing;
  for (const auto& item : xmlrpc_c::value_array(list).vectorValueValue()) {
    store::result res = [&] {
      if (item.type() == xv::TYPE_INT)
        return conn.exec("SELECT node_id, site_id, hostname FROM nodes WHERE node_id = $1"
                         " AND NOT deleted",
                         {std::to_string(xmlrpc_c::value_int(item).cvalue())});
      if (item.type() == xv::TYPE_STRING)
        return conn.exec("SELECT node_id, site_id, hostname FROM nodes WHERE hostname = lower($1)"
                         " AND NOT deleted",
                         {xmlrpc_c::value_string(item).cvalue()});
      throw fault::invalid_value("node_id_or_hostname", "expected int or string");
    }();
    if (res.rows() == 0) {
      missing.push_back(item.type() == xv::TYPE_INT
                            ? std::to_string(xmlrpc_c::value_int(item).cvalue())
                            : xmlrpc_c::value_string(item).cvalue());
      continue;
    }
    node_ref n{static_cast<int>(res.integer(0, 0)), static_cast<int>(res.integer(0, 1)),
               std::string{res.text(0, 2)}};
    if (std::none_of(out.begin(), out.end(), [&](auto& o) { return o.node_id == n.node_id; }))
      out.push_back(n);
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    throw fault(fault_code::invalid_argument, "No such node(s) " + names);
  }
  return out;
}

xv change_slice_nodes(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  return store::in_transaction(*conn, [&](store::connection& c) {
    auto slice = load_slice(c, args[0], now);
    check_slice_rights(c, ctx.who, slice);
    auto nodes = resolve_nodes(c, args[1]);
    std::vector<int> own_sites;
    if (ctx.who.person_id)
      own_sites = member_site_ids(c, *ctx.who.person_id);
    for (const auto& n : nodes) {
      if (!add)
        continue;
      // A node with a whitelist takes only the slices on it, but the persons
      // of the node's site may add any slice (PLCAPI's AddSliceToNodes).
      auto white = c.exec("SELECT bool_or(slice_id = $2), count(*) FROM node_slice_whitelist"
                          " WHERE node_id = $1",
                          {std::to_string(n.node_id), std::to_string(slice.slice_id)});
      bool listed = !white.is_null(0, 0) && white.boolean(0, 0);
      bool local = std::find(own_sites.begin(), own_sites.end(), n.site_id) != own_sites.end();
      if (white.integer(0, 1) > 0 && !listed && !local)
        throw fault(fault_code::invalid_argument,
                    slice.name + " is not allowed on " + n.hostname + " (not on the whitelist)");
    }
    for (const auto& n : nodes) {
      set_link(c, {"slice_node", "slice_id", "node_id"}, slice.slice_id, n.node_id, add);
      ctx.touched("Node", n.node_id);
    }
    ctx.touched("Slice", slice.slice_id);
    std::string ids;
    for (const auto& n : nodes)
      ids += (ids.empty() ? "" : ", ") + std::to_string(n.node_id);
    ctx.message = "Slice " + std::to_string(slice.slice_id) +
                  (add ? " added to" : " removed from") + " nodes [" + ids + "]";
    return xv{xmlrpc_c::value_int(1)};
  });
}

xv change_whitelist(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  return store::in_transaction(*conn, [&](store::connection& c) {
    auto slice = load_slice(c, args[0], now);
    for (const auto& n : resolve_nodes(c, args[1])) {
      set_link(c, {"node_slice_whitelist", "slice_id", "node_id"}, slice.slice_id, n.node_id, add);
      ctx.touched("Node", n.node_id);
    }
    ctx.touched("Slice", slice.slice_id);
    return xv{xmlrpc_c::value_int(1)};
  });
}

// --- Slice instantiations ---

xv get_slice_instantiations(call_context& ctx, const args_t&) {
  auto conn = ctx.svc.db->acquire();
  auto res = conn->exec("SELECT instantiation FROM slice_instantiations ORDER BY 1");
  std::vector<xv> out;
  for (int r = 0; r < res.rows(); ++r)
    out.push_back(xmlrpc_c::value_string(std::string{res.text(r, 0)}));
  return xmlrpc_c::value_array(out);
}

xv add_slice_instantiation(call_context& ctx, const args_t& args) {
  std::string name = xmlrpc_c::value_string(args[0]).cvalue();
  check_length("instantiation", name, 100);
  if (name.empty())
    throw fault(fault_code::invalid_argument, "Slice instantiation state name must be specified");
  auto conn = ctx.svc.db->acquire();
  auto res = conn->exec("INSERT INTO slice_instantiations (instantiation) VALUES ($1)"
                        " ON CONFLICT DO NOTHING",
                        {name});
  if (res.affected() == 0)
    throw fault(fault_code::invalid_argument, "Slice instantiation state name already in use");
  return xmlrpc_c::value_int(1);
}

xv delete_slice_instantiation(call_context& ctx, const args_t& args) {
  std::string name = xmlrpc_c::value_string(args[0]).cvalue();
  auto conn = ctx.svc.db->acquire();
  if (conn->exec("SELECT 1 FROM slices WHERE instantiation = $1 AND NOT deleted", {name}).rows())
    throw fault(fault_code::invalid_argument, "Slice instantiation state " + name + " is in use");
  try {
    auto res = conn->exec("DELETE FROM slice_instantiations WHERE instantiation = $1", {name});
    if (res.affected() == 0)
      throw fault(fault_code::invalid_argument, "No such slice instantiation state");
  } catch (const store::db_error& e) {
    if (e.sqlstate() == "23503") // still named by deleted slices
      throw fault(fault_code::invalid_argument,
                  "Slice instantiation state " + name + " is in use by deleted slices");
    throw;
  }
  return xmlrpc_c::value_int(1);
}

// --- InitScripts ---

void check_initscript_name(store::connection& conn, const row_values& values, int self) {
  auto name = value_of(values, "name");
  if (!name)
    return;
  if (!name->has_value() || (*name)->empty())
    throw fault::invalid_value("name", "Initscript name must be specified");
  if (conn.exec("SELECT 1 FROM initscripts WHERE name = $1 AND initscript_id <> $2",
                {**name, std::to_string(self)})
          .rows() > 0)
    throw fault(fault_code::invalid_argument, "Initscript name already in use");
}

xv add_initscript(call_context& ctx, const args_t& args) {
  auto values = writable_values(initscript_class(), args[0]);
  for (const char* k : {"name", "script"})
    if (!value_of(values, k))
      throw fault(fault_code::invalid_argument, std::string{"Missing mandatory field "} + k);
  auto conn = ctx.svc.db->acquire();
  check_initscript_name(*conn, values, 0);
  int id = unique_or_102("Initscript name already in use",
                         [&] { return insert_row(*conn, initscript_class(), values); });
  ctx.touched("InitScript", id);
  return xmlrpc_c::value_int(id);
}

xv get_initscripts(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, initscript_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_initscript(call_context& ctx, const args_t& args) {
  auto values = writable_values(initscript_class(), args[1]);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, initscript_class(), args[0]);
  check_initscript_name(*conn, values, id);
  unique_or_102("Initscript name already in use",
                [&] { return update_row(*conn, initscript_class(), id, values); });
  ctx.touched("InitScript", id);
  return xmlrpc_c::value_int(1);
}

xv delete_initscript(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, initscript_class(), args[0]);
  conn->exec("DELETE FROM initscripts WHERE initscript_id = $1", {std::to_string(id)});
  ctx.touched("InitScript", id);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& slice_class() {
  static const store::class_desc cls = make_slice_class();
  return cls;
}

slice_row load_slice(store::connection& conn, const xv& id_or_name, std::int64_t now) {
  const char* columns = "SELECT slice_id, site_id, name, instantiation, url, description,"
                        " max_nodes, extract(epoch FROM expires)::bigint FROM slices"
                        " WHERE NOT deleted AND expires > to_timestamp($2::bigint) AND ";
  store::result res = [&] {
    if (id_or_name.type() == xv::TYPE_INT)
      return conn.exec(
          std::string{columns} + "slice_id = $1",
          {std::to_string(xmlrpc_c::value_int(id_or_name).cvalue()), std::to_string(now)});
    if (id_or_name.type() == xv::TYPE_STRING)
      return conn.exec(std::string{columns} + "name = $1",
                       {xmlrpc_c::value_string(id_or_name).cvalue(), std::to_string(now)});
    throw fault::invalid_value("slice_id_or_name", "expected int or string");
  }();
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such slice");
  slice_row s;
  s.slice_id = static_cast<int>(res.integer(0, 0));
  s.site_id = static_cast<int>(res.integer(0, 1));
  s.name = std::string{res.text(0, 2)};
  s.instantiation = std::string{res.text(0, 3)};
  s.url = res.optional_text(0, 4);
  s.description = res.optional_text(0, 5);
  s.max_nodes = static_cast<int>(res.integer(0, 6));
  s.expires = res.integer(0, 7);
  return s;
}

bool is_slice_member(store::connection& conn, int person_id, int slice_id) {
  return conn.exec("SELECT 1 FROM slice_person WHERE slice_id = $1 AND person_id = $2",
                   {std::to_string(slice_id), std::to_string(person_id)})
             .rows() > 0;
}

void check_slice_rights(store::connection& conn, const caller& who, const slice_row& slice) {
  if (is_admin(who))
    return;
  if (who.person_id && is_slice_member(conn, *who.person_id, slice.slice_id))
    return;
  if (!has_role(who, role::pi))
    throw fault(fault_code::permission_denied, "Not a member of the specified slice");
  if (!can_manage_site(conn, who, slice.site_id))
    throw fault(fault_code::permission_denied,
                "Specified slice not associated with any of your sites");
}

std::string slice_view_condition(const caller& who, const std::string& column) {
  if (is_admin(who) || (who.node_id && !who.person_id))
    return {};
  if (!who.person_id)
    return "FALSE";
  std::string me = std::to_string(*who.person_id);
  std::string cond =
      column + " IN (SELECT sp.slice_id FROM slice_person sp WHERE sp.person_id = " + me + ")";
  if (has_role(who, role::pi))
    cond += " OR " + column + " IN (SELECT s.slice_id FROM slices s WHERE s.site_id IN (" +
            pi_sites_sql(*who.person_id) + "))";
  if (has_role(who, role::tech))
    cond += " OR " + column +
            " IN (SELECT sn.slice_id FROM slice_node sn JOIN nodes n ON n.node_id = sn.node_id"
            " JOIN person_site ps ON ps.site_id = n.site_id WHERE ps.person_id = " +
            me + ")";
  return "(" + cond + ")";
}

std::string node_whitelist_condition(const caller& who) {
  if (is_admin(who))
    return {};
  std::string open =
      "NOT EXISTS (SELECT 1 FROM node_slice_whitelist w WHERE w.node_id = t.node_id)";
  std::string listed =
      "EXISTS (SELECT 1 FROM node_slice_whitelist w WHERE w.node_id = t.node_id AND w.slice_id IN ";
  if (who.person_id) {
    std::string me = std::to_string(*who.person_id);
    return "(" + open + " OR t.site_id IN (SELECT ps.site_id FROM person_site ps WHERE" +
           " ps.person_id = " + me + ") OR " + listed +
           "(SELECT sp.slice_id FROM slice_person sp WHERE sp.person_id = " + me + ")))";
  }
  if (who.node_id) {
    std::string node = std::to_string(*who.node_id);
    return "(" + open + " OR t.site_id = (SELECT n.site_id FROM nodes n WHERE n.node_id = " + node +
           ") OR " + listed + "(SELECT sn.slice_id FROM slice_node sn WHERE sn.node_id = " + node +
           ")))";
  }
  return open;
}

void delete_slice(store::connection& conn, int slice_id, const std::string& now) {
  std::string id = std::to_string(slice_id);
  for (const char* table :
       {"slice_node", "slice_person", "slice_tag", "node_slice_whitelist", "leases"})
    conn.exec(std::string{"DELETE FROM "} + table + " WHERE slice_id = $1", {id});
  conn.exec("UPDATE slices SET deleted = true, date_deleted = to_timestamp($2::bigint)"
            " WHERE slice_id = $1",
            {id, now});
}

std::vector<int> reap_expired_slices(store::connection& conn, std::int64_t now) {
  auto res = conn.exec("SELECT slice_id FROM slices WHERE NOT deleted"
                       " AND expires <= to_timestamp($1::bigint) ORDER BY 1",
                       {std::to_string(now)});
  std::vector<int> out;
  for (int r = 0; r < res.rows(); ++r) {
    out.push_back(static_cast<int>(res.integer(r, 0)));
    delete_slice(conn, out.back(), std::to_string(now));
  }
  return out;
}

void delete_site_slices(store::connection& conn, int site_id, const std::string& now) {
  auto res = conn.exec("SELECT slice_id FROM slices WHERE site_id = $1 AND NOT deleted",
                       {std::to_string(site_id)});
  for (int r = 0; r < res.rows(); ++r)
    delete_slice(conn, static_cast<int>(res.integer(r, 0)), now);
}

void detach_node_from_slices(store::connection& conn, int node_id) {
  std::string id = std::to_string(node_id);
  for (const char* table : {"slice_node", "node_slice_whitelist", "slice_tag", "leases"})
    conn.exec(std::string{"DELETE FROM "} + table + " WHERE node_id = $1", {id});
}

void detach_person_from_slices(store::connection& conn, int person_id) {
  conn.exec("DELETE FROM slice_person WHERE person_id = $1", {std::to_string(person_id)});
}

void add_slice_methods(dispatcher& d) {
  const param_spec slice{"slice_id_or_name", xml_type::any};
  const param_spec nodes{"node_id_or_hostname_list", xml_type::array};
  const param_spec person{"person_id_or_email", xml_type::any};
  const param_spec fields{"return_fields", xml_type::any, true};
  d.add({"AddSlice",
         {role::admin, role::pi},
         {{"slice_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a slice: name (<login_base>_<suffix>, the login_base of a live site the caller "
         "is PI of), instantiation, url, description, max_nodes, and tag names as fields. The "
         "site must be enabled and below max_slices; the slice expires in two weeks. Returns "
         "the new slice_id.",
         add_slice});
  d.add({"GetSlices",
         {role::admin, role::pi, role::user, role::node},
         {{"slice_filter", xml_type::any, true}, fields},
         xml_type::array,
         "Returns the slices matching the filter (ids/names, or a struct). Users see their "
         "slices, PIs also those of their sites, techs those on their sites' nodes; expired "
         "and deleted slices are hidden (admins may filter on expires, deleted, date_deleted).",
         get_slices});
  d.add({"UpdateSlice",
         {role::admin, role::pi, role::user},
         {slice, {"slice_fields", xml_type::structure}},
         xml_type::integer,
         "Updates instantiation, url, description, max_nodes (PIs and admins), expires, and "
         "tags given by name. Renewal needs a url and a description, a site with max_slices "
         "> 0, and (but for admins) at most 8 weeks from now. Returns 1.",
         update_slice});
  d.add({"DeleteSlice",
         {role::admin, role::pi, role::user},
         {slice},
         xml_type::integer,
         "Marks a slice deleted; its nodes, members, tags, whitelist entries and leases go. "
         "Returns 1.",
         delete_slice_method});
  d.add(
      {"AddPersonToSlice",
       {role::admin, role::pi},
       {person, slice},
       xml_type::integer,
       "Makes a person a member of a slice of one of the caller's sites. Returns 1.",
       [](call_context& ctx, const args_t& args) { return change_slice_person(ctx, args, true); }});
  d.add({"DeletePersonFromSlice",
         {role::admin, role::pi},
         {person, slice},
         xml_type::integer,
         "Removes a member from a slice of one of the caller's sites. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_slice_person(ctx, args, false);
         }});
  d.add(
      {"AddSliceToNodes",
       {role::admin, role::pi, role::user},
       {slice, nodes},
       xml_type::integer,
       "Adds the slice to the nodes (a node with a whitelist takes only the slices on it, "
       "unless the caller belongs to the node's site). Returns 1.",
       [](call_context& ctx, const args_t& args) { return change_slice_nodes(ctx, args, true); }});
  d.add(
      {"DeleteSliceFromNodes",
       {role::admin, role::pi, role::user},
       {slice, nodes},
       xml_type::integer,
       "Removes the slice from the nodes. Returns 1.",
       [](call_context& ctx, const args_t& args) { return change_slice_nodes(ctx, args, false); }});
  d.add({"AddSliceToNodesWhitelist",
         {role::admin},
         {slice, nodes},
         xml_type::integer,
         "Puts the slice on the whitelist of the nodes. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_whitelist(ctx, args, true); }});
  d.add({"DeleteSliceFromNodesWhitelist",
         {role::admin},
         {slice, nodes},
         xml_type::integer,
         "Takes the slice off the whitelist of the nodes. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_whitelist(ctx, args, false); }});
  d.add({"GetSliceInstantiations",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {},
         xml_type::array,
         "Returns the slice instantiation states.",
         get_slice_instantiations});
  d.add({"AddSliceInstantiation",
         {role::admin},
         {{"name", xml_type::string}},
         xml_type::integer,
         "Adds a slice instantiation state. Returns 1.",
         add_slice_instantiation});
  d.add({"DeleteSliceInstantiation",
         {role::admin},
         {{"instantiation", xml_type::string}},
         xml_type::integer,
         "Deletes a slice instantiation state no slice uses. Returns 1.",
         delete_slice_instantiation});
  d.add({"AddInitScript",
         {role::admin},
         {{"initscript_fields", xml_type::structure}},
         xml_type::integer,
         "Adds an initscript (name and script required, enabled). Returns the new "
         "initscript_id.",
         add_initscript});
  d.add({"GetInitScripts",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"initscript_filter", xml_type::any, true}, fields},
         xml_type::array,
         "Returns the initscripts matching the filter (ids/names, or a struct).",
         get_initscripts});
  d.add({"UpdateInitScript",
         {role::admin},
         {{"initscript_id", xml_type::integer}, {"initscript_fields", xml_type::structure}},
         xml_type::integer,
         "Updates an initscript. Returns 1.",
         update_initscript});
  d.add({"DeleteInitScript",
         {role::admin},
         {{"initscript_id_or_name", xml_type::any}},
         xml_type::integer,
         "Deletes an initscript. Returns 1.",
         delete_initscript});
}

} // namespace pl::plc::api
