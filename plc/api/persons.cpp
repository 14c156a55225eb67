#include "plc/api/persons.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/hrn.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/password.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/related.hpp"
#include "plc/api/sites.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

const char* no_peer = "NULL::integer";

store::class_desc make_person_class() {
  return {
      "Person",
      "persons",
      "person_id",
      "email",
      {
          {"person_id", field_type::integer, {}, 0, false, false, "User identifier"},
          {"first_name", field_type::text, {}, 128, true, false, "Given name"},
          {"last_name", field_type::text, {}, 128, true, false, "Surname"},
          {"title", field_type::text, {}, 128, true, true, "Title"},
          {"email", field_type::text, {}, 254, true, false, "Primary e-mail address"},
          {"phone", field_type::text, {}, 64, true, true, "Telephone number"},
          {"url", field_type::text, {}, 254, true, true, "Home page"},
          {"bio", field_type::text, {}, 254, true, true, "Biography"},
          {"enabled", field_type::boolean, {}, 0, true, false, "Has been enabled"},
          {"last_updated", field_type::timestamp, {}, 0, false, false, "When last updated"},
          {"date_created", field_type::timestamp, {}, 0, false, false, "When created"},
          {"role_ids", field_type::int_list,
           "ARRAY(SELECT pr.role_id FROM person_role pr WHERE pr.person_id = t.person_id"
           " ORDER BY 1)",
           0, false, false, "Role identifiers"},
          {"roles", field_type::text_list,
           "ARRAY(SELECT r.name FROM person_role pr JOIN roles r ON r.role_id = pr.role_id"
           " WHERE pr.person_id = t.person_id ORDER BY pr.role_id)",
           0, false, false, "Role names"},
          {"site_ids", field_type::int_list,
           "ARRAY(SELECT ps.site_id FROM person_site ps WHERE ps.person_id = t.person_id"
           " ORDER BY ps.is_primary DESC, ps.site_id)",
           0, false, false, "Site identifiers, the primary site first"},
          {"key_ids", field_type::int_list,
           "ARRAY(SELECT pk.key_id FROM person_key pk WHERE pk.person_id = t.person_id"
           " ORDER BY 1)",
           0, false, false, "Key identifiers"},
          {"slice_ids", field_type::int_list,
           "ARRAY(SELECT sp.slice_id FROM slice_person sp JOIN slices s ON s.slice_id ="
           " sp.slice_id WHERE sp.person_id = t.person_id AND NOT s.deleted ORDER BY 1)",
           0, false, false, "Slice identifiers"},
          {"peer_id", field_type::integer, no_peer, 0, false, true, "Peer of a foreign user"},
          {"peer_person_id", field_type::integer, no_peer, 0, false, true, "Id at the peer"},
          {"person_tag_ids", field_type::int_list, tag_ids_sql("person_tag", "person_id"), 0, false,
           false, "Tags of this person"},
          {"organization_ids", field_type::int_list,
           "ARRAY(SELECT op.organization_id FROM organization_person op"
           " WHERE op.person_id = t.person_id ORDER BY 1)",
           0, false, false, "Organizations the person belongs to"},
      },
      "NOT t.deleted",
      "person_tag",
  };
}

store::class_desc make_role_class() {
  return {
      "Role",
      "roles",
      "role_id",
      "name",
      {
          {"role_id", field_type::integer, {}, 0, false, false, "Role identifier"},
          {"name", field_type::text, {}, 100, true, false, "Role"},
      },
  };
}

const store::class_desc& person_with_deleted() {
  static const store::class_desc cls = with_deletion_fields(person_class());
  return cls;
}

const std::set<std::string> add_fields = {"first_name", "last_name", "title", "email",
                                          "phone",      "url",       "bio"};
const std::set<std::string> update_fields = {"first_name", "last_name", "title", "email",
                                             "phone",      "url",       "bio",   "enabled"};
const std::vector<std::string> hidden_fields = {"password", "verification_key",
                                                "verification_expires"};

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Resolves a person_id or e-mail (case-insensitively, as e-mails are stored lowercased).
int resolve_person(store::connection& conn, const xv& id_or_email) {
  if (id_or_email.type() == xv::TYPE_STRING)
    return resolve_id(conn, person_class(),
                      xmlrpc_c::value_string(lowercase(xmlrpc_c::value_string(id_or_email))));
  return resolve_id(conn, person_class(), id_or_email);
}

