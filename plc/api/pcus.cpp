#include "plc/api/pcus.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/sites.hpp"
#include "plc/store/pool.hpp"

#include <arpa/inet.h>

#include <map>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

store::class_desc make_pcu_class() {
  return {
      "PCU",
      "pcus",
      "pcu_id",
      "",
      {
          {"pcu_id", field_type::integer, {}, 0, false, false, "PCU identifier"},
          {"site_id",
           field_type::integer,
           {},
           0,
           false,
           false,
           "Identifier of site where PCU is located"},
          {"hostname", field_type::text, {}, 254, true, false, "PCU hostname"},
          {"ip", field_type::text, {}, 254, true, false, "PCU IP address"},
          {"protocol",
           field_type::text,
           {},
           16,
           true,
           true,
           "PCU protocol, e.g. ssh, https, telnet"},
          {"username", field_type::text, {}, 254, true, true, "PCU username"},
          {"password", field_type::text, {}, 254, true, true, "PCU password"},
          {"notes", field_type::text, {}, 254, true, true, "Miscellaneous notes"},
          {"model", field_type::text, {}, 32, true, true, "PCU model string"},
          {"node_ids", field_type::int_list,
           "ARRAY(SELECT pn.node_id FROM pcu_node pn WHERE pn.pcu_id = t.pcu_id ORDER BY pn.port)",
           0, false, false, "List of nodes that this PCU controls"},
          {"ports", field_type::int_list,
           "ARRAY(SELECT pn.port FROM pcu_node pn WHERE pn.pcu_id = t.pcu_id ORDER BY pn.port)", 0,
           false, false, "List of the port numbers that each node is connected to"},
          {"last_updated", field_type::timestamp, {}, 0, false, true, "When last updated"},
      },
  };
}

store::class_desc make_pcu_type_class() {
  return {
      "PCUType",
      "pcu_types",
      "pcu_type_id",
      "model",
      {
          {"pcu_type_id", field_type::integer, {}, 0, false, false, "PCU Type Identifier"},
          {"model", field_type::text, {}, 254, true, false, "PCU model"},
          {"name", field_type::text, {}, 254, true, false, "PCU full name"},
          {"pcu_protocol_type_ids", field_type::int_list,
           "ARRAY(SELECT p.pcu_protocol_type_id FROM pcu_protocol_type p"
           " WHERE p.pcu_type_id = t.pcu_type_id ORDER BY 1)",
           0, false, false, "PCU Protocol Type Identifiers"},
      },
  };
}

store::class_desc make_pcu_protocol_type_class() {
  return {
      "PCUProtocolType",
      "pcu_protocol_type",
      "pcu_protocol_type_id",
      "",
      {
          {"pcu_protocol_type_id",
           field_type::integer,
           {},
           0,
           false,
           false,
           "PCU protocol type identifier"},
          {"pcu_type_id", field_type::integer, {}, 0, true, false, "PCU type identifier"},
          {"port", field_type::integer, {}, 0, true, false, "PCU port"},
          {"protocol", field_type::text, {}, 254, true, false, "Protocol"},
          {"supported",
           field_type::boolean,
           {},
           0,
           true,
           false,
           "Is the port/protocol supported by PLC"},
      },
  };
}

const std::set<std::string> pcu_fields = {"hostname", "ip",    "protocol", "username",
                                          "password", "notes", "model"};

/// Turns a unique violation into PLCAPI's 102 with `what`.
template <class F>
auto unique_or_102(const std::string& what, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const store::db_error& e) {
    if (e.unique_violation())
      throw fault(fault_code::invalid_argument, what);
    throw;
  }
}

void validate_ip(const row_values& v) {
  const store::param* p = value_of(v, "ip");
  if (!p)
    return;
  unsigned char buf[16];
  if (inet_pton(AF_INET, p->value().c_str(), buf) != 1 &&
      inet_pton(AF_INET6, p->value().c_str(), buf) != 1)
    throw fault(fault_code::invalid_argument, "Invalid IP address " + p->value());
}

