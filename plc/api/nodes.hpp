#pragma once

#include "plc/api/crud.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/method.hpp"
#include "plc/store/descriptor.hpp"
#include "plc/store/pg.hpp"

#include <string>
#include <vector>

namespace pl::plc::api {

/// Describes PLCAPI's Node as everybody sees it (table `nodes`, soft-deleted):
/// without the admin-only `boot_nonce`, `key` and `session`.
const store::class_desc& node_class();

/// Describes PLCAPI's Node with the admin-only fields.
const store::class_desc& node_admin_class();

/// Describes PLCAPI's Interface (table `interfaces`, formerly NodeNetwork).
const store::class_desc& interface_class();

/// Tells whether PLCAPI's hostname rule holds: dot-separated labels of
/// letters, digits and inner hyphens, ending in 2-6 letters (any case).
bool valid_hostname(const std::string& hostname);

/// Returns a MAC address in PLCAPI's form (at least six `:`-separated hex
/// bytes, each written as two lowercase digits); fault 102 when it is not one.
std::string normalize_mac(const std::string& mac);

/// Tells whether the caller may manage the nodes of site `site_id`: an admin,
/// whoever may manage the site (a PI, also through an organization), or a
/// tech who belongs to the site.
bool can_manage_nodes(store::connection& conn, const caller& who, int site_id);

/// Updates interface `interface_id` of node `node_id` with `values` after
/// PLCAPI's Interface checks on the stored values overlaid with the new ones
/// (a MAC address is normalised); fault 102 on a bad value. Sets
/// last_updated to `now` (epoch seconds). Runs inside the caller's transaction.
void update_interface_row(store::connection& c, int node_id, int interface_id, row_values values,
                          const std::string& now);

/// Soft-deletes node `node_id` with PLCAPI's cascade: its interfaces and its
/// session and tags go. `now` is epoch seconds. Runs inside the caller's transaction.
void delete_node(store::connection& conn, int node_id, const std::string& now);

/// Returns the method declarations of Nodes, NodeTypes, BootStates,
/// NetworkMethods, NetworkTypes and Interfaces (legacy wrappers reuse them).
std::vector<method_spec> node_method_specs();

/// Registers node_method_specs(): AddNode, GetNodes, UpdateNode, DeleteNode,
/// AddNodeType, GetNodeTypes, DeleteNodeType, AddBootState, GetBootStates,
/// DeleteBootState, AddNetworkMethod, GetNetworkMethods, DeleteNetworkMethod,
/// AddNetworkType, GetNetworkTypes, DeleteNetworkType, AddInterface,
/// GetInterfaces, UpdateInterface, DeleteInterface, and the node and interface
/// tags (AddNodeTag, GetNodeTags, UpdateNodeTag, DeleteNodeTag, and the same
/// for InterfaceTag).
void add_node_methods(dispatcher& d);

} // namespace pl::plc::api
