#include "plc/api/pl3_slices.hpp"

#include "actors/clock.hpp"
#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/slices.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

/// The registered handlers the PL3 methods map onto.
struct targets {
  handler_fn add_slice, delete_slice, get_slices, update_slice, add_person, delete_person,
      add_nodes, delete_nodes, get_persons, get_nodes;
};

const method_spec& registered(const dispatcher& d, const std::string& name) {
  const method_spec* spec = d.find(name);
  if (!spec)
    throw std::logic_error("add_pl3_slice_methods: " + name + " is not registered yet");
  return *spec;
}

xv str(const std::string& s) {
  return xmlrpc_c::value_string(s);
}

xv strings(const std::vector<std::string>& list) {
  std::vector<xv> out;
  for (const auto& s : list)
    out.push_back(str(s));
  return xmlrpc_c::value_array(out);
}

std::vector<xv> items_of(const xv& v) {
  return xmlrpc_c::value_array(v).vectorValueValue();
}

xv member_of(const xv& row, const std::string& key) {
  auto m = xmlrpc_c::value_struct(row).cvalue();
  auto it = m.find(key);
  if (it == m.end())
    throw std::logic_error("pl3 slices: a result lacks " + key);
  return it->second;
}

std::vector<int> ints_of(const xv& list) {
  std::vector<int> out;
  for (const auto& v : items_of(list))
    out.push_back(xmlrpc_c::value_int(v).cvalue());
  return out;
}

/// Reads an array of strings (PL3's lists of names, hostnames and e-mail
/// addresses); fault 102 naming the parameter otherwise.
std::vector<std::string> string_list(const xv& list, const std::string& param) {
  if (list.type() != xv::TYPE_ARRAY)
    throw fault::invalid_value(param, "expected array");
  std::vector<std::string> out;
  for (const auto& v : items_of(list)) {
    if (v.type() != xv::TYPE_STRING)
      throw fault::invalid_value(param, "expected array of strings");
    out.push_back(xmlrpc_c::value_string(v).cvalue());
  }
  return out;
}

/// Reads an optional boolean where nil or a missing argument mean true, as
/// PLCAPI's `if return_users or return_users is None`.
bool flag_or_true(const args_t& args, std::size_t k, const std::string& param) {
  const xv& v = arg_or_nil(args, k);
  if (v.type() == xv::TYPE_NIL)
    return true;
  if (v.type() != xv::TYPE_BOOLEAN)
    throw fault::invalid_value(param, "expected boolean or nil");
  return xmlrpc_c::value_boolean(v).cvalue();
}

/// Reads a string that may be nil (PLCAPI's nullok string parameters).
void check_string_or_nil(const xv& v, const std::string& param) {
  if (v.type() != xv::TYPE_STRING && v.type() != xv::TYPE_NIL)
    throw fault::invalid_value(param, "expected string or nil");
}

std::string int_array_literal(const std::vector<int>& ids) {
  std::string out = "{";
  for (int id : ids)
    out += (out.size() > 1 ? "," : "") + std::to_string(id);
  return out + "}";
}

std::int64_t now_of(const call_context& ctx) {
  return ctx.svc.clock->now_epoch();
}

/// Tells whether any live, unexpired slice has one of `names` (any slice at
/// all when `all`), as PLCAPI's Slices() before SliceInfo's visibility rule.
bool any_live_slice(store::connection& conn, bool all, const std::vector<std::string>& names,
                    std::int64_t now) {
  const std::string live = "NOT deleted AND expires > to_timestamp($1::bigint)";
  if (all)
    return conn.exec("SELECT 1 FROM slices WHERE " + live + " LIMIT 1", {std::to_string(now)})
               .rows() > 0;
  for (const auto& name : names)
    if (conn.exec("SELECT 1 FROM slices WHERE " + live + " AND name = $2",
                  {std::to_string(now), name})
            .rows() > 0)
      return true;
  return false;
}

