#include "plc/api/nodegroups.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/legacy.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/pool.hpp"

#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_nodegroup_class() {
  return {
      "NodeGroup",
      "nodegroups",
      "nodegroup_id",
      "groupname",
      {
          {"nodegroup_id", field_type::integer, {}, 0, false, false, "Node group identifier"},
          {"groupname", field_type::text, {}, 50, true, false, "Node group name"},
          {"tag_type_id", field_type::integer, {}, 0, true, false, "Node tag type id"},
          {"value",
           field_type::text,
           {},
           0,
           true,
           false,
           "value that the nodegroup definition is based upon"},
          {"tagname", field_type::text,
           "(SELECT tt.tagname FROM tag_types tt WHERE tt.tag_type_id = t.tag_type_id)", 0, false,
           false, "Tag name that the nodegroup definition is based upon"},
          {"conf_file_ids", field_type::int_list,
           "ARRAY(SELECT cg.conf_file_id FROM conf_file_nodegroup cg"
           " WHERE cg.nodegroup_id = t.nodegroup_id ORDER BY 1)",
           0, false, false, "List of configuration files specific to this node group"},
          {"node_ids", field_type::int_list,
           "ARRAY(SELECT gn.node_id FROM nodegroup_node gn JOIN nodes n ON n.node_id = gn.node_id"
           " WHERE gn.nodegroup_id = t.nodegroup_id AND NOT n.deleted ORDER BY 1)",
           0, false, false, "List of node_ids that belong to this nodegroup"},
      },
  };
}

/// UpdateNodeGroup changes only these; PLCAPI drops other keys silently.
const std::set<std::string> updatable{"groupname", "value"};

/// Checks that a group name is not blank and is free (but for `self`).
void check_groupname(store::connection& conn, const row_values& values, int self) {
  auto name = value_of(values, "groupname");
  if (!name)
    return;
  if (!name->has_value() || (*name)->empty())
    throw fault(fault_code::invalid_argument, "Invalid node group name");
  auto clash = conn.exec("SELECT 1 FROM nodegroups WHERE groupname = $1 AND nodegroup_id <> $2",
                         {**name, std::to_string(self)});
  if (clash.rows() > 0)
    throw fault(fault_code::invalid_argument, "Node group name already in use");
}

/// Runs `fn`, turning a lost race for the unique group name into fault 102.
template <class F>
auto unique_name(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, "Node group name already in use");
    throw;
  }
}

xv add_nodegroup(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  const xv& type_arg = args[1];
  int type_id = 0;
  try {
    type_id = resolve_id(*conn, tag_type_class(), type_arg);
  } catch (const fault&) {
    if (type_arg.type() != xv::TYPE_INT && type_arg.type() != xv::TYPE_STRING)
      throw;
    std::string shown = type_arg.type() == xv::TYPE_INT
                            ? std::to_string(xmlrpc_c::value_int(type_arg).cvalue())
                            : "'" + xmlrpc_c::value_string(type_arg).cvalue() + "'";
    throw fault(fault_code::invalid_argument, "No such tag type " + shown);
  }
  auto values =
      writable_values(nodegroup_class(), xmlrpc_c::value_struct(std::map<std::string, xv>{
                                             {"groupname", args[0]},
                                             {"tag_type_id", xmlrpc_c::value_int(type_id)},
                                             {"value", args[2]}}));
  check_groupname(*conn, values, 0);
  int id = unique_name([&] { return insert_row(*conn, nodegroup_class(), values); });
  ctx.touched("NodeGroup", id);
  ctx.message = "Node group " + std::to_string(id) + " created";
  return xmlrpc_c::value_int(id);
}

xv get_nodegroups(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, nodegroup_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_nodegroup(call_context& ctx, const args_t& args) {
  auto values = writable_values(nodegroup_class(), args[1], updatable);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, nodegroup_class(), args[0]);
  check_groupname(*conn, values, id);
  if (!values.columns.empty())
    unique_name([&] { return update_row(*conn, nodegroup_class(), id, values); });
  ctx.touched("NodeGroup", id);
  std::string changed;
  for (const auto& [column, _] : values.columns)
    changed += (changed.empty() ? "" : ", ") + column;
  ctx.message = "Node group " + std::to_string(id) + " updated: " + changed;
  return xmlrpc_c::value_int(1);
}

xv delete_nodegroup(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, nodegroup_class(), args[0]);
  // Its conf file links go with it (ON DELETE CASCADE); the nodes keep their tags.
  conn->exec("DELETE FROM nodegroups WHERE nodegroup_id = $1", {std::to_string(id)});
  ctx.touched("NodeGroup", id);
  ctx.message = "Node group " + std::to_string(id) + " deleted";
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& nodegroup_class() {
  static const store::class_desc cls = make_nodegroup_class();
  return cls;
}

void add_nodegroup_methods(dispatcher& d) {
  const param_spec group{"nodegroup_id_or_name", xml_type::any};
  d.add({"AddNodeGroup",
         {role::admin},
         {{"groupname", xml_type::string},
          {"tag_type_id_or_tagname", xml_type::any},
          {"value", xml_type::string}},
         xml_type::integer,
         "Adds a node group: the nodes whose tag tag_type_id_or_tagname has this value. "
         "Returns the new nodegroup_id.",
         add_nodegroup});
  // PLCAPI 4.3 kept the 4.2 name of groupname.
  d.add(with_field_alias(
      {"GetNodeGroups",
       {role::admin, role::pi, role::user, role::tech, role::node, role::anonymous},
       {{"nodegroup_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
       xml_type::array,
       "Returns the node groups matching the filter (ids/groupnames, or a struct), with "
       "their node_ids and conf_file_ids.",
       get_nodegroups},
      "name", "groupname"));
  d.add({"UpdateNodeGroup",
         {role::admin},
         {group, {"nodegroup_fields", xml_type::structure}},
         xml_type::integer,
         "Changes a node group's groupname or value (other keys are ignored). Returns 1.",
         update_nodegroup});
  d.add({"DeleteNodeGroup",
         {role::admin},
         {{"node_group_id_or_name", xml_type::any}},
         xml_type::integer,
         "Deletes a node group (its nodes keep their tags). Returns 1.",
         delete_nodegroup});
}

} // namespace pl::plc::api
