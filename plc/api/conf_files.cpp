#include "plc/api/conf_files.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/nodegroups.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/object_access.hpp"
#include "plc/store/pool.hpp"

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_conf_file_class() {
  return {
      "ConfFile",
      "conf_files",
      "conf_file_id",
      "",
      {
          {"conf_file_id",
           field_type::integer,
           {},
           0,
           false,
           false,
           "Configuration file identifier"},
          {"enabled", field_type::boolean, {}, 0, true, false, "Configuration file is active"},
          {"source",
           field_type::text,
           {},
           255,
           true,
           false,
           "Relative path on the boot server where file can be downloaded"},
          {"dest",
           field_type::text,
           {},
           255,
           true,
           false,
           "Absolute path where file should be installed"},
          {"file_permissions", field_type::text, {}, 20, true, false, "chmod(1) permissions"},
          {"file_owner", field_type::text, {}, 50, true, false, "chown(1) owner"},
          {"file_group", field_type::text, {}, 50, true, false, "chgrp(1) owner"},
          {"preinstall_cmd",
           field_type::text,
           {},
           1024,
           true,
           true,
           "Shell command to execute prior to installing"},
          {"postinstall_cmd",
           field_type::text,
           {},
           1024,
           true,
           true,
           "Shell command to execute after installing"},
          {"error_cmd",
           field_type::text,
           {},
           1024,
           true,
           true,
           "Shell command to execute if any error occurs"},
          {"ignore_cmd_errors",
           field_type::boolean,
           {},
           0,
           true,
           false,
           "Install file anyway even if an error occurs"},
          {"always_update",
           field_type::boolean,
           {},
           0,
           true,
           false,
           "Always attempt to install file even if unchanged"},
          {"node_ids", field_type::int_list,
           "ARRAY(SELECT cn.node_id FROM conf_file_node cn WHERE cn.conf_file_id = t.conf_file_id"
           " ORDER BY 1)",
           0, false, false, "List of nodes linked to this file"},
          {"nodegroup_ids", field_type::int_list,
           "ARRAY(SELECT cg.nodegroup_id FROM conf_file_nodegroup cg"
           " WHERE cg.conf_file_id = t.conf_file_id ORDER BY 1)",
           0, false, false, "List of node groups linked to this file"},
      },
  };
}

xv add_conf_file(call_context& ctx, const args_t& args) {
  auto values = writable_values(conf_file_class(), args[0]);
  for (const char* n : {"source", "dest"})
    if (!value_of(values, n))
      throw fault(fault_code::invalid_argument, std::string{"Missing mandatory field "} + n);
  auto conn = ctx.svc.db->acquire();
  int id = insert_row(*conn, conf_file_class(), values);
  ctx.touched("ConfFile", id);
  return xmlrpc_c::value_int(id);
}

xv get_conf_files(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, conf_file_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_conf_file(call_context& ctx, const args_t& args) {
  auto values = writable_values(conf_file_class(), args[1]);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, conf_file_class(), args[0]);
  update_row(*conn, conf_file_class(), id, values);
  ctx.touched("ConfFile", id);
  return xmlrpc_c::value_int(1);
}

xv delete_conf_file(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, conf_file_class(), args[0]);
  conn->exec("DELETE FROM conf_files WHERE conf_file_id = $1", {std::to_string(id)});
  ctx.touched("ConfFile", id);
  return xmlrpc_c::value_int(1);
}

xv change_conf_file_node(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, conf_file_class(), args[0]);
  int node = resolve_id(*conn, node_class(), args[1]);
  set_link(*conn, {"conf_file_node", "conf_file_id", "node_id"}, id, node, add);
  ctx.touched("ConfFile", id);
  ctx.touched("Node", node);
  return xmlrpc_c::value_int(1);
}

xv change_conf_file_nodegroup(call_context& ctx, const args_t& args, bool add) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, conf_file_class(), args[0]);
  int group = resolve_id(*conn, nodegroup_class(), args[1]);
  set_link(*conn, {"conf_file_nodegroup", "conf_file_id", "nodegroup_id"}, id, group, add);
  ctx.touched("ConfFile", id);
  ctx.touched("NodeGroup", group);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& conf_file_class() {
  static const store::class_desc cls = make_conf_file_class();
  return cls;
}

void add_conf_file_methods(dispatcher& d) {
  const param_spec conf_file_id{"conf_file_id", xml_type::integer};
  d.add({"AddConfFile",
         {role::admin},
         {{"conf_file_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a node configuration file (source and dest required; enabled, file_permissions "
         "0644, file_owner and file_group root by default). Returns the new conf_file_id.",
         add_conf_file});
  d.add({"GetConfFiles",
         {role::admin, role::node},
         {{"conf_file_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns the configuration files matching the filter.",
         get_conf_files});
  d.add({"UpdateConfFile",
         {role::admin},
         {conf_file_id, {"conf_file_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a configuration file. Returns 1.",
         update_conf_file});
  d.add({"DeleteConfFile",
         {role::admin},
         {conf_file_id},
         xml_type::integer,
         "Deletes a configuration file. Returns 1.",
         delete_conf_file});
  d.add({"AddConfFileToNode",
         {role::admin},
         {conf_file_id, {"node_id_or_hostname", xml_type::any}},
         xml_type::integer,
         "Links a configuration file to a node; no error if already linked. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_conf_file_node(ctx, args, true);
         }});
  d.add({"DeleteConfFileFromNode",
         {role::admin},
         {conf_file_id, {"node_id_or_hostname", xml_type::any}},
         xml_type::integer,
         "Unlinks a configuration file from a node; no error if not linked. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_conf_file_node(ctx, args, false);
         }});
  d.add({"AddConfFileToNodeGroup",
         {role::admin},
         {conf_file_id, {"nodegroup_id_or_name", xml_type::any}},
         xml_type::integer,
         "Links a configuration file to a node group; no error if already linked. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_conf_file_nodegroup(ctx, args, true);
         }});
  d.add({"DeleteConfFileFromNodeGroup",
         {role::admin},
         {conf_file_id, {"nodegroup_id_or_name", xml_type::any}},
         xml_type::integer,
         "Unlinks a configuration file from a node group; no error if not linked. Returns 1.",
         [](call_context& ctx, const args_t& args) {
           return change_conf_file_nodegroup(ctx, args, false);
         }});
}

} // namespace pl::plc::api
