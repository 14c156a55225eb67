#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

namespace pl::plc::api {

/// Describes an Organization (table `organizations`): a named group of sites.
/// A member person holding the pi role has PI rights over all of its sites.
const store::class_desc& organization_class();

/// Registers AddOrganization, GetOrganizations, UpdateOrganization,
/// DeleteOrganization, AddSiteToOrganization, DeleteSiteFromOrganization,
/// AddPersonToOrganization and DeletePersonFromOrganization.
void add_organization_methods(dispatcher& d);

} // namespace pl::plc::api
