#include "plc/api/organizations.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/sites.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <cctype>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_organization_class() {
  return {
      "Organization",
      "organizations",
      "organization_id",
      "name",
      {
          {"organization_id", field_type::integer, {}, 0, false, false, "Organization identifier"},
          {"name", field_type::text, {}, 254, true, false, "Unique name"},
          {"description", field_type::text, {}, 2048, true, true, "Description"},
          {"url", field_type::text, {}, 254, true, true, "Home page"},
          {"date_created", field_type::timestamp, {}, 0, false, false, "When created"},
          {"last_updated", field_type::timestamp, {}, 0, false, false, "When last updated"},
          {"site_ids", field_type::int_list,
           "ARRAY(SELECT os.site_id FROM organization_site os"
           " WHERE os.organization_id = t.organization_id ORDER BY 1)",
           0, false, false, "Sites of the organization"},
          {"person_ids", field_type::int_list,
           "ARRAY(SELECT op.person_id FROM organization_person op"
           " WHERE op.organization_id = t.organization_id ORDER BY 1)",
           0, false, false, "Members; those with the pi role are PIs of every site"},
      },
  };
}

template <class F>
auto name_unique(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Organization name already in use");
    throw;
  }
}

void check_name(const row_values& values, bool required) {
  const store::param* p = value_of(values, "name");
  if (!p && required)
    throw fault(fault_code::invalid_argument, "Missing mandatory field name");
  if (p && p->value().empty())
    throw fault::invalid_value("name", "must be specified");
}

int resolve_member(store::connection& conn, const xv& id_or_email) {
  if (id_or_email.type() == xv::TYPE_STRING) {
    std::string email = xmlrpc_c::value_string(id_or_email).cvalue();
    std::transform(email.begin(), email.end(), email.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return resolve_id(conn, person_class(), xmlrpc_c::value_string(email));
  }
  return resolve_id(conn, person_class(), id_or_email);
}

/// Tells whether the caller is a member with the pi role of organization `id`.
bool is_organization_pi(store::connection& conn, const caller& who, int id) {
  if (!who.person_id || !has_role(who, role::pi))
    return false;
  return conn.exec("SELECT 1 FROM organization_person WHERE organization_id = $1"
                   " AND person_id = $2",
                   {std::to_string(id), std::to_string(*who.person_id)})
             .rows() > 0;
}

xv add_organization(call_context& ctx, const args_t& args) {
  auto values = writable_values(organization_class(), args[0]);
  check_name(values, true);
  std::string now = now_text(ctx);
  values.set("date_created", now, "to_timestamp");
  values.set("last_updated", now, "to_timestamp");
  auto conn = ctx.svc.db->acquire();
  int id = name_unique([&] { return insert_row(*conn, organization_class(), values); });
  ctx.touched("Organization", id);
  return xmlrpc_c::value_int(id);
}

xv get_organizations(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, organization_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_organization(call_context& ctx, const args_t& args) {
  auto values = writable_values(organization_class(), args[1]);
  check_name(values, false);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, organization_class(), args[0]);
  if (!is_admin(ctx.who) && !is_organization_pi(*conn, ctx.who, id))
    throw fault(fault_code::permission_denied, "Not allowed to update specified organization");
  values.set("last_updated", now_text(ctx), "to_timestamp");
  name_unique([&] { return update_row(*conn, organization_class(), id, values); });
  ctx.touched("Organization", id);
  return xmlrpc_c::value_int(1);
}

xv delete_organization(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, organization_class(), args[0]);
  // Memberships go with it (ON DELETE CASCADE); sites and persons stay.
  conn->exec("DELETE FROM organizations WHERE organization_id = $1", {std::to_string(id)});
  ctx.touched("Organization", id);
  return xmlrpc_c::value_int(1);
}

xv change_site(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int site = resolve_id(*conn, site_class(), args[0]);
  int org = resolve_id(*conn, organization_class(), args[1]);
  set_link(*conn, {"organization_site", "organization_id", "site_id"}, org, site, add);
  ctx.touched("Organization", org);
  ctx.touched("Site", site);
  return xmlrpc_c::value_int(1);
}

xv change_person(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int person = resolve_member(*conn, args[0]);
  int org = resolve_id(*conn, organization_class(), args[1]);
  set_link(*conn, {"organization_person", "organization_id", "person_id"}, org, person, add);
  ctx.touched("Organization", org);
  ctx.touched("Person", person);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& organization_class() {
  static const store::class_desc cls = make_organization_class();
  return cls;
}

void add_organization_methods(dispatcher& d) {
  const param_spec org{"organization_id_or_name", xml_type::any};
  const param_spec site{"site_id_or_login_base", xml_type::any};
  const param_spec person{"person_id_or_email", xml_type::any};
  d.add({"AddOrganization",
         {role::admin},
         {{"organization_fields", xml_type::structure}},
         xml_type::integer,
         "Adds an organization (name required; description, url). Returns its id.",
         add_organization});
  d.add({"GetOrganizations",
         {role::admin, role::pi, role::user, role::tech, role::node},
         {{"organization_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns organizations matching the filter (ids/names, or a struct).",
         get_organizations});
  d.add({"UpdateOrganization",
         {role::admin, role::pi},
         {org, {"organization_fields", xml_type::structure}},
         xml_type::integer,
         "Updates an organization; PIs only organizations they belong to. Returns 1.",
         update_organization});
  d.add({"DeleteOrganization",
         {role::admin},
         {org},
         xml_type::integer,
         "Deletes an organization; its sites and members stay. Returns 1.",
         delete_organization});
  d.add({"AddSiteToOrganization",
         {role::admin},
         {site, org},
         xml_type::integer,
         "Adds a site to an organization; no error if already there. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_site(ctx, args, true); }});
  d.add({"DeleteSiteFromOrganization",
         {role::admin},
         {site, org},
         xml_type::integer,
         "Removes a site from an organization. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_site(ctx, args, false); }});
  d.add({"AddPersonToOrganization",
         {role::admin},
         {person, org},
         xml_type::integer,
         "Makes a person a member of an organization; with the pi role the person is a PI of "
         "all of its sites. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_person(ctx, args, true); }});
  d.add({"DeletePersonFromOrganization",
         {role::admin},
         {person, org},
         xml_type::integer,
         "Removes a person from an organization. Returns 1.",
         [](call_context& ctx, const args_t& args) { return change_person(ctx, args, false); }});
}

} // namespace pl::plc::api