/// SQL selecting the sites whose PCUs the caller manages: the sites it
/// belongs to (PLCAPI's caller['site_ids']) and, for a PI, the sites of its
/// organizations. `person_id` comes from authentication.
std::string pcu_sites_sql(const caller& who) {
  std::string id = std::to_string(*who.person_id);
  if (has_role(who, role::pi))
    return pi_sites_sql(*who.person_id);
  return "SELECT site_id FROM person_site WHERE person_id = " + id;
}

bool manages_pcu_site(store::connection& conn, const caller& who, int site_id) {
  if (is_admin(who))
    return true;
  if (!who.person_id)
    return false;
  auto res =
      conn.exec("SELECT $1::integer IN (" + pcu_sites_sql(who) + ")", {std::to_string(site_id)});
  return res.boolean(0, 0);
}

/// Resolves a PCU the caller manages (108 otherwise).
int own_pcu(store::connection& conn, const caller& who, const xv& pcu_id) {
  int id = resolve_id(conn, pcu_class(), pcu_id);
  auto site = conn.exec("SELECT site_id FROM pcus WHERE pcu_id = $1", {std::to_string(id)});
  if (!manages_pcu_site(conn, who, static_cast<int>(site.integer(0, 0))))
    throw fault(fault_code::permission_denied, "Not allowed to update that PCU");
  return id;
}

// --- PCUs ---

xv add_pcu(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_class(), args[1], pcu_fields);
  if (!value_of(values, "ip"))
    throw fault(fault_code::invalid_argument, "Missing mandatory field ip");
  validate_ip(values);
  auto conn = ctx.svc.db->acquire();
  int site = resolve_id(*conn, site_class(), args[0]);
  if (!manages_pcu_site(*conn, ctx.who, site))
    throw fault(fault_code::permission_denied, "Not allowed to add a PCU to that site");
  values.set("site_id", std::to_string(site));
  values.set("last_updated", now_text(ctx), "to_timestamp");
  int id = insert_row(*conn, pcu_class(), values);
  ctx.touched("Site", site);
  ctx.touched("PCU", id);
  ctx.message = "PCU " + std::to_string(id) + " added site " + std::to_string(site);
  return xmlrpc_c::value_int(id);
}

xv get_pcus(call_context& ctx, const args_t& args) {
  select_options opts;
  if (!is_admin(ctx.who)) {
    if (ctx.who.person_id)
      opts.condition = "t.site_id IN (" + pcu_sites_sql(ctx.who) + ")";
    else if (ctx.who.node_id) // a node sees the PCUs of its site
      opts.condition = "t.site_id IN (SELECT n.site_id FROM nodes n WHERE n.node_id = " +
                       std::to_string(*ctx.who.node_id) + ")";
    else
      opts.condition = "FALSE";
  }
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, pcu_class(), normalize_filter(arg_or_nil(args, 0)), arg_or_nil(args, 1),
                     opts);
}

xv update_pcu(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_class(), args[1], pcu_fields);
  validate_ip(values);
  auto conn = ctx.svc.db->acquire();
  int id = own_pcu(*conn, ctx.who, args[0]);
  std::string changed;
  for (const auto& [column, _] : values.columns)
    changed += (changed.empty() ? "" : ", ") + column;
  values.set("last_updated", now_text(ctx), "to_timestamp");
  update_row(*conn, pcu_class(), id, values);
  ctx.touched("PCU", id);
  ctx.message = "PCU " + std::to_string(id) + " updated: " + changed;
  return xmlrpc_c::value_int(1);
}

xv delete_pcu(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = own_pcu(*conn, ctx.who, args[0]);
  conn->exec("DELETE FROM pcus WHERE pcu_id = $1", {std::to_string(id)});
  ctx.touched("PCU", id);
  ctx.message = "PCU " + std::to_string(id) + " deleted";
  return xmlrpc_c::value_int(1);
}

// --- Nodes of PCUs ---

