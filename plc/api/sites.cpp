#include "plc/api/sites.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/hrn.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/related.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <cctype>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

// Peers (federation) are not built: their fields read as nil.
const char* no_peer = "NULL::integer";

store::class_desc make_site_class() {
  return {
      "Site",
      "sites",
      "site_id",
      "login_base",
      {
          {"site_id", field_type::integer, {}, 0, false, false, "Site identifier"},
          {"name", field_type::text, {}, 254, true, false, "Full site name"},
          {"abbreviated_name", field_type::text, {}, 50, true, false, "Abbreviated site name"},
          {"login_base", field_type::text, {}, 20, true, false, "Site slice prefix"},
          {"is_public", field_type::boolean, {}, 0, true, false, "Publicly viewable site"},
          {"enabled", field_type::boolean, {}, 0, true, false, "Has been enabled"},
          {"latitude", field_type::real, {}, 0, true, true, "Decimal latitude of the site"},
          {"longitude", field_type::real, {}, 0, true, true, "Decimal longitude of the site"},
          {"url", field_type::text, {}, 254, true, true, "URL of a page that describes the site"},
          {"date_created", field_type::timestamp, {}, 0, false, false, "When created"},
          {"last_updated", field_type::timestamp, {}, 0, false, false, "When last updated"},
          {"max_slices",
           field_type::integer,
           {},
           0,
           true,
           false,
           "Most slices the site may create"},
          {"max_slivers", field_type::integer, {}, 0, true, false, "Most slivers of the site"},
          {"person_ids", field_type::int_list,
           "ARRAY(SELECT ps.person_id FROM person_site ps WHERE ps.site_id = t.site_id ORDER BY 1)",
           0, false, false, "Account identifiers"},
          {"slice_ids", field_type::int_list,
           "ARRAY(SELECT s.slice_id FROM slices s WHERE s.site_id = t.site_id AND NOT s.deleted"
           " ORDER BY 1)",
           0, false, false, "Slice identifiers"},
          {"address_ids", field_type::int_list,
           "ARRAY(SELECT sa.address_id FROM site_address sa WHERE sa.site_id = t.site_id"
           " ORDER BY 1)",
           0, false, false, "Address identifiers"},
          {"pcu_ids", field_type::int_list,
           "ARRAY(SELECT p.pcu_id FROM pcus p WHERE p.site_id = t.site_id ORDER BY 1)", 0, false,
           false, "PCU identifiers"},
          {"node_ids", field_type::int_list,
           "ARRAY(SELECT n.node_id FROM nodes n WHERE n.site_id = t.site_id AND NOT n.deleted"
           " ORDER BY 1)",
           0, false, false, "Node identifiers"},
          {"peer_id", field_type::integer, no_peer, 0, false, true, "Peer of a foreign site"},
          {"peer_site_id", field_type::integer, no_peer, 0, false, true, "Site id at the peer"},
          {"site_tag_ids", field_type::int_list, tag_ids_sql("site_tag", "site_id"), 0, false,
           false, "Tags of this site"},
          {"ext_consortium_id", field_type::integer, {}, 0, true, true, "External consortium id"},
          {"organization_ids", field_type::int_list,
           "ARRAY(SELECT os.organization_id FROM organization_site os"
           " WHERE os.site_id = t.site_id ORDER BY 1)",
           0, false, false, "Organizations the site belongs to"},
      },
      "NOT t.deleted",
      "site_tag",
  };
}

store::class_desc make_address_class() {
  return {
      "Address",
      "addresses",
      "address_id",
      "",
      {
          {"address_id", field_type::integer, {}, 0, false, false, "Address identifier"},
          {"line1", field_type::text, {}, 254, true, false, "Address line 1"},
          {"line2", field_type::text, {}, 254, true, true, "Address line 2"},
          {"line3", field_type::text, {}, 254, true, true, "Address line 3"},
          {"city", field_type::text, {}, 254, true, false, "City"},
          {"state", field_type::text, {}, 254, true, false, "State or province"},
          {"postalcode", field_type::text, {}, 64, true, false, "Postal code"},
          {"country", field_type::text, {}, 128, true, false, "Country"},
          {"address_type_ids", field_type::int_list,
           "ARRAY(SELECT a.address_type_id FROM address_address_type a"
           " WHERE a.address_id = t.address_id ORDER BY 1)",
           0, false, false, "Address type identifiers"},
          {"address_types", field_type::text_list,
           "ARRAY(SELECT at.name FROM address_address_type a JOIN address_types at"
           " ON at.address_type_id = a.address_type_id WHERE a.address_id = t.address_id"
           " ORDER BY a.address_type_id)",
           0, false, false, "Address types"},
      },
  };
}