/// Returns the caller's password argument, checked, if the fields carry one.
std::optional<std::string> password_field(const xv& fields) {
  auto members = xmlrpc_c::value_struct(fields).cvalue();
  auto i = members.find("password");
  if (i == members.end())
    return std::nullopt;
  if (i->second.type() != xv::TYPE_STRING)
    throw fault::invalid_value("password", "expected string");
  std::string pw = xmlrpc_c::value_string(i->second).cvalue();
  check_length("password", pw, 254);
  return pw;
}

/// Lowercases and checks the e-mail in `values`, and that no other live account uses it.
void validate_email(store::connection& conn, row_values& values, int person_id) {
  const store::param* p = value_of(values, "email");
  if (!p)
    return;
  std::string email = lowercase(p->value());
  static const std::regex email_re{R"(^[a-z0-9._%+\-]+@[a-z0-9._\-]+\.[a-z]+$)"};
  if (!std::regex_match(email, email_re))
    throw fault(fault_code::invalid_argument, "Invalid e-mail address");
  auto clash = conn.exec("SELECT 1 FROM persons WHERE lower(email) = $1 AND NOT deleted"
                         " AND person_id <> $2",
                         {email, std::to_string(person_id)});
  if (clash.rows() > 0)
    throw fault(fault_code::invalid_argument, "E-mail address already in use");
  values.set("email", email);
}

void require_names(const row_values& values, bool all) {
  for (const char* n : {"email", "first_name", "last_name"}) {
    const store::param* p = value_of(values, n);
    if (!p && all)
      throw fault(fault_code::invalid_argument, std::string{"Missing mandatory field "} + n);
    if (p && p->value().empty())
      throw fault::invalid_value(n, "must be specified");
  }
}

template <class F>
auto email_unique(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "E-mail address already in use");
    throw;
  }
}

int lowest_role_id(const caller& who) {
  int lowest = 1000000;
  for (role r : who.roles)
    if (int id = role_id(r); id > 0)
      lowest = std::min(lowest, id);
  return lowest;
}

// --- Keys of person_fields, as PLCAPI's Row.split_fields sorts them ---

/// Returns the names of the person tag types (PLCAPI's Person.tags: the
/// accessors of tag types for persons, e.g. hrn and sfa_created): those
/// whose category has a `person` part.
std::set<std::string> person_tag_names(store::connection& conn) {
  auto res = conn.exec("SELECT tagname FROM tag_types"
                       " WHERE '/' || category || '/' LIKE '%/person/%'",
                       {});
  std::set<std::string> out;
  for (int r = 0; r < res.rows(); ++r)
    out.emplace(res.text(r, 0));
  return out;
}

/// Checks the keys of a person_fields struct as PLCAPI does: a Person field
/// outside `accepted` is "Trying to set/change unaccepted key", a key that is
/// neither a Person field, a related field nor a person tag is rejected
/// ("Cannot <verb> Person column(s)"); both fault 102. Returns the person tags
/// to set, by tag name.
std::map<std::string, std::string> check_person_keys(store::connection& conn, const xv& fields,
                                                     const std::set<std::string>& accepted,
                                                     const relations* related,
                                                     const std::string& verb) {
  auto tags = person_tag_names(conn);
  std::map<std::string, std::string> tag_values;
  std::string rejected;
  for (const auto& [key, value] : xmlrpc_c::value_struct(fields).cvalue()) {
    bool person_field =
        person_class().find(key) ||
        std::find(hidden_fields.begin(), hidden_fields.end(), key) != hidden_fields.end();
    if (person_field) {
      if (!accepted.count(key))
        throw fault(fault_code::invalid_argument, "Trying to set/change unaccepted key " + key);
    } else if (related && related->has(key)) {
      continue;
    } else if (tags.count(key)) {
      if (value.type() != xv::TYPE_STRING)
        throw fault::invalid_value(key, "expected string");
      tag_values[key] = xmlrpc_c::value_string(value).cvalue();
    } else {
      rejected += (rejected.empty() ? "'" : ", '") + key + "'";
    }
  }
  if (!rejected.empty())
    throw fault(fault_code::invalid_argument,
                "Cannot " + verb + " Person column(s) [" + rejected + "]");
  return tag_values;
}

