#pragma once

#include "plc/api/method.hpp"
#include "plc/store/pg.hpp"

#include <string>
#include <vector>

namespace pl::plc::api {

/// Tells whether the caller holds role `r`.
bool has_role(const caller& who, role r);

/// Tells whether the caller is an admin.
bool is_admin(const caller& who);

/// Returns the ids of the live sites `person_id` belongs to, primary first.
std::vector<int> member_site_ids(store::connection& conn, int person_id);

/// Returns the role ids `person_id` holds.
std::vector<int> person_role_ids(store::connection& conn, int person_id);

/// Returns SQL selecting the site ids over which person `person_id` holds PI
/// rights when it has the pi role: its own sites and every site of the
/// organizations it belongs to. `person_id` comes from authentication, never
/// from a caller's arguments.
std::string pi_sites_sql(int person_id);

/// Returns the sites over which the caller holds PI rights (empty unless it
/// has the pi role); see pi_sites_sql.
std::vector<int> pi_site_ids(store::connection& conn, const caller& who);

/// Tells whether the caller may manage site `site_id`: an admin, or a PI of
/// the site directly or through an organization.
bool can_manage_site(store::connection& conn, const caller& who, int site_id);

/// Tells whether the caller may update person `person_id` (PLCAPI's
/// Person.can_update): itself, an admin, or a PI over one of the person's
/// sites when the person holds neither the pi nor the admin role.
bool can_update_person(store::connection& conn, const caller& who, int person_id);

/// Tells whether the caller may see person `person_id` (PLCAPI 5.x's
/// Person.can_view): whoever may update it, a PI over one of its sites, a
/// tech at one of its sites; nodes and admins see everyone.
bool can_view_person(store::connection& conn, const caller& who, int person_id);

/// Returns the SQL condition (on `t.person_id`) that limits a GetPersons to
/// the persons the caller may see, or an empty string when it sees all.
std::string person_view_condition(const caller& who);

} // namespace pl::plc::api