store::class_desc make_address_type_class() {
  return {
      "AddressType",
      "address_types",
      "address_type_id",
      "name",
      {
          {"address_type_id", field_type::integer, {}, 0, false, false, "Address type identifier"},
          {"name", field_type::text, {}, 20, true, false, "Address type"},
          {"description", field_type::text, {}, 254, true, false, "Address type description"},
      },
  };
}

const store::class_desc& site_with_deleted() {
  static const store::class_desc cls = with_deletion_fields(site_class());
  return cls;
}

/// Turns a lost race for a unique name into PLCAPI's 102.
template <class F>
auto unique_or_102(const std::string& what, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, what + " already in use");
    throw;
  }
}

void require(const row_values& v, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (!value_of(v, n))
      throw fault(fault_code::invalid_argument, std::string{"Missing mandatory field "} + n);
}

void require_not_empty(const row_values& v, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (auto p = value_of(v, n); p && p->has_value() && (*p)->empty())
      throw fault::invalid_value(n, "must be specified");
}

std::optional<double> number(const store::param* p) {
  if (!p || !p->has_value())
    return std::nullopt;
  return std::stod(**p);
}

/// Checks login_base, names and coordinates; `old_lat` and `old_lon` are the
/// stored coordinates when updating.
void validate_site(store::connection& conn, const row_values& v, int site_id,
                   std::optional<double> old_lat, std::optional<double> old_lon) {
  require_not_empty(v, {"name", "abbreviated_name"});
  if (auto lb = value_of(v, "login_base")) {
    const std::string& s = lb->value();
    if (s.empty())
      throw fault::invalid_value("login_base", "Login base must be specified");
    if (!std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }))
      throw fault::invalid_value("login_base",
                                 "Login base must consist only of lowercase ASCII letters or "
                                 "numbers");
    auto clash = conn.exec("SELECT 1 FROM sites WHERE login_base = $1 AND NOT deleted"
                           " AND site_id <> $2",
                           {s, std::to_string(site_id)});
    if (clash.rows() > 0)
      throw fault(fault_code::invalid_argument, "login_base already in use");
  }
  auto lat_p = value_of(v, "latitude");
  auto lon_p = value_of(v, "longitude");
  auto lat = lat_p ? number(lat_p) : old_lat;
  auto lon = lon_p ? number(lon_p) : old_lon;
  if (lat && (*lat < -90.0 || *lat > 90.0))
    throw fault::invalid_value("latitude", "must be between -90 and 90");
  if (lon && (*lon < -180.0 || *lon > 180.0))
    throw fault::invalid_value("longitude", "must be between -180 and 180");
  if (lat && !lon)
    throw fault(fault_code::invalid_argument, "Longitude must also be specified");
  if (lon && !lat)
    throw fault(fault_code::invalid_argument, "Latitude must also be specified");
}

int address_site(store::connection& conn, int address_id) {
  auto res = conn.exec("SELECT site_id FROM site_address WHERE address_id = $1 ORDER BY 1",
                       {std::to_string(address_id)});
  return res.rows() ? static_cast<int>(res.integer(0, 0)) : 0;
}

/// Resolves an address and checks that the caller manages its site.
int own_address(store::connection& conn, const caller& who, const xv& address_id) {
  int id = resolve_id(conn, address_class(), address_id);
  if (!is_admin(who) && !can_manage_site(conn, who, address_site(conn, id)))
    throw fault(fault_code::permission_denied, "Address must be associated with one of your sites");
  return id;
}

// --- Sites ---

xv add_site(call_context& ctx, const args_t& args) {
  auto values = writable_values(site_class(), args[0]);
  require(values, {"name", "abbreviated_name", "login_base"});
  auto conn = ctx.svc.db->acquire();
  validate_site(*conn, values, 0, std::nullopt, std::nullopt);
  std::string now = now_text(ctx);
  values.set("date_created", now, "to_timestamp");
  values.set("last_updated", now, "to_timestamp");
  int id = unique_or_102("login_base", [&] { return insert_row(*conn, site_class(), values); });
  refresh_site_hrn(*conn, ctx.svc.hrn_root, id); // PLCAPI tags every new site with its hrn
  ctx.touched("Site", id);
  return xmlrpc_c::value_int(id);
}