/// Reads id -> text of live rows, e.g. persons' e-mail addresses.
std::map<int, std::string> names_by_id(store::connection& conn, const char* table,
                                       const char* id_column, const char* text_column,
                                       const std::vector<int>& ids) {
  std::map<int, std::string> out;
  if (ids.empty())
    return out;
  auto res = conn.exec(std::string{"SELECT "} + id_column + ", " + text_column + " FROM " + table +
                           " WHERE NOT deleted AND " + id_column + " = ANY($1::integer[])",
                       {int_array_literal(ids)});
  for (int r = 0; r < res.rows(); ++r)
    out.emplace(static_cast<int>(res.integer(r, 0)), std::string{res.text(r, 1)});
  return out;
}

// --- reads ---

/// SliceInfo and SliceExtendedInfo: the visible slices among those named
/// (every one when the list is nil), without node_ids and person_ids (and
/// slice_tag_ids, extended), with users, nodes (and attributes) unless a
/// flag says false.
xv slice_info(call_context& ctx, const args_t& args, const targets& t, bool extended) {
  const xv& list = arg_or_nil(args, 0);
  bool all = list.type() == xv::TYPE_NIL;
  std::vector<std::string> names;
  if (!all)
    names = string_list(list, "slice_name_list");
  bool want_users = flag_or_true(args, 1, "return_users");
  bool want_nodes = flag_or_true(args, 2, "return_nodes");
  bool want_attributes = extended && flag_or_true(args, 3, "return_attributes");
  {
    auto conn = ctx.svc.db->acquire();
    if (!any_live_slice(*conn, all, names, now_of(ctx)))
      throw fault(fault_code::invalid_argument, "No such slice");
  }
  // PL3's rule: members see their slices, PIs also their sites' slices;
  // GetSlices' tech rule (slices on the tech's nodes) is not part of it.
  caller viewer = ctx.who;
  viewer.roles.erase(std::remove(viewer.roles.begin(), viewer.roles.end(), role::tech),
                     viewer.roles.end());
  call_context view{ctx.svc, ctx.peer_address, viewer};
  auto rows = items_of(t.get_slices(view, {all ? xv{xmlrpc_c::value_nil()} : strings(names)}));

  std::vector<int> person_ids, node_ids;
  for (const auto& row : rows) {
    for (int id : ints_of(member_of(row, "person_ids")))
      person_ids.push_back(id);
    for (int id : ints_of(member_of(row, "node_ids")))
      node_ids.push_back(id);
  }
  std::map<int, std::string> emails, hostnames;
  std::map<int, std::vector<std::pair<std::string, std::string>>> attributes;
  {
    auto conn = ctx.svc.db->acquire();
    if (want_users)
      emails = names_by_id(*conn, "persons", "person_id", "email", person_ids);
    if (want_nodes)
      hostnames = names_by_id(*conn, "nodes", "node_id", "hostname", node_ids);
    if (want_attributes && !rows.empty()) {
      std::vector<int> slice_ids;
      for (const auto& row : rows)
        slice_ids.push_back(xmlrpc_c::value_int(member_of(row, "slice_id")).cvalue());
      auto res = conn->exec("SELECT st.slice_id, tt.tagname, st.value FROM slice_tag st"
                            " JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id"
                            " WHERE st.slice_id = ANY($1::integer[]) ORDER BY st.slice_tag_id",
                            {int_array_literal(slice_ids)});
      for (int r = 0; r < res.rows(); ++r)
        attributes[static_cast<int>(res.integer(r, 0))].emplace_back(std::string{res.text(r, 1)},
                                                                     std::string{res.text(r, 2)});
    }
  }

  std::vector<xv> out;
  for (const auto& row : rows) {
    auto fields = xmlrpc_c::value_struct(row).cvalue();
    auto pids = ints_of(fields.at("person_ids"));
    auto nids = ints_of(fields.at("node_ids"));
    int slice_id = xmlrpc_c::value_int(fields.at("slice_id")).cvalue();
    fields.erase("person_ids");
    fields.erase("node_ids");
    if (extended)
      fields.erase("slice_tag_ids");
    if (want_users) {
      std::vector<xv> users;
      for (int id : pids) {
        auto it = emails.find(id);
        if (it == emails.end())
          continue;
        if (extended)
          users.push_back(xmlrpc_c::value_struct(
              {{"email", str(it->second)}, {"person_id", xmlrpc_c::value_int(id)}}));
        else
          users.push_back(str(it->second));
      }
      fields.emplace("users", xmlrpc_c::value_array(users));
    }
    if (want_nodes) {
      std::vector<xv> nodes;
      for (int id : nids) {
        auto it = hostnames.find(id);
        if (it == hostnames.end())
          continue;
        if (extended)
          nodes.push_back(xmlrpc_c::value_struct(
              {{"hostname", str(it->second)}, {"node_id", xmlrpc_c::value_int(id)}}));
        else
          nodes.push_back(str(it->second));
      }
      fields.emplace("nodes", xmlrpc_c::value_array(nodes));
    }
    if (want_attributes) {
      std::vector<xv> list;
      for (const auto& [name, value] : attributes[slice_id])
        list.push_back(xmlrpc_c::value_struct({{"name", str(name)}, {"value", str(value)}}));
      fields.emplace("attributes", xmlrpc_c::value_array(list));
    }
    out.push_back(xmlrpc_c::value_struct(fields));
  }
  return xmlrpc_c::value_array(out);
}