xv add_node_to_pcu(call_context& ctx, const args_t& args) {
  int port = xmlrpc_c::value_int(args[2]).cvalue();
  auto conn = ctx.svc.db->acquire();
  int node = resolve_id(*conn, node_class(), args[0]);
  int pcu = own_pcu(*conn, ctx.who, args[1]);
  std::string n = std::to_string(node), p = std::to_string(pcu);
  store::in_transaction(*conn, [&](store::connection& c) {
    // PLCAPI's checks, in its order; the keys of pcu_node also hold under races.
    if (c.exec("SELECT 1 FROM pcu_node WHERE pcu_id = $1 AND node_id = $2", {p, n}).rows() > 0)
      throw fault(fault_code::invalid_argument, "Node already controlled by PCU");
    auto same_site = c.exec("SELECT (SELECT site_id FROM nodes WHERE node_id = $1) ="
                            " (SELECT site_id FROM pcus WHERE pcu_id = $2)",
                            {n, p});
    if (!same_site.boolean(0, 0))
      throw fault(fault_code::invalid_argument, "Node is at a different site than this PCU");
    unique_or_102("PCU port already in use", [&] {
      return c.exec("INSERT INTO pcu_node (pcu_id, node_id, port) VALUES ($1, $2, $3)",
                    {p, n, std::to_string(port)});
    });
  });
  ctx.touched("Node", node);
  ctx.touched("PCU", pcu);
  ctx.message = "Node " + n + " added to pcu " + p + " on port " + std::to_string(port);
  return xmlrpc_c::value_int(1);
}

xv delete_node_from_pcu(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int node = resolve_id(*conn, node_class(), args[0]);
  int pcu = own_pcu(*conn, ctx.who, args[1]);
  conn->exec("DELETE FROM pcu_node WHERE pcu_id = $1 AND node_id = $2",
             {std::to_string(pcu), std::to_string(node)});
  ctx.touched("PCU", pcu);
  ctx.touched("Node", node);
  ctx.message = "Node " + std::to_string(node) + " removed from PCU " + std::to_string(pcu);
  return xmlrpc_c::value_int(1);
}

// --- PCUTypes ---

void validate_model(const row_values& v, bool required) {
  const store::param* p = value_of(v, "model");
  if (!p && required)
    throw fault(fault_code::invalid_argument, "Missing mandatory field model");
  if (p && p->value().empty())
    throw fault(fault_code::invalid_argument, "Model must be specified");
}

xv add_pcu_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_type_class(), args[0]);
  validate_model(values, true);
  auto conn = ctx.svc.db->acquire();
  int id = unique_or_102("Model already in use",
                         [&] { return insert_row(*conn, pcu_type_class(), values); });
  ctx.touched("PCUType", id);
  return xmlrpc_c::value_int(id);
}

xv get_pcu_types(call_context& ctx, const args_t& args) {
  // pcu_protocol_types (a list of structs) is no column: it is filled from
  // pcu_protocol_type after the select, which then needs pcu_type_id.
  const xv& asked = arg_or_nil(args, 1);
  bool with_protocols = asked.type() != xv::TYPE_ARRAY;
  bool drop_id = false;
  std::vector<xv> kept;
  if (asked.type() == xv::TYPE_ARRAY) {
    bool has_id = false;
    for (const auto& item : xmlrpc_c::value_array(asked).vectorValueValue()) {
      std::string name =
          item.type() == xv::TYPE_STRING ? xmlrpc_c::value_string(item).cvalue() : "";
      if (name == "pcu_protocol_types") {
        with_protocols = true;
        continue;
      }
      has_id = has_id || name == "pcu_type_id";
      kept.push_back(item);
    }
    if (with_protocols && !has_id) {
      kept.push_back(xmlrpc_c::value_string("pcu_type_id"));
      drop_id = true;
    }
  }
  const xv fields = asked.type() == xv::TYPE_ARRAY ? xv{xmlrpc_c::value_array(kept)} : asked;
  auto conn = ctx.svc.db->acquire();
  auto q = build_select(pcu_type_class(), normalize_filter(arg_or_nil(args, 0)), fields);
  auto rows = marshal_rows(q, conn->exec(q.sql, q.params));
  if (!with_protocols)
    return xmlrpc_c::value_array(rows);
  std::map<int, std::vector<xv>> protocols;
  auto res = conn->exec("SELECT pcu_type_id, pcu_protocol_type_id, port, protocol, supported"
                        " FROM pcu_protocol_type ORDER BY pcu_protocol_type_id");
  for (int r = 0; r < res.rows(); ++r)
    protocols[static_cast<int>(res.integer(r, 0))].push_back(
        xmlrpc_c::value_struct(std::map<std::string, xv>{
            {"pcu_protocol_type_id", xmlrpc_c::value_int(static_cast<int>(res.integer(r, 1)))},
            {"port", xmlrpc_c::value_int(static_cast<int>(res.integer(r, 2)))},
            {"protocol", xmlrpc_c::value_string(std::string{res.text(r, 3)})},
            {"supported", xmlrpc_c::value_boolean(res.boolean(r, 4))}}));
  std::vector<xv> out;
  for (const auto& row : rows) {
    auto members = xmlrpc_c::value_struct(row).cvalue();
    int type_id = xmlrpc_c::value_int(members.at("pcu_type_id")).cvalue();
    members.emplace("pcu_protocol_types", xmlrpc_c::value_array(protocols[type_id]));
    if (drop_id)
      members.erase("pcu_type_id");
    out.push_back(xmlrpc_c::value_struct(members));
  }
  return xmlrpc_c::value_array(out);
}