xv get_sites(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  select_options opts;
  opts.tag_names = tag_type_names(*conn);
  return get_soft_deleted(*conn, site_class(), site_with_deleted(), arg_or_nil(args, 0),
                          arg_or_nil(args, 1), is_admin(ctx.who), opts);
}

/// UpdateSite's related fields (PLCAPI's Site.related_fields): its members
/// by person_id or email, its addresses by id or as address structs.
const relations& site_relations() {
  static const relations rel{
      {{"persons", "person_ids",
        [](store::connection& conn, const xv& item) {
          if (item.type() != xv::TYPE_STRING)
            return resolve_id(conn, person_class(), item);
          std::string email = xmlrpc_c::value_string(item).cvalue();
          std::transform(email.begin(), email.end(), email.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          return resolve_id(conn, person_class(), xmlrpc_c::value_string(email));
        },
        "AddPersonToSite", "DeletePersonFromSite", false}},
      {{"addresses", "address_ids", "address_id", "AddSiteAddress", "UpdateAddress",
        "DeleteAddress"}},
  };
  return rel;
}

xv update_site(const dispatcher& d, call_context& ctx, const args_t& args) {
  int id = 0;
  row_values values;
  {
    auto conn = ctx.svc.db->acquire();
    id = resolve_id(*conn, site_class(), args[0]);
    bool admin = is_admin(ctx.who);
    if (!admin && !can_manage_site(*conn, ctx.who, id))
      throw fault(fault_code::permission_denied, "Not allowed to modify specified site");
    std::set<std::string> allowed;
    if (!admin) // only admins set the quotas and the login base; PLCAPI drops them silently
      for (const auto& f : site_class().fields)
        if (f.writable && f.name != "max_slices" && f.name != "max_slivers" &&
            f.name != "login_base")
          allowed.insert(f.name);
    values = writable_values(site_class(), args[1], allowed);
    auto old = conn->exec("SELECT latitude, longitude FROM sites WHERE site_id = $1",
                          {std::to_string(id)});
    auto coordinate = [&](int col) -> std::optional<double> {
      if (old.is_null(0, col))
        return std::nullopt;
      return std::stod(std::string{old.text(0, col)});
    };
    validate_site(*conn, values, id, coordinate(0), coordinate(1));
  }
  // Members and addresses through their methods, as the caller (no connection held).
  apply_relations(d, ctx, site_class(), id, args[1], site_relations());
  auto conn = ctx.svc.db->acquire();
  values.set("last_updated", now_text(ctx), "to_timestamp");
  unique_or_102("login_base", [&] { return update_row(*conn, site_class(), id, values); });
  if (value_of(values, "login_base"))
    refresh_site_hrn(*conn, ctx.svc.hrn_root, id);
  ctx.touched("Site", id);
  return xmlrpc_c::value_int(1);
}

xv delete_site_method(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  std::string now = now_text(ctx);
  store::in_transaction(*conn, [&](store::connection& c) {
    int id = resolve_id(c, site_class(), args[0]);
    auto persons = delete_site(c, id, now);
    ctx.touched("Site", id);
    for (int p : persons)
      ctx.touched("Person", p);
  });
  return xmlrpc_c::value_int(1);
}

// --- Addresses ---

xv add_site_address(call_context& ctx, const args_t& args) {
  auto values = writable_values(address_class(), args[1]);
  require(values, {"line1", "city", "state", "postalcode", "country"});
  auto conn = ctx.svc.db->acquire();
  int site_id = resolve_id(*conn, site_class(), args[0]);
  if (!can_manage_site(*conn, ctx.who, site_id))
    throw fault(fault_code::permission_denied, "Address must be associated with one of your sites");
  int id = store::in_transaction(*conn, [&](store::connection& c) {
    int address_id = insert_row(c, address_class(), values);
    c.exec("INSERT INTO site_address (site_id, address_id) VALUES ($1, $2)",
           {std::to_string(site_id), std::to_string(address_id)});
    return address_id;
  });
  ctx.touched("Site", site_id);
  ctx.touched("Address", id);
  return xmlrpc_c::value_int(id);
}

xv get_addresses(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, address_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_address(call_context& ctx, const args_t& args) {
  auto values = writable_values(address_class(), args[1]);
  auto conn = ctx.svc.db->acquire();
  int id = own_address(*conn, ctx.who, args[0]);
  update_row(*conn, address_class(), id, values);
  ctx.touched("Address", id);
  return xmlrpc_c::value_int(1);
}

xv delete_address(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = own_address(*conn, ctx.who, args[0]);
  conn->exec("DELETE FROM addresses WHERE address_id = $1", {std::to_string(id)});
  ctx.touched("Address", id);
  return xmlrpc_c::value_int(1);
}

// --- AddressTypes ---

xv add_address_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(address_type_class(), args[0]);
  require(values, {"name"});
  require_not_empty(values, {"name"});
  auto conn = ctx.svc.db->acquire();
  int id = unique_or_102("Address type name",
                         [&] { return insert_row(*conn, address_type_class(), values); });
  ctx.touched("AddressType", id);
  return xmlrpc_c::value_int(id);
}

xv get_address_types(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, address_type_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_address_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(address_type_class(), args[1]);
  require_not_empty(values, {"name"});
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, address_type_class(), args[0]);
  unique_or_102("Address type name",
                [&] { return update_row(*conn, address_type_class(), id, values); });
  ctx.touched("AddressType", id);
  return xmlrpc_c::value_int(1);
}

