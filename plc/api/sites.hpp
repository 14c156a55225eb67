#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <string>
#include <vector>

namespace pl::plc::api {

/// Describes PLCAPI's Site (table `sites`, soft-deleted).
const store::class_desc& site_class();

/// Describes PLCAPI's Address (table `addresses`, linked to a site by `site_address`).
const store::class_desc& address_class();

/// Describes PLCAPI's AddressType (table `address_types`).
const store::class_desc& address_type_class();

/// Soft-deletes site `site_id` with PLCAPI's cascade: persons who belong to no
/// other site are deleted too, the site's addresses and PCUs are removed and its
/// memberships (persons, organizations) cleared. `now` is epoch seconds.
/// Runs inside the caller's transaction; returns the persons it deleted.
std::vector<int> delete_site(store::connection& conn, int site_id, const std::string& now);

/// Registers Sites, Addresses and AddressTypes: AddSite, GetSites, UpdateSite,
/// DeleteSite, AddSiteAddress, GetAddresses, UpdateAddress, DeleteAddress,
/// AddAddressType, GetAddressTypes, UpdateAddressType, DeleteAddressType,
/// AddAddressTypeToAddress, DeleteAddressTypeFromAddress.
void add_site_methods(dispatcher& d);

} // namespace pl::plc::api