xv slice_list_names(call_context& ctx, const args_t& args, const targets& t) {
  const xv& prefix = arg_or_nil(args, 0);
  check_string_or_nil(prefix, "prefix");
  bool filtered =
      prefix.type() == xv::TYPE_STRING && !xmlrpc_c::value_string(prefix).cvalue().empty();
  // xmlrpc_c values cannot be reassigned: chosen once.
  const xv filter = filtered ? xv{xmlrpc_c::value_struct(
                                   {{"name", str(xmlrpc_c::value_string(prefix).cvalue() + "*")}})}
                             : xv{xmlrpc_c::value_nil()};
  auto rows = items_of(t.get_slices(ctx, {filter, strings({"name"})}));
  if (rows.empty())
    throw fault(fault_code::invalid_argument, "No such slice");
  std::vector<xv> out;
  for (const auto& row : rows)
    out.push_back(member_of(row, "name"));
  return xmlrpc_c::value_array(out);
}

/// Returns field `field` (a list of names) of the rows a Get* handler finds
/// for `ids` (nothing for none), keeping the handler's visibility rules.
xv column(call_context& ctx, const handler_fn& get, const std::vector<int>& ids,
          const std::string& field) {
  std::vector<xv> out;
  if (ids.empty())
    return xmlrpc_c::value_array(out);
  std::vector<xv> id_values;
  for (int id : ids)
    id_values.push_back(xmlrpc_c::value_int(id));
  for (const auto& row : items_of(get(ctx, {xmlrpc_c::value_array(id_values), strings({field})})))
    out.push_back(member_of(row, field));
  return xmlrpc_c::value_array(out);
}

/// Returns int-list field `field` of the slice named `name` that the caller
/// can see, or nothing when it sees none.
std::optional<std::vector<int>> visible_slice_ids_field(call_context& ctx, const targets& t,
                                                        const xv& name, const std::string& field) {
  auto rows =
      items_of(t.get_slices(ctx, {xmlrpc_c::value_array(std::vector<xv>{name}), strings({field})}));
  if (rows.empty())
    return std::nullopt;
  return ints_of(member_of(rows[0], field));
}

xv slice_nodes_list(call_context& ctx, const args_t& args, const targets& t) {
  auto node_ids = visible_slice_ids_field(ctx, t, args[0], "node_ids");
  if (!node_ids)
    return xmlrpc_c::value_array(std::vector<xv>{});
  return column(ctx, t.get_nodes, *node_ids, "hostname");
}

xv slice_users_list(call_context& ctx, const args_t& args, const targets& t) {
  auto person_ids = visible_slice_ids_field(ctx, t, args[0], "person_ids");
  if (!person_ids)
    return xmlrpc_c::value_array(std::vector<xv>{});
  return column(ctx, t.get_persons, *person_ids, "email");
}

xv slice_list_user_slices(call_context& ctx, const args_t& args, const targets& t) {
  auto persons = items_of(t.get_persons(
      ctx, {xmlrpc_c::value_array(std::vector<xv>{args[0]}), strings({"slice_ids"})}));
  if (persons.empty())
    return xmlrpc_c::value_array(std::vector<xv>{});
  return column(ctx, t.get_slices, ints_of(member_of(persons[0], "slice_ids")), "name");
}