xv update_pcu_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_type_class(), args[1]);
  validate_model(values, false);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, pcu_type_class(), args[0]);
  unique_or_102("Model already in use",
                [&] { return update_row(*conn, pcu_type_class(), id, values); });
  ctx.touched("PCUType", id);
  return xmlrpc_c::value_int(1);
}

xv delete_pcu_type(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, pcu_type_class(), args[0]);
  conn->exec("DELETE FROM pcu_types WHERE pcu_type_id = $1", {std::to_string(id)});
  ctx.touched("PCUType", id);
  return xmlrpc_c::value_int(1);
}

// --- PCUProtocolTypes ---

void validate_protocol_type(store::connection& conn, const row_values& v) {
  if (const store::param* port = value_of(v, "port"); port && port->value() == "0")
    throw fault(fault_code::invalid_argument, "Port must be specified");
  if (const store::param* protocol = value_of(v, "protocol"); protocol && protocol->value().empty())
    throw fault(fault_code::invalid_argument, "protocol must be specified");
  if (const store::param* type = value_of(v, "pcu_type_id"))
    resolve_id(conn, pcu_type_class(), xmlrpc_c::value_int(std::stoi(type->value())));
}

xv add_pcu_protocol_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_protocol_type_class(), args[1]);
  if (!value_of(values, "port"))
    throw fault(fault_code::invalid_argument, "Must specify a port");
  if (!value_of(values, "protocol"))
    throw fault(fault_code::invalid_argument, "Missing mandatory field protocol");
  auto conn = ctx.svc.db->acquire();
  int type = resolve_id(*conn, pcu_type_class(), args[0]);
  values.set("pcu_type_id", std::to_string(type));
  validate_protocol_type(*conn, values);
  int id = unique_or_102("Port already in use",
                         [&] { return insert_row(*conn, pcu_protocol_type_class(), values); });
  ctx.touched("PCUProtocolType", id);
  return xmlrpc_c::value_int(id);
}

xv get_pcu_protocol_types(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, pcu_protocol_type_class(), normalize_filter(arg_or_nil(args, 0)),
                     arg_or_nil(args, 1));
}

xv update_pcu_protocol_type(call_context& ctx, const args_t& args) {
  auto values = writable_values(pcu_protocol_type_class(), args[1]);
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, pcu_protocol_type_class(), args[0]);
  validate_protocol_type(*conn, values);
  unique_or_102("Port already in use",
                [&] { return update_row(*conn, pcu_protocol_type_class(), id, values); });
  ctx.touched("PCUProtocolType", id);
  return xmlrpc_c::value_int(1);
}

xv delete_pcu_protocol_type(call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  int id = resolve_id(*conn, pcu_protocol_type_class(), args[0]);
  conn->exec("DELETE FROM pcu_protocol_type WHERE pcu_protocol_type_id = $1", {std::to_string(id)});
  ctx.touched("PCUProtocolType", id);
  return xmlrpc_c::value_int(1);
}

} // namespace

const store::class_desc& pcu_class() {
  static const store::class_desc cls = make_pcu_class();
  return cls;
}

const store::class_desc& pcu_type_class() {
  static const store::class_desc cls = make_pcu_type_class();
  return cls;
}

