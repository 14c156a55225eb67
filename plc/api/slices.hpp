#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xmlrpc-c/base.hpp>

namespace pl::plc::api {

/// Describes PLCAPI's Slice (table `slices`, soft-deleted). Tag names are
/// fields too (slice-wide tags, view `slice_tag_global`).
const store::class_desc& slice_class();

/// A live, unexpired slice as the write methods need it.
struct slice_row {
  int slice_id = 0;
  int site_id = 0;
  std::string name;
  std::string instantiation;
  std::optional<std::string> url;
  std::optional<std::string> description;
  int max_nodes = 0;
  std::int64_t expires = 0;
};

/// Reads the live slice named by an id or a name that has not expired at
/// `now` (epoch seconds); fault 102 "No such slice" otherwise, as PLCAPI
/// (whose Slices() never sees expired slices).
slice_row load_slice(store::connection& conn, const xmlrpc_c::value& id_or_name, std::int64_t now);

/// Tells whether person `person_id` is a member of slice `slice_id`.
bool is_slice_member(store::connection& conn, int person_id, int slice_id);

/// Throws fault 108 unless the caller may manage `slice` (PLCAPI's rule for
/// UpdateSlice, DeleteSlice, AddSliceToNodes, the leases): an admin, a member
/// of the slice, or a PI over the slice's site (directly or through an
/// organization).
void check_slice_rights(store::connection& conn, const caller& who, const slice_row& slice);

/// Returns the SQL condition on `<column>` (a slice id) that limits what a
/// non-admin person sees (PLCAPI 5.x GetSlices): its own slices, as a PI the
/// slices of the sites it is PI over (also through organizations), as a tech
/// the slices bound to nodes of its sites. Empty for admins and nodes, which
/// see every slice. Built from authenticated ids only.
std::string slice_view_condition(const caller& who, const std::string& column);

/// Returns the SQL condition on `t` (a node row) hiding from a non-admin the
/// nodes whose slice whitelist is not empty, unless the caller has a slice on
/// the whitelist (a node: a slice bound to it) or belongs to the node's site
/// (PLCAPI 5.x GetNodes). Empty for admins. Built from authenticated ids only.
std::string node_whitelist_condition(const caller& who);

/// Soft-deletes slice `slice_id` with PLCAPI's cascade: its nodes, members,
/// tags, whitelist entries and leases go. `now` is epoch seconds. Runs inside
/// the caller's transaction.
void delete_slice(store::connection& conn, int slice_id, const std::string& now);

/// Soft-deletes every live slice that expired at or before `now` (epoch
/// seconds), as PLCAPI does before adding a slice; returns their ids.
std::vector<int> reap_expired_slices(store::connection& conn, std::int64_t now);

/// Soft-deletes the live slices of site `site_id` (DeleteSite's cascade).
void delete_site_slices(store::connection& conn, int site_id, const std::string& now);

/// Removes node `node_id` from every slice: its slivers, its whitelist
/// entries, its sliver tags and its leases (DeleteNode's cascade).
void detach_node_from_slices(store::connection& conn, int node_id);

/// Removes person `person_id` from every slice (DeletePerson's cascade).
void detach_person_from_slices(store::connection& conn, int person_id);

/// Registers the Slices methods (AddSlice, GetSlices, UpdateSlice,
/// DeleteSlice, AddPersonToSlice, DeletePersonFromSlice, AddSliceToNodes,
/// DeleteSliceFromNodes, AddSliceToNodesWhitelist,
/// DeleteSliceFromNodesWhitelist), the instantiations (GetSliceInstantiations,
/// AddSliceInstantiation, DeleteSliceInstantiation) and the InitScripts
/// (AddInitScript, GetInitScripts, UpdateInitScript, DeleteInitScript).
void add_slice_methods(dispatcher& d);

} // namespace pl::plc::api