// --- writes ---

xv slice_create(call_context& ctx, const args_t& args, const targets& t) {
  std::map<std::string, xv> fields;
  if (args.size() > 1)
    fields = xmlrpc_c::value_struct(args[1]).cvalue();
  fields.erase("name");
  fields.emplace("name", args[0]);
  return t.add_slice(ctx, {xmlrpc_c::value_struct(fields)});
}

xv slice_nodes_change(call_context& ctx, const args_t& args, const handler_fn& change) {
  string_list(args[1], "nodes_list");
  return change(ctx, {args[0], args[1]});
}

xv slice_renew(call_context& ctx, const args_t& args, const targets& t) {
  return t.update_slice(ctx, {args[0], xmlrpc_c::value_struct({{"expires", args[1]}})});
}

xv slice_update(call_context& ctx, const args_t& args, const targets& t) {
  check_string_or_nil(args[1], "url");
  check_string_or_nil(args[2], "description");
  return t.update_slice(
      ctx, {args[0], xmlrpc_c::value_struct({{"url", args[1]}, {"description", args[2]}})});
}

/// SliceUserAdd and SliceUserDel: AddPersonToSlice or DeletePersonFromSlice
/// for each address. The original stopped at the first bad address after
/// changing the slice for the ones before it; here every address, the slice
/// and the caller's right are checked first (in the original's order), so a
/// refused call changes nothing. An empty list still needs a slice the
/// caller may change.
xv slice_users_change(call_context& ctx, const args_t& args, const handler_fn& change, bool add) {
  auto users = string_list(args[1], "user_list");
  {
    auto conn = ctx.svc.db->acquire();
    if (!users.empty())
      resolve_id(*conn, person_class(), str(users[0]));
    auto slice = load_slice(*conn, args[0], now_of(ctx));
    if (!is_admin(ctx.who) && !can_manage_site(*conn, ctx.who, slice.site_id))
      throw fault(fault_code::permission_denied, std::string{"Not allowed to "} +
                                                     (add ? "add users to" : "delete users from") +
                                                     " slice " + slice.name);
    for (std::size_t k = 1; k < users.size(); ++k)
      resolve_id(*conn, person_class(), str(users[k]));
  }
  for (const auto& user : users)
    change(ctx, {str(user), args[0]});
  return xmlrpc_c::value_int(1);
}

// --- tickets ---

xv slice_get_ticket(call_context& ctx, const args_t& args,
                    const std::shared_ptr<const pl3_ticket_signer>& key) {
  pl3_ticket ticket;
  {
    auto conn = ctx.svc.db->acquire();
    auto slice = load_slice(*conn, args[0], now_of(ctx));
    // The original's docstring gives GetSliceTicket's rule (its code checked
    // nothing): members, PIs of the slice's site and admins.
    check_slice_rights(*conn, ctx.who, slice);
    if (slice.instantiation != "delegated")
      throw fault(fault_code::invalid_argument, "Not in delegated state");
    if (!key)
      throw fault(fault_code::internal_error, "Slice ticket signing key not found");
    ticket.slice_id = slice.slice_id;
    ticket.name = slice.name;
    ticket.expires = slice.expires;
    const std::string id = std::to_string(slice.slice_id);
    auto nodes = conn->exec("SELECT n.node_id, n.hostname FROM slice_node sn"
                            " JOIN nodes n ON n.node_id = sn.node_id"
                            " WHERE sn.slice_id = $1 AND NOT n.deleted ORDER BY 1",
                            {id});
    for (int r = 0; r < nodes.rows(); ++r)
      ticket.nodes.push_back(
          {static_cast<int>(nodes.integer(r, 0)), std::string{nodes.text(r, 1)}});
    auto users = conn->exec("SELECT p.person_id, p.email FROM slice_person sp"
                            " JOIN persons p ON p.person_id = sp.person_id"
                            " WHERE sp.slice_id = $1 AND NOT p.deleted ORDER BY 1",
                            {id});
    for (int r = 0; r < users.rows(); ++r)
      ticket.users.push_back(
          {static_cast<int>(users.integer(r, 0)), std::string{users.text(r, 1)}});
    // Slice-wide tags only: a PL3 ticket holds one rspec for every node, so
    // sliver and node group values have no place in it (the original put
    // every tag in, one node's value next to the slice's).
    auto tags = conn->exec("SELECT tt.tagname, st.value, i.initscript_id"
                           " FROM slice_tag_global st"
                           " JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id"
                           " LEFT JOIN initscripts i ON tt.tagname = 'initscript'"
                           "  AND i.name = st.value"
                           " WHERE st.slice_id = $1 ORDER BY st.slice_tag_id",
                           {id});
    for (int r = 0; r < tags.rows(); ++r) {
      std::string name{tags.text(r, 0)}, value{tags.text(r, 1)};
      if (name == "initscript") {
        // PL3 named initscripts by id (the original sent the tag's own id).
        if (!tags.is_null(r, 2))
          ticket.rspec.push_back(
              {"initscript", "initscript_id", "integer", std::to_string(tags.integer(r, 2))});
        continue;
      }
      ticket.rspec.push_back(pl3_resource_of(name, value));
    }
  }
  try {
    return xmlrpc_c::value_string(key->sign(pl3_ticket_template(ticket)));
  } catch (const std::runtime_error& e) {
    throw fault(fault_code::internal_error, e.what());
  }
}

} // namespace