/// Sets person tags by name (PLCAPI's Add/UpdatePerson do so without the
/// tag types' role checks: whoever may change the person may).
void set_person_tags(store::connection& conn, int person_id,
                     const std::map<std::string, std::string>& tags) {
  for (const auto& [name, value] : tags)
    conn.exec("INSERT INTO person_tag (person_id, tag_type_id, value)"
              " SELECT $1, tag_type_id, $3 FROM tag_types WHERE tagname = $2"
              " ON CONFLICT (person_id, tag_type_id) DO UPDATE SET value = EXCLUDED.value",
              {std::to_string(person_id), name, value});
}

/// UpdatePerson's related fields (PLCAPI's Person.related_fields). Its
/// `roles` is one too, but PLCAPI sorts that key as the Person field `roles`
/// first, accepts it and writes nothing: roles change only through
/// AddRoleToPerson and DeleteRoleFromPerson, and so here.
const relations& person_relations() {
  static const relations rel{
      {{"sites", "site_ids",
        [](store::connection& conn, const xv& item) {
          return resolve_id(conn, site_class(), item);
        },
        "AddPersonToSite", "DeletePersonFromSite", true},
       {"slices", "slice_ids",
        [](store::connection& conn, const xv& item) {
          return resolve_id(conn, slice_class(), item);
        },
        "AddPersonToSlice", "DeletePersonFromSlice", true}},
      {{"keys", "key_ids", "key_id", "AddPersonKey", "UpdateKey", "DeleteKey"}},
  };
  return rel;
}

// --- Persons ---

xv add_person(call_context& ctx, const args_t& args) {
  std::set<std::string> accepted = add_fields;
  accepted.insert({"password", "enabled"}); // enabled: dropped silently, as PLCAPI does
  std::map<std::string, std::string> tags;
  {
    auto conn = ctx.svc.db->acquire();
    tags = check_person_keys(*conn, args[0], accepted, nullptr, "add");
  }
  auto values = writable_values(person_class(), args[0], add_fields);
  require_names(values, true);
  auto password = password_field(args[0]);
  std::optional<std::string> hash;
  if (password) // the slow derivation runs before a connection is borrowed
    hash = hash_password(*password);
  auto conn = ctx.svc.db->acquire();
  validate_email(*conn, values, 0);
  std::string now = now_text(ctx);
  values.set("enabled", std::string{"false"}); // accounts start disabled (PLCAPI)
  if (hash)
    values.set("password", *hash);
  values.set("date_created", now, "to_timestamp");
  values.set("last_updated", now, "to_timestamp");
  int id = email_unique([&] { return insert_row(*conn, person_class(), values); });
  set_person_tags(*conn, id, tags);
  ctx.touched("Person", id);
  return xmlrpc_c::value_int(id);
}

xv get_persons(call_context& ctx, const args_t& args) {
  const xv& asked = arg_or_nil(args, 1);
  std::vector<xv> kept; // PLCAPI drops the hidden fields silently
  if (asked.type() == xv::TYPE_ARRAY)
    for (const auto& item : xmlrpc_c::value_array(asked).vectorValueValue())
      if (item.type() != xv::TYPE_STRING ||
          std::find(hidden_fields.begin(), hidden_fields.end(),
                    xmlrpc_c::value_string(item).cvalue()) == hidden_fields.end())
        kept.push_back(item);
  const xv return_fields = asked.type() == xv::TYPE_ARRAY ? xv{xmlrpc_c::value_array(kept)} : asked;
  select_options opts;
  opts.condition = person_view_condition(ctx.who);
  auto conn = ctx.svc.db->acquire();
  opts.tag_names = tag_type_names(*conn);
  return get_soft_deleted(*conn, person_class(), person_with_deleted(), arg_or_nil(args, 0),
                          return_fields, is_admin(ctx.who), opts);
}

