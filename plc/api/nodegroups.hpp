#pragma once

#include "plc/api/dispatcher.hpp"
#include "plc/store/descriptor.hpp"

namespace pl::plc::api {

/// Describes PLCAPI 5.x's NodeGroup (table `nodegroups`): a named group
/// defined by a node tag type and a value. Its `node_ids` are the live nodes
/// carrying that tag with that value (view `nodegroup_node`), so membership
/// follows the node tags; `conf_file_ids` come from `conf_file_nodegroup`.
const store::class_desc& nodegroup_class();

/// Registers AddNodeGroup, GetNodeGroups, UpdateNodeGroup and DeleteNodeGroup.
void add_nodegroup_methods(dispatcher& d);

} // namespace pl::plc::api