const store::class_desc& pcu_protocol_type_class() {
  static const store::class_desc cls = make_pcu_protocol_type_class();
  return cls;
}

void add_pcu_methods(dispatcher& d) {
  const param_spec pcu_id{"pcu_id", xml_type::integer};
  const param_spec return_fields{"return_fields", xml_type::any, true};
  const role_set everyone = {role::admin, role::pi, role::user, role::tech, role::node};
  d.add({"AddPCU",
         {role::admin, role::pi, role::tech},
         {{"site_id_or_login_base", xml_type::any}, {"pcu_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a PCU to a site (ip required). PIs and techs only at their sites. Returns the "
         "new pcu_id.",
         add_pcu});
  d.add({"GetPCUs",
         {role::admin, role::pi, role::tech, role::node},
         {{"pcu_filter", xml_type::any, true}, return_fields},
         xml_type::array,
         "Returns the PCUs matching the filter: admins all, others those at their sites.",
         get_pcus});
  d.add({"UpdatePCU",
         {role::admin, role::pi, role::tech},
         {pcu_id, {"pcu_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a PCU; non-admins only at their sites. Returns 1.",
         update_pcu});
  d.add({"DeletePCU",
         {role::admin, role::pi, role::tech},
         {pcu_id},
         xml_type::integer,
         "Deletes a PCU; non-admins only at their sites. Returns 1.",
         delete_pcu});
  d.add({"AddNodeToPCU",
         {role::admin, role::pi, role::tech},
         {{"node_id_or_hostname", xml_type::any}, pcu_id, {"port", xml_type::integer}},
         xml_type::integer,
         "Connects a node to a port of a PCU at the node's site; a node once per PCU, a port "
         "once per PCU. Non-admins only at their sites. Returns 1.",
         add_node_to_pcu});
  d.add({"DeleteNodeFromPCU",
         {role::admin, role::pi, role::tech},
         {{"node_id_or_hostname", xml_type::any}, pcu_id},
         xml_type::integer,
         "Disconnects a node from a PCU; no error if it was not connected. Non-admins only at "
         "their sites. Returns 1.",
         delete_node_from_pcu});
  d.add({"AddPCUType",
         {role::admin},
         {{"pcu_type_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a PCU type {model (required, unique), name}. Returns the new pcu_type_id.",
         add_pcu_type});
  d.add({"GetPCUTypes",
         everyone,
         {{"pcu_type_filter", xml_type::any, true}, return_fields},
         xml_type::array,
         "Returns PCU types (ids/models or a struct) with their protocol types.",
         get_pcu_types});
  d.add({"UpdatePCUType",
         {role::admin},
         {{"pcu_type_id", xml_type::integer}, {"pcu_type_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a PCU type. Returns 1.",
         update_pcu_type});
  d.add({"DeletePCUType",
         {role::admin},
         {{"pcu_type_id", xml_type::integer}},
         xml_type::integer,
         "Deletes a PCU type and its protocol types. Returns 1.",
         delete_pcu_type});
  d.add({"AddPCUProtocolType",
         {role::admin},
         {{"pcu_type_id_or_model", xml_type::any}, {"protocol_type_fields", xml_type::structure}},
         xml_type::integer,
         "Adds a port and protocol {port, protocol (required), supported} to a PCU type; a port "
         "is used once per type. Returns the new pcu_protocol_type_id.",
         add_pcu_protocol_type});
  d.add({"GetPCUProtocolTypes",
         everyone,
         {{"protocol_type_filter", xml_type::any, true}, return_fields},
         xml_type::array,
         "Returns PCU protocol types matching the filter.",
         get_pcu_protocol_types});
  d.add({"UpdatePCUProtocolType",
         {role::admin},
         {{"protocol_type_id", xml_type::integer}, {"protocol_type_fields", xml_type::structure}},
         xml_type::integer,
         "Updates a PCU protocol type. Returns 1.",
         update_pcu_protocol_type});
  d.add({"DeletePCUProtocolType",
         {role::admin},
         {{"protocol_type_id", xml_type::integer}},
         xml_type::integer,
         "Deletes a PCU protocol type. Returns 1.",
         delete_pcu_protocol_type});
}

} // namespace pl::plc::api