xv update_person(const dispatcher& d, call_context& ctx, const args_t& args) {
  std::set<std::string> accepted = update_fields;
  accepted.insert({"password", "roles"}); // roles: accepted and ignored, as PLCAPI does
  std::map<std::string, std::string> tags;
  {
    auto conn = ctx.svc.db->acquire();
    tags = check_person_keys(*conn, args[1], accepted, &person_relations(), "update");
  }
  auto values = writable_values(person_class(), args[1], update_fields);
  require_names(values, false);
  auto password = password_field(args[1]);
  int id = 0;
  {
    auto conn = ctx.svc.db->acquire();
    id = resolve_person(*conn, args[0]);
    if (!can_update_person(*conn, ctx.who, id))
      throw fault(fault_code::permission_denied, "Not allowed to update specified account");
    validate_email(*conn, values, id);
  }
  // Roles, sites, keys and slices through their methods, as the caller.
  apply_relations(d, ctx, person_class(), id, args[1], person_relations());
  if (password)
    values.set("password", hash_password(*password));
  mail_address to;
  {
    auto conn = ctx.svc.db->acquire();
    validate_email(*conn, values, id);
    values.set("last_updated", now_text(ctx), "to_timestamp");
    if (!email_unique([&] { return update_row(*conn, person_class(), id, values); }))
      throw fault(fault_code::invalid_argument, "No such account");
    set_person_tags(*conn, id, tags);
    if (value_of(values, "email"))
      refresh_person_hrn(*conn, ctx.svc.hrn_root, id);
    auto res = conn->exec("SELECT first_name || ' ' || last_name, email FROM persons"
                          " WHERE person_id = $1",
                          {std::to_string(id)});
    to = {std::string{res.text(0, 0)}, std::string{res.text(0, 1)}};
  }
  ctx.touched("Person", id);
  // PLCAPI tells the person whenever a call sets `enabled`.
  if (const store::param* enabled = value_of(values, "enabled"))
    send_template(ctx, enabled->value() == "true" ? "Account enabled" : "Account disabled", {to},
                  {}, {});
  return xmlrpc_c::value_int(1);
}

xv delete_person_method(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_person(*conn, args[0]);
  if (!can_update_person(*conn, ctx.who, id))
    throw fault(fault_code::permission_denied, "Not allowed to delete specified account");
  std::string now = now_text(ctx);
  store::in_transaction(*conn, [&](store::connection& c) { delete_person(c, id, now); });
  ctx.touched("Person", id);
  return xmlrpc_c::value_int(1);
}

// --- Sites of persons ---

xv add_person_to_site(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int person = resolve_person(*conn, args[0]);
  int site = resolve_id(*conn, site_class(), args[1]);
  bool first =
      conn->exec("SELECT 1 FROM person_site WHERE person_id = $1 LIMIT 1", {std::to_string(person)})
          .rows() == 0;
  // The first site becomes the primary one; later ones leave it alone.
  conn->exec("INSERT INTO person_site (person_id, site_id, is_primary) VALUES ($1, $2,"
             " NOT EXISTS (SELECT 1 FROM person_site WHERE person_id = $1))"
             " ON CONFLICT DO NOTHING",
             {std::to_string(person), std::to_string(site)});
  if (first) // PLCAPI names a person after its first site
    set_person_hrn(*conn, ctx.svc.hrn_root, person, site);
  ctx.touched("Site", site);
  ctx.touched("Person", person);
  return xmlrpc_c::value_int(1);
}

xv delete_person_from_site(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int person = resolve_person(*conn, args[0]);
  int site = resolve_id(*conn, site_class(), args[1]);
  store::in_transaction(*conn, [&](store::connection& c) {
    auto gone = c.exec("DELETE FROM person_site WHERE person_id = $1 AND site_id = $2"
                       " RETURNING is_primary",
                       {std::to_string(person), std::to_string(site)});
    if (gone.rows() == 1 && gone.boolean(0, 0))
      c.exec("UPDATE person_site SET is_primary = true WHERE person_id = $1 AND site_id ="
             " (SELECT min(site_id) FROM person_site WHERE person_id = $1)",
             {std::to_string(person)});
  });
  ctx.touched("Site", site);
  ctx.touched("Person", person);
  return xmlrpc_c::value_int(1);
}

