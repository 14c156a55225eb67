#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <string>

namespace pl::plc::api {

/// Describes PLCAPI's Person (table `persons`, soft-deleted). The password
/// and the verification fields are not fields: they are never returned.
const store::class_desc& person_class();

/// Describes PLCAPI's Role (table `roles`).
const store::class_desc& role_class();

/// Soft-deletes person `person_id` with PLCAPI's cascade: keys are deleted,
/// roles, site and organization memberships are cleared. Runs inside the caller's transaction.
void delete_person(store::connection& conn, int person_id, const std::string& now);

/// Registers AddPerson, GetPersons, UpdatePerson, DeletePerson,
/// AddPersonToSite, DeletePersonFromSite, SetPersonPrimarySite, GetRoles,
/// AddRole, DeleteRole, AddRoleToPerson and DeleteRoleFromPerson.
void add_person_methods(dispatcher& d);

} // namespace pl::plc::api