void add_pl3_slice_methods(dispatcher& d, std::shared_ptr<const pl3_ticket_signer> ticket_key) {
  targets t{
      registered(d, "AddSlice").handler,         registered(d, "DeleteSlice").handler,
      registered(d, "GetSlices").handler,        registered(d, "UpdateSlice").handler,
      registered(d, "AddPersonToSlice").handler, registered(d, "DeletePersonFromSlice").handler,
      registered(d, "AddSliceToNodes").handler,  registered(d, "DeleteSliceFromNodes").handler,
      registered(d, "GetPersons").handler,       registered(d, "GetNodes").handler,
  };
  const role_set admin_pi = {role::admin, role::pi};
  const role_set admin_pi_user = {role::admin, role::pi, role::user};
  const param_spec slice_name{"slice_name", xml_type::string};
  const std::string deprecated = "Deprecated (PlanetLab 3). ";
  auto with = [t](xv (*fn)(call_context&, const args_t&, const targets&)) {
    return [t, fn](call_context& ctx, const args_t& args) { return fn(ctx, args, t); };
  };

  d.add({"SliceCreate",
         registered(d, "AddSlice").roles,
         {{"name", xml_type::string}, {"slice_fields", xml_type::structure, true}},
         xml_type::integer,
         deprecated + "See AddSlice: adds slice `name` with the other slice_fields. Returns the "
                      "new slice_id.",
         with(slice_create)});
  d.add({"SliceDelete",
         admin_pi,
         {slice_name},
         xml_type::integer,
         deprecated + "See DeleteSlice. Returns 1.",
         [t](call_context& ctx, const args_t& args) { return t.delete_slice(ctx, args); }});
  d.add({"SliceInfo",
         admin_pi_user,
         {{"slice_name_list", xml_type::any, true},
          {"return_users", xml_type::any, true},
          {"return_nodes", xml_type::any, true}},
         xml_type::array,
         deprecated + "Returns the named slices (every one for nil) that the caller may see "
                      "(members their slices, PIs their sites' slices), each without node_ids "
                      "and person_ids but with `users` (e-mail addresses) and `nodes` "
                      "(hostnames) unless return_users or return_nodes is false. Fault 102 "
                      "\"No such slice\" if none of the names is a slice.",
         [t](call_context& ctx, const args_t& args) { return slice_info(ctx, args, t, false); },
         event_mode::never});
  d.add({"SliceExtendedInfo",
         admin_pi_user,
         {{"slice_name_list", xml_type::any, true},
          {"return_users", xml_type::any, true},
          {"return_nodes", xml_type::any, true},
          {"return_attributes", xml_type::any, true}},
         xml_type::array,
         deprecated + "As SliceInfo, with `users` as {email, person_id}, `nodes` as "
                      "{hostname, node_id} and `attributes` as {name, value} (every tag of the "
                      "slice) in place of slice_tag_ids.",
         [t](call_context& ctx, const args_t& args) { return slice_info(ctx, args, t, true); },
         event_mode::never});
  d.add({"SliceListNames",
         admin_pi_user,
         {{"prefix", xml_type::any, true}},
         xml_type::array,
         deprecated + "Returns the names of the slices the caller sees in GetSlices, only "
                      "those starting with `prefix` if given. Fault 102 \"No such slice\" if "
                      "there are none.",
         with(slice_list_names),
         event_mode::never});
  d.add({"SliceListUserSlices",
         admin_pi_user,
         {{"email", xml_type::string}},
         xml_type::array,
         deprecated + "Returns the names of the slices of the account `email`, as far as "
                      "GetPersons and GetSlices show them to the caller.",
         with(slice_list_user_slices),
         event_mode::never});
  d.add({"SliceNodesAdd",
         admin_pi_user,
         {slice_name, {"nodes_list", xml_type::array}},
         xml_type::integer,
         deprecated + "See AddSliceToNodes (nodes by hostname). Returns 1.",
         [t](call_context& ctx, const args_t& args) {
           return slice_nodes_change(ctx, args, t.add_nodes);
         }});
  d.add({"SliceNodesDel",
         admin_pi_user,
         {slice_name, {"nodes_list", xml_type::array}},
         xml_type::integer,
         deprecated + "See DeleteSliceFromNodes (nodes by hostname). Returns 1.",
         [t](call_context& ctx, const args_t& args) {
           return slice_nodes_change(ctx, args, t.delete_nodes);
         }});
  d.add({"SliceNodesList",
         admin_pi_user,
         {slice_name},
         xml_type::array,
         deprecated + "Returns the hostnames of the slice's nodes; an empty list if the caller "
                      "sees no such slice.",
         with(slice_nodes_list),
         event_mode::never});
  d.add({"SliceRenew",
         admin_pi_user,
         {slice_name, {"slice_expires", xml_type::integer}},
         xml_type::integer,
         deprecated + "See UpdateSlice: sets expires, under the renewal rules. Returns 1.",
         with(slice_renew)});
  d.add({"SliceUpdate",
         admin_pi_user,
         {slice_name, {"url", xml_type::any}, {"description", xml_type::any}},
         xml_type::integer,
         deprecated + "See UpdateSlice: sets url and description. Returns 1.",
         with(slice_update)});
  d.add({"SliceUserAdd",
         admin_pi,
         {slice_name, {"user_list", xml_type::array}},
         xml_type::integer,
         deprecated + "See AddPersonToSlice: adds the accounts (by e-mail address) to the "
                      "slice; all or none. Returns 1.",
         [t](call_context& ctx, const args_t& args) {
           return slice_users_change(ctx, args, t.add_person, true);
         }});
  d.add({"SliceUserDel",
         admin_pi,
         {slice_name, {"user_list", xml_type::array}},
         xml_type::integer,
         deprecated + "See DeletePersonFromSlice: removes the accounts (by e-mail address) "
                      "from the slice (no error for a non-member); all or none. Returns 1.",
         [t](call_context& ctx, const args_t& args) {
           return slice_users_change(ctx, args, t.delete_person, false);
         }});
  d.add({"SliceUsersList",
         admin_pi_user,
         {slice_name},
         xml_type::array,
         deprecated + "Returns the e-mail addresses of the slice's members the caller may "
                      "see; an empty list if the caller sees no such slice.",
         with(slice_users_list),
         event_mode::never});
  for (const char* name : {"SliceGetTicket", "SliceTicketGet"})
    d.add({name,
           {role::admin, role::pi, role::user, role::peer},
           {{"slice_id_or_name", xml_type::any}},
           xml_type::string,
           deprecated + "Returns the PlanetLab 3.0 ticket of a delegated slice: <ticket> with "
                        "the slice's id, name, expiry, nodes, users and rspec (its slice-wide "
                        "tags under their PL3 names), as an enveloped XML-DSig (RSA-SHA1) made "
                        "with PLC's ticket key. Members, PIs of its site and admins may get "
                        "it; fault 102 \"Not in delegated state\" for other slices.",
           [ticket_key](call_context& ctx, const args_t& args) {
             return slice_get_ticket(ctx, args, ticket_key);
           },
           event_mode::never});
}

} // namespace pl::plc::api