xv set_person_primary_site(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int person = resolve_person(*conn, args[0]);
  if (!is_admin(ctx.who) && ctx.who.person_id != person)
    throw fault(fault_code::permission_denied, "Not allowed to update specified account");
  int site = resolve_id(*conn, site_class(), args[1]);
  store::in_transaction(*conn, [&](store::connection& c) {
    auto member = c.exec("SELECT 1 FROM person_site WHERE person_id = $1 AND site_id = $2",
                         {std::to_string(person), std::to_string(site)});
    if (member.rows() == 0)
      throw fault(fault_code::invalid_argument, "Not a member of the specified site");
    c.exec("UPDATE person_site SET is_primary = (site_id = $2) WHERE person_id = $1",
           {std::to_string(person), std::to_string(site)});
  });
  ctx.touched("Person", person);
  return xmlrpc_c::value_int(1);
}

// --- Roles ---

xv get_roles(call_context& ctx, const args_t&) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, role_class(), xmlrpc_c::value_nil(), xmlrpc_c::value_nil());
}

xv add_role(call_context& ctx, const args_t& args) {
  int id = xmlrpc_c::value_int(args[0]).cvalue();
  std::string name = xmlrpc_c::value_string(args[1]).cvalue();
  if (id <= 0)
    throw fault::invalid_value("role_id", "must be positive");
  if (name.empty())
    throw fault::invalid_value("name", "must be specified");
  check_length("name", name, 100);
  auto conn = ctx.svc.db->acquire();
  try {
    conn->exec("INSERT INTO roles (role_id, name) VALUES ($1, $2)", {std::to_string(id), name});
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Role id or name already in use");
    throw;
  }
  ctx.touched("Role", id);
  return xmlrpc_c::value_int(1);
}

xv delete_role(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, role_class(), args[0]);
  store::in_transaction(*conn, [&](store::connection& c) {
    c.exec("DELETE FROM person_role WHERE role_id = $1", {std::to_string(id)});
    c.exec("DELETE FROM roles WHERE role_id = $1", {std::to_string(id)});
  });
  ctx.touched("Role", id);
  return xmlrpc_c::value_int(1);
}