xv delete_address_type(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, address_type_class(), args[0]);
  conn->exec("DELETE FROM address_types WHERE address_type_id = $1", {std::to_string(id)});
  ctx.touched("AddressType", id);
  return xmlrpc_c::value_int(1);
}

xv change_address_type(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int type_id = resolve_id(*conn, address_type_class(), args[0]);
  int address_id = own_address(*conn, ctx.who, args[1]);
  set_link(*conn, {"address_address_type", "address_id", "address_type_id"}, address_id, type_id,
           add);
  ctx.touched("Address", address_id);
  ctx.touched("AddressType", type_id);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& site_class() {
  static const store::class_desc cls = make_site_class();
  return cls;
}

const store::class_desc& address_class() {
  static const store::class_desc cls = make_address_class();
  return cls;
}

const store::class_desc& address_type_class() {
  static const store::class_desc cls = make_address_type_class();
  return cls;
}

std::vector<int> delete_site(store::connection& conn, int site_id, const std::string& now) {
  std::string id = std::to_string(site_id);
  // Persons whose only site this is go with it (PLCAPI's Site.delete).
  auto alone = conn.exec("SELECT ps.person_id FROM person_site ps WHERE ps.site_id = $1"
                         " AND NOT EXISTS (SELECT 1 FROM person_site o WHERE"
                         " o.person_id = ps.person_id AND o.site_id <> $1)",
                         {id});
  std::vector<int> deleted;
  for (int r = 0; r < alone.rows(); ++r) {
    deleted.push_back(static_cast<int>(alone.integer(r, 0)));
    delete_person(conn, deleted.back(), now);
  }
  // Its slices and nodes go too (PLCAPI's Site.delete).
  delete_site_slices(conn, site_id, now);
  auto nodes = conn.exec("SELECT node_id FROM nodes WHERE site_id = $1 AND NOT deleted", {id});
  for (int r = 0; r < nodes.rows(); ++r)
    delete_node(conn, static_cast<int>(nodes.integer(r, 0)), now);
  conn.exec("DELETE FROM addresses WHERE address_id IN"
            " (SELECT address_id FROM site_address WHERE site_id = $1)",
            {id});
  conn.exec("DELETE FROM pcus WHERE site_id = $1", {id});
  // Persons who keep other sites get a new primary one if this was it.
  auto primaries = conn.exec(
      "DELETE FROM person_site WHERE site_id = $1 AND is_primary RETURNING person_id", {id});
  conn.exec("DELETE FROM person_site WHERE site_id = $1", {id});
  for (int r = 0; r < primaries.rows(); ++r)
    conn.exec("UPDATE person_site SET is_primary = true WHERE person_id = $1 AND site_id ="
              " (SELECT min(site_id) FROM person_site WHERE person_id = $1)",
              {std::string{primaries.text(r, 0)}});
  conn.exec("DELETE FROM organization_site WHERE site_id = $1", {id});
  conn.exec("UPDATE sites SET deleted = true, date_deleted = to_timestamp($2::bigint),"
            " last_updated = to_timestamp($2::bigint) WHERE site_id = $1",
            {id, now});
  return deleted;
}

void add_site_methods(dispatcher& d) {
  const param_spec filter{"site_filter", xml_type::any, true};
  const param_spec fields{"return_fields", xml_type::any, true};
  const param_spec site{"site_id_or_login_base", xml_type::any};
  d.add({"AddSite",
         {role::admin},
         {{"site_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a new site; fields not given take their defaults (max_slices 0, max_slivers "
         "1000, enabled and is_public true). Returns the new site_id.",
         add_site});
  d.add({"GetSites",
         {role::admin, role::pi, role::user, role::tech, role::node, role::anonymous},
         {filter, fields},
         xml_type::array,
         "Returns sites matching the filter (ids/login_bases, or a struct). Admins may filter "
         "on deleted/date_deleted to see deleted sites.",
         get_sites});
  d.add({"UpdateSite",
         {role::admin, role::pi},
         {site, {"site_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a site. PIs may update only their sites; only admins may change max_slices, "
         "max_slivers and login_base (PLCAPI drops them silently). `persons` (ids or emails) "
         "and `addresses` (ids, or address structs: new without address_id, changed with it) "
         "make the site's members and addresses exactly those, through AddPersonToSite, "
         "DeletePersonFromSite, AddSiteAddress, UpdateAddress and DeleteAddress with the "
         "caller's rights. Returns 1.",
         [&d](call_context& ctx, const args_t& args) { return update_site(d, ctx, args); }});
  d.add({"DeleteSite",
         {role::admin},
         {site},
         xml_type::integer,
         "Marks a site deleted. Accounts with no other site are deleted too; the site's "
         "addresses are removed. Returns 1.",
         delete_site_method});
  d.add({"AddSiteAddress",
         {role::admin, role::pi},
         {site, {"address_fields", xml_type::structure}},
         xml_type::integer,
         "Adds an address to a site (line1, city, state, postalcode and country required). "
         "Returns the new address_id.",
         add_site_address});
  d.add({"GetAddresses",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"address_filter", xml_type::any, true}, fields},
         xml_type::array,
         "Returns addresses matching the filter.",
         get_addresses});
  d.add({"UpdateAddress",
         {role::admin, role::pi},
         {{"address_id", xml_type::integer}, {"address_fields", xml_type::structure}},
         xml_type::integer,
         "Updates an address of one of the caller's sites. Returns 1.",
         update_address});
  d.add({"DeleteAddress",
         {role::admin, role::pi},
         {{"address_id", xml_type::integer}},
         xml_type::integer,
         "Deletes an address of one of the caller's sites. Returns 1.",
         delete_address});
  d.add({"AddAddressType",
         {role::admin},
         {{"address_type_fields", xml_type::structure}},
         xml_type::integer,
         "Adds an address type. Returns the new address_type_id.",
         add_address_type});
  d.add({"GetAddressTypes",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"address_type_filter", xml_type::any, true}, fields},
         xml_type::array,
         "Returns address types matching the filter.",
         get_address_types});
  d.add({"UpdateAddressType",
         {role::admin},
         {{"address_type_id_or_name", xml_type::any}, {"address_type_fields", xml_type::structure}},
         xml_type::integer,
         "Updates an address type. Returns 1.",
         update_address_type});
  d.add({"DeleteAddressType",
         {role::admin},
         {{"address_type_id_or_name", xml_type::any}},
         xml_type::integer,
         "Deletes an address type and detaches it from every address. Returns 1.",
         delete_address_type});
  d.add(
      {"AddAddressTypeToAddress",
       {role::admin, role::pi},
       {{"address_type_id_or_name", xml_type::any}, {"address_id", xml_type::integer}},
       xml_type::integer,
       "Gives an address of one of the caller's sites an address type. Returns 1.",
       [](call_context& ctx, const args_t& args) { return change_address_type(ctx, args, true); }});
  d.add({"DeleteAddressTypeFromAddress",
         {role::admin, role::pi},
         {{"address_type_id_or_name", xml_type::any}, {"address_id", xml_type::integer}},
         xml_type::integer,
         "Removes an address type from an address of one of the caller's sites. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_address_type(ctx, args, false);
         }});
}

} // namespace pl::plc::api