xv change_role(call_context& ctx, const args_t& args, bool grant) {
  auto conn = ctx.svc.db->acquire();
  int role = resolve_id(*conn, role_class(), args[0]);
  int person = resolve_person(*conn, args[1]);
  if (!can_update_person(*conn, ctx.who, person))
    throw fault(fault_code::permission_denied, "Not allowed to update specified account");
  // The node role (50) is what node-authenticated callers hold; an account
  // holding it could pass for a node.
  if (grant && role_from_id(role) == api::role::node)
    throw fault(fault_code::invalid_argument, "The node role belongs to nodes, not to accounts");
  // Non-admins grant and revoke only roles below their own (higher ids), so
  // a PI manages user and tech at their sites. PLCAPI answers a refused
  // grant with 102 and a refused revocation with 108.
  if (!is_admin(ctx.who) && role <= lowest_role_id(ctx.who)) {
    if (grant)
      throw fault(fault_code::invalid_argument, "Not allowed to grant that role");
    throw fault(fault_code::permission_denied, "Not allowed to revoke that role");
  }
  set_link(*conn, {"person_role", "person_id", "role_id"}, person, role, grant);
  ctx.touched("Person", person);
  ctx.touched("Role", role);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& person_class() {
  static const store::class_desc cls = make_person_class();
  return cls;
}

const store::class_desc& role_class() {
  static const store::class_desc cls = make_role_class();
  return cls;
}

void delete_person(store::connection& conn, int person_id, const std::string& now) {
  std::string id = std::to_string(person_id);
  // Keys are deleted for good (PLCAPI's Person.delete).
  conn.exec("DELETE FROM keys WHERE key_id IN (SELECT key_id FROM person_key WHERE person_id = $1)",
            {id});
  conn.exec("DELETE FROM person_role WHERE person_id = $1", {id});
  conn.exec("DELETE FROM person_site WHERE person_id = $1", {id});
  conn.exec("DELETE FROM organization_person WHERE person_id = $1", {id});
  detach_person_from_slices(conn, person_id);
  conn.exec("UPDATE persons SET deleted = true, date_deleted = to_timestamp($2::bigint),"
            " last_updated = to_timestamp($2::bigint) WHERE person_id = $1",
            {id, now});
}

void add_person_methods(dispatcher& d) {
  const param_spec person{"person_id_or_email", xml_type::any};
  const param_spec site{"site_id_or_login_base", xml_type::any};
  const param_spec role_arg{"role_id_or_name", xml_type::any};
  d.add({"AddPerson",
         {role::admin, role::pi},
         {{"person_fields", xml_type::structure}},
         xml_type::integer,
         "Adds an account (first_name, last_name and email required). Accounts start "
         "disabled; UpdatePerson enables them. Returns the new person_id.",
         add_person});
  d.add({"GetPersons",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"person_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns the accounts matching the filter that the caller may see: users themselves, "
         "PIs and techs also the persons at their sites, admins and nodes everyone. Passwords "
         "are never returned. Admins may filter on deleted/date_deleted.",
         get_persons});
  d.add({"UpdatePerson",
         {role::admin, role::pi, role::user, role::tech},
         {person, {"person_fields", xml_type::structure}},
         xml_type::integer,
         "Updates an account. Users and techs update only themselves; PIs also non-PIs at "
         "their sites. `sites`, `slices` (ids or names) and `keys` (ids, or key structs: new "
         "without key_id, changed with it) make the account's exactly those, through "
         "AddPersonToSite, AddPersonToSlice, AddPersonKey, UpdateKey, DeleteKey and their "
         "Delete* counterparts with the caller's rights; `roles` is accepted and ignored, as "
         "in PLCAPI (see AddRoleToPerson); person tags (hrn, sfa_created) are set by name; "
         "other keys are fault 102. Returns 1.",
         [&d](call_context& ctx, const args_t& args) { return update_person(d, ctx, args); }});
  d.add({"DeletePerson",
         {role::admin, role::pi, role::user, role::tech},
         {person},
         xml_type::integer,
         "Marks an account deleted, under the same rules as UpdatePerson. Returns 1.",
         delete_person_method});
  d.add({"AddPersonToSite",
         {role::admin},
         {person, site},
         xml_type::integer,
         "Adds a person to a site; no error if already a member. The first site becomes the "
         "primary one. Returns 1.",
         add_person_to_site});
  d.add({"DeletePersonFromSite",
         {role::admin},
         {person, site},
         xml_type::integer,
         "Removes a person from a site; no error if not a member. Returns 1.",
         delete_person_from_site});
  d.add({"SetPersonPrimarySite",
         {role::admin, role::pi, role::user, role::tech},
         {person, site},
         xml_type::integer,
         "Makes a site the person's primary site; the person must be a member. Non-admins "
         "only for themselves. Returns 1.",
         set_person_primary_site});
  d.add({"GetRoles",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {},
         xml_type::array,
         "Returns all roles.",
         get_roles});
  d.add({"AddRole",
         {role::admin},
         {{"role_id", xml_type::integer}, {"name", xml_type::string}},
         xml_type::integer,
         "Adds a role. Returns 1.",
         add_role});
  d.add({"DeleteRole",
         {role::admin},
         {role_arg},
         xml_type::integer,
         "Deletes a role and takes it from every account. Returns 1.",
         delete_role});
  d.add({"AddRoleToPerson",
         {role::admin, role::pi},
         {role_arg, person},
         xml_type::integer,
         "Grants a role to a person. PIs grant only user and tech, to non-PIs at their sites. "
         "Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_role(ctx, args, true); }});
  d.add({"DeleteRoleFromPerson",
         {role::admin, role::pi},
         {role_arg, person},
         xml_type::integer,
         "Revokes a role from a person. PIs revoke only user and tech, from non-PIs at their "
         "sites. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_role(ctx, args, false); }});
}

} // namespace pl::plc::api
