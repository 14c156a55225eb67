#include "plc/api/boot.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/filter.hpp"
#include "plc/api/node_auth.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/sessions.hpp"
#include "plc/store/pool.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;
using member_map = std::map<std::string, xv>;

std::string strip(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto at = s.find(sep, start);
    out.push_back(s.substr(start, at - start));
    if (at == std::string::npos)
      return out;
    start = at + 1;
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// Python's %r of an id-or-hostname argument, for "No such node %r".
std::string python_repr(const xv& v) {
  if (v.type() == xv::TYPE_INT)
    return std::to_string(xmlrpc_c::value_int(v).cvalue());
  if (v.type() == xv::TYPE_STRING)
    return "'" + xmlrpc_c::value_string(v).cvalue() + "'";
  return "None";
}

/// Resolves a live node by id or hostname; 102 "No such node" otherwise
/// (`detail` adds the argument, as GetNodeFlavour's message does).
int find_node(store::connection& conn, const xv& id_or_hostname, bool detail = false) {
  std::optional<store::result> res;
  if (id_or_hostname.type() == xv::TYPE_INT)
    res.emplace(conn.exec("SELECT node_id FROM nodes WHERE node_id = $1 AND NOT deleted",
                          {std::to_string(xmlrpc_c::value_int(id_or_hostname).cvalue())}));
  else if (id_or_hostname.type() == xv::TYPE_STRING)
    res.emplace(conn.exec("SELECT node_id FROM nodes WHERE hostname = lower($1) AND NOT deleted",
                          {xmlrpc_c::value_string(id_or_hostname).cvalue()}));
  if (!res || res->rows() == 0)
    throw fault(fault_code::invalid_argument,
                detail ? "No such node " + python_repr(id_or_hostname) : "No such node");
  return static_cast<int>(res->integer(0, 0));
}

int calling_node(const call_context& ctx) {
  if (!ctx.who.node_id)
    throw fault(fault_code::invalid_argument, "Caller is expected to be a node");
  return *ctx.who.node_id;
}

/// Returns the string member `key` of a caller's struct, checked as PLCAPI's
/// type check does (string, at most `max` bytes); nullopt when absent.
std::optional<std::string> string_member(const member_map& m, const std::string& key,
                                         std::size_t max) {
  auto i = m.find(key);
  if (i == m.end())
    return std::nullopt;
  if (i->second.type() != xv::TYPE_STRING)
    throw fault::invalid_value(key, "expected string");
  std::string text = xmlrpc_c::value_string(i->second).cvalue();
  check_length(key, text, max);
  return text;
}

/// Reads an int argument the way Python's isinstance(x, int) accepts it:
/// an int or a boolean.
bool flag_arg(const xv& v, const std::string& name) {
  if (v.type() == xv::TYPE_INT)
    return xmlrpc_c::value_int(v).cvalue() != 0;
  if (v.type() == xv::TYPE_BOOLEAN)
    return xmlrpc_c::value_boolean(v).cvalue();
  throw fault::invalid_value(name, "expected int");
}

void check_run_level(store::connection& conn, const std::string& run_level) {
  if (conn.exec("SELECT 1 FROM run_levels WHERE run_level = $1", {run_level}).rows() == 0)
    throw fault(fault_code::invalid_argument, "Invalid run level '" + run_level + "'");
}

// --- BootGetNodeDetails ---

xv boot_get_node_details(call_context& ctx, const args_t&) {
  // PLCAPI declares BootAuth alone here: a session struct fails its type check.
  if (ctx.who.auth_method != "hmac" && ctx.who.auth_method != "hmac_dummybox")
    throw fault::invalid_value("auth", "'node_id' not specified");
  int node_id = calling_node(ctx);
  auto conn = ctx.svc.db->acquire();
  auto node = conn->exec("SELECT hostname, boot_state, coalesce(model, '') FROM nodes"
                         " WHERE node_id = $1 AND NOT deleted",
                         {std::to_string(node_id)});
  if (node.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such node");
  std::string boot_state{node.text(0, 1)};
  member_map details{
      {"hostname", xmlrpc_c::value_string(std::string{node.text(0, 0)})},
      {"boot_state", xmlrpc_c::value_string(boot_state)},
      // BootManager cannot unmarshal nil: "" instead, as PLCAPI does.
      {"model", xmlrpc_c::value_string(std::string{node.text(0, 2)})},
  };
  details.emplace("session",
                  xmlrpc_c::value_string(add_node_session(*conn, node_id, *ctx.svc.clock)));
  auto ids = conn->exec("SELECT interface_id FROM interfaces WHERE node_id = $1"
                        " ORDER BY interface_id",
                        {std::to_string(node_id)});
  if (ids.rows() > 0) {
    std::vector<xv> filter;
    for (int r = 0; r < ids.rows(); ++r)
      filter.push_back(xmlrpc_c::value_int(static_cast<int>(ids.integer(r, 0))));
    auto rows =
        get_objects(*conn, interface_class(), xmlrpc_c::value_array(filter), xmlrpc_c::value_nil());
    std::vector<xv> networks;
    for (const auto& row : xmlrpc_c::value_array(rows).vectorValueValue()) {
      member_map m;
      for (const auto& [field, value] : xmlrpc_c::value_struct(row).cvalue())
        m.emplace(field, value.type() == xv::TYPE_NIL ? xv{xmlrpc_c::value_string("")} : value);
      networks.push_back(xmlrpc_c::value_struct(m));
    }
    details.emplace("networks", xmlrpc_c::value_array(networks));
  }
  ctx.message = "Node request boot_state (" + boot_state + ") and networks";
  return xmlrpc_c::value_struct(details);
}

// --- BootUpdateNode ---

const std::set<std::string> boot_interface_fields = {"method",    "mac",     "gateway", "network",
                                                     "broadcast", "netmask", "dns1",    "dns2"};

xv boot_update_node(call_context& ctx, const args_t& args) {
  int node_id = calling_node(ctx);
  member_map fields = xmlrpc_c::value_struct(args[0]).cvalue();
  auto boot_state = string_member(fields, "boot_state", 20);
  auto ssh_host_key = string_member(fields, "ssh_host_key", 1024);
  auto ssh_rsa_key = string_member(fields, "ssh_rsa_key", 1024);
  std::optional<member_map> primary;
  std::optional<row_values> primary_values;
  if (auto p = fields.find("primary_network"); p != fields.end()) {
    if (p->second.type() != xv::TYPE_STRUCT)
      throw fault::invalid_value("primary_network", "expected struct");
    primary = xmlrpc_c::value_struct(p->second).cvalue();
    primary_values = writable_values(interface_class(), p->second, boot_interface_fields);
  }
  std::int64_t now = ctx.svc.clock->now_epoch();
  std::string now_s = std::to_string(now);
  std::string id = std::to_string(node_id);
  auto conn = ctx.svc.db->acquire();
  std::vector<std::string> changed;
  store::in_transaction(*conn, [&](store::connection& c) {
    auto node = c.exec("SELECT boot_state, ssh_rsa_key, extract(epoch from last_boot)::bigint,"
                       " extract(epoch from last_contact)::bigint,"
                       " extract(epoch from last_pcu_reboot)::bigint"
                       " FROM nodes WHERE node_id = $1 AND NOT deleted FOR UPDATE",
                       {id});
    if (node.rows() == 0)
      throw fault(fault_code::invalid_argument, "No such node");
    std::vector<std::pair<std::string, store::param>> sets;
    if (boot_state) {
      if (c.exec("SELECT 1 FROM boot_states WHERE boot_state = $1", {*boot_state}).rows() == 0)
        throw fault(fault_code::invalid_argument, "Invalid boot state '" + *boot_state + "'");
      if (node.text(0, 0) != *boot_state)
        changed.push_back("boot_state");
      sets.emplace_back("boot_state", *boot_state);
    }
    // BootManager 3.x sends ssh_host_key; the field is ssh_rsa_key. If both
    // come, ssh_rsa_key wins, as in PLCAPI.
    std::optional<std::string> stored_key = node.optional_text(0, 1);
    for (const auto* key : {&ssh_host_key, &ssh_rsa_key}) {
      if (!*key)
        continue;
      if (stored_key != **key)
        changed.push_back("ssh_rsa_key");
      stored_key = **key;
      sets.emplace_back("ssh_rsa_key", **key);
    }
    if (primary) {
      auto iid = primary->find("interface_id");
      if (iid == primary->end())
        throw fault(fault_code::invalid_argument, "Interface not specified");
      std::optional<store::result> owned;
      if (iid->second.type() == xv::TYPE_INT)
        owned.emplace(c.exec("SELECT is_primary FROM interfaces WHERE interface_id = $1"
                             " AND node_id = $2",
                             {std::to_string(xmlrpc_c::value_int(iid->second).cvalue()), id}));
      if (!owned || owned->rows() == 0)
        throw fault(fault_code::invalid_argument, "Interface not associated with calling node");
      if (!owned->boolean(0, 0))
        throw fault(fault_code::invalid_argument, "Not the primary interface on record");
      int interface_id = xmlrpc_c::value_int(iid->second).cvalue();
      std::string cols;
      for (const auto& [column, value] : primary_values->columns)
        cols += (cols.empty() ? "" : ", ") + column;
      if (!cols.empty()) {
        auto before = c.exec("SELECT " + cols + " FROM interfaces WHERE interface_id = $1",
                             {std::to_string(interface_id)});
        for (std::size_t k = 0; k < primary_values->columns.size(); ++k)
          if (before.optional_text(0, static_cast<int>(k)) != primary_values->columns[k].second)
            changed.push_back("Interface." + primary_values->columns[k].first);
        update_interface_row(c, node_id, interface_id, *primary_values, now_s);
      }
    }
    // A plain call (neither boot_state nor ssh_rsa_key) means the node has
    // booted and reached PLC: record the times, as PLCAPI does.
    if (!boot_state && !ssh_rsa_key) {
      if (!node.is_null(0, 2) && !node.is_null(0, 3)) {
        long long last_boot = node.integer(0, 2), last_contact = node.integer(0, 3);
        sets.emplace_back("last_time_spent_online", std::to_string(last_contact - last_boot));
        sets.emplace_back("last_time_spent_offline", std::to_string(now - last_contact));
        changed.push_back("last_time_spent_online");
        changed.push_back("last_time_spent_offline");
      }
      c.exec("UPDATE nodes SET last_contact = to_timestamp($2::bigint),"
             " last_boot = to_timestamp($2::bigint) WHERE node_id = $1",
             {id, now_s});
      // A PCU reboot within the last 20 minutes gets the credit for this boot.
      if (!node.is_null(0, 4) && node.integer(0, 4) >= now - 20 * 60)
        c.exec("UPDATE nodes SET last_pcu_confirmation = to_timestamp($2::bigint)"
               " WHERE node_id = $1",
               {id, now_s});
    }
    for (const auto& [column, value] : sets)
      c.exec("UPDATE nodes SET " + column + " = $2 WHERE node_id = $1", {id, value});
  });
  if (!changed.empty()) {
    std::string list;
    for (const auto& f : changed)
      list += (list.empty() ? "" : ", ") + f;
    ctx.message = "Boot updated: " + list;
    ctx.touched("Node", node_id);
  }
  return xmlrpc_c::value_int(1);
}

// --- BootNotifyOwners ---

xv boot_notify_owners(call_context& ctx, const args_t& args) {
  int node_id = calling_node(ctx);
  std::string message_id = xmlrpc_c::value_string(args[0]).cvalue();
  bool pis = flag_arg(args[1], "include_pis");
  bool techs = flag_arg(args[2], "include_techs");
  bool support = flag_arg(args[3], "include_support");
  bool sent = notify_node_owners(ctx, node_id, message_id, pis, techs, support);
  ctx.touched("Node", node_id);
  ctx.message = sent ? "Sent message " + message_id
                     : "Message " + message_id +
                           " not sent (no such enabled template, mail off,"
                           " or nobody to send it to)";
  return xmlrpc_c::value_int(1);
}

// --- GenerateNodeConfFile ---

xv generate_node_conf_file(call_context& ctx, const args_t& args) {
  bool regenerate = args.size() < 2 || xmlrpc_c::value_boolean(args[1]).cvalue();
  auto conn = ctx.svc.db->acquire();
  return store::in_transaction(*conn, [&](store::connection& c) {
    int node_id = find_node(c, args[0]);
    std::string id = std::to_string(node_id);
    auto node =
        c.exec("SELECT hostname, site_id, key FROM nodes WHERE node_id = $1 FOR UPDATE", {id});
    if (!can_manage_nodes(c, ctx.who, static_cast<int>(node.integer(0, 1))))
      throw fault(fault_code::permission_denied,
                  "Not allowed to generate a configuration file for that node");
    auto ifs = c.exec("SELECT is_primary, method, ip, mac, gateway, network, broadcast, netmask,"
                      " dns1, dns2 FROM interfaces WHERE node_id = $1 ORDER BY interface_id",
                      {id});
    int primary = -1;
    for (int r = 0; r < ifs.rows() && primary < 0; ++r)
      if (ifs.boolean(r, 0))
        primary = r;
    if (primary < 0)
      throw fault(fault_code::invalid_argument, "No primary network configured");
    std::string hostname{node.text(0, 0)};
    auto dot = hostname.find('.');
    if (dot == std::string::npos)
      throw fault(fault_code::invalid_argument, "Node hostname is invalid");
    // Python's "%s" of a missing value.
    auto text = [](const store::result& res, int r, int col) {
      return res.is_null(r, col) ? std::string{"None"} : std::string{res.text(r, col)};
    };
    std::string key = text(node, 0, 2);
    if (regenerate) {
      key = new_node_key();
      c.exec("UPDATE nodes SET key = $2 WHERE node_id = $1", {id, key});
    }
    std::ostringstream file;
    auto line = [&](const char* name, const std::string& value) {
      file << name << "=\"" << value << "\"\n";
    };
    line("NODE_ID", id);
    line("NODE_KEY", key);
    if (!ifs.is_null(primary, 3) && !ifs.text(primary, 3).empty())
      line("NET_DEVICE", lower(std::string{ifs.text(primary, 3)}));
    std::string method{ifs.text(primary, 1)};
    line("IP_METHOD", method);
    if (method == "static") {
      line("IP_ADDRESS", text(ifs, primary, 2));
      line("IP_GATEWAY", text(ifs, primary, 4));
      line("IP_NETMASK", text(ifs, primary, 7));
      line("IP_NETADDR", text(ifs, primary, 5));
      line("IP_BROADCASTADDR", text(ifs, primary, 6));
      line("IP_DNS1", text(ifs, primary, 8));
      line("IP_DNS2", ifs.is_null(primary, 9) ? std::string{} : std::string{ifs.text(primary, 9)});
    }
    line("HOST_NAME", hostname.substr(0, dot));
    line("DOMAIN_NAME", hostname.substr(dot + 1));
    for (int r = 0; r < ifs.rows(); ++r) {
      if (ifs.text(r, 1) != "ipmi")
        continue;
      line("IPMI_ADDRESS", text(ifs, r, 2));
      if (!ifs.is_null(r, 3) && !ifs.text(r, 3).empty())
        line("IPMI_MAC", lower(std::string{ifs.text(r, 3)}));
      break;
    }
    ctx.touched("Node", node_id);
    if (regenerate)
      ctx.message = "Node " + id + " key regenerated";
    return xv{xmlrpc_c::value_string(file.str())};
  });
}

// --- GetNodeFlavour ---

/// Sets node tag `tagname` of `node_id` to `value`, making the tag type if it
/// is gone (PLCAPI's accessors create their tag types on use).
void set_node_tag(store::connection& c, int node_id, const std::string& tagname,
                  const std::string& value) {
  c.exec("INSERT INTO tag_types (tagname, category, description)"
         " VALUES ($1, 'node/slice/config', $1) ON CONFLICT (tagname) DO NOTHING",
         {tagname});
  c.exec("INSERT INTO node_tag (node_id, tag_type_id, value)"
         " SELECT $1, tag_type_id, $3 FROM tag_types WHERE tagname = $2"
         " ON CONFLICT (node_id, tag_type_id) DO UPDATE SET value = EXCLUDED.value",
         {std::to_string(node_id), tagname, value});
}

xv get_node_flavour(call_context& ctx, const args_t& args, const flavour_defaults& defaults) {
  auto conn = ctx.svc.db->acquire();
  return store::in_transaction(*conn, [&](store::connection& c) {
    int node_id = find_node(c, args[0], true);
    auto res = c.exec("SELECT tt.tagname, nt.value FROM node_tag nt"
                      " JOIN tag_types tt ON tt.tag_type_id = nt.tag_type_id"
                      " WHERE nt.node_id = $1 AND tt.tagname IN ('arch', 'fcdistro', 'pldistro',"
                      " 'virt', 'deployment', 'extensions', 'plain-bootstrapfs')",
                      {std::to_string(node_id)});
    std::map<std::string, std::optional<std::string>> tags;
    for (int r = 0; r < res.rows(); ++r)
      tags[std::string{res.text(r, 0)}] = res.optional_text(r, 1);
    auto tag = [&](const std::string& name) {
      auto i = tags.find(name);
      return i == tags.end() || !i->second ? std::string{} : *i->second;
    };
    // Unset arch, fcdistro and pldistro take the configured default and are
    // recorded on the node, so a later change of the default leaves it as is.
    auto with_default = [&](const std::string& name, const std::string& fallback) {
      std::string v = tag(name);
      if (v.empty() && !fallback.empty()) {
        v = fallback;
        set_node_tag(c, node_id, name, v);
      }
      return v;
    };
    std::string arch = with_default("arch", defaults.node_arch);
    std::string fcdistro = with_default("fcdistro", defaults.node_fcdistro);
    std::string pldistro = with_default("pldistro", defaults.node_pldistro);
    std::string virt = tag("virt");
    if (virt.empty())
      virt = virt_from_map(defaults.virt_map, fcdistro); // not recorded, as in PLCAPI
    std::string nodefamily = tag("deployment");
    if (nodefamily.empty())
      nodefamily = pldistro + "-" + fcdistro + "-" + arch;
    std::vector<xv> extensions;
    std::istringstream words{tag("extensions")};
    for (std::string e; words >> e;)
      extensions.push_back(xmlrpc_c::value_string(e + "-" + fcdistro + "-" + arch));
    return xv{xmlrpc_c::value_struct(member_map{
        {"arch", xmlrpc_c::value_string(arch)},
        {"fcdistro", xmlrpc_c::value_string(fcdistro)},
        {"pldistro", xmlrpc_c::value_string(pldistro)},
        {"virt", xmlrpc_c::value_string(virt)},
        {"nodefamily", xmlrpc_c::value_string(nodefamily)},
        {"extensions", xmlrpc_c::value_array(extensions)},
        // Any non-empty value means yes (Python's truth of a string).
        {"plain", xmlrpc_c::value_boolean(!tag("plain-bootstrapfs").empty())},
    })};
  });
}

// --- ReportRunlevel ---

xv report_runlevel(call_context& ctx, const args_t& args) {
  member_map fields = xmlrpc_c::value_struct(args[0]).cvalue();
  auto run_level = string_member(fields, "run_level", 20);
  auto conn = ctx.svc.db->acquire();
  int node_id = 0;
  if (ctx.who.node_id) {
    node_id = *ctx.who.node_id; // a node reports for itself, whatever it names
  } else {
    if (!is_admin(ctx.who))
      throw fault(fault_code::permission_denied, "Not allowed to update node run_level");
    node_id = find_node(*conn, arg_or_nil(args, 1));
  }
  if (run_level)
    check_run_level(*conn, *run_level);
  std::string id = std::to_string(node_id), now = now_text(ctx);
  if (run_level)
    conn->exec("UPDATE nodes SET last_contact = to_timestamp($2::bigint), run_level = $3"
               " WHERE node_id = $1 AND NOT deleted",
               {id, now, *run_level});
  else
    conn->exec("UPDATE nodes SET last_contact = to_timestamp($2::bigint)"
               " WHERE node_id = $1 AND NOT deleted",
               {id, now});
  return xmlrpc_c::value_int(1);
}

} // namespace

std::string virt_from_map(const std::string& virt_map, const std::string& fcdistro) {
  static const char* fallback = "vs";
  std::map<std::string, std::string> map;
  for (const auto& entry : split(virt_map, ';')) {
    auto sides = split(strip(entry), ':');
    if (sides.size() != 2) {
      // PLCAPI gives up on the whole map at the first malformed entry.
      spdlog::error("plc.api event=bad_virt_map virt_map=\"{}\"", virt_map);
      return fallback;
    }
    std::string virt = strip(sides[1]);
    if (virt != "vs" && virt != "lxc") {
      spdlog::warn("plc.api event=unknown_virt virt={}", virt);
      continue;
    }
    for (const auto& fc : split(strip(sides[0]), ','))
      map[strip(fc)] = virt;
  }
  if (auto i = map.find(fcdistro); i != map.end())
    return i->second;
  if (auto i = map.find("default"); i != map.end())
    return i->second;
  return fallback;
}

std::string new_node_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("no random bytes for a node key");
  std::string out(4 * ((sizeof bytes + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes,
                            static_cast<int>(sizeof bytes));
  out.resize(static_cast<std::size_t>(len));
  std::erase(out, '=');
  return out;
}

void add_boot_methods(dispatcher& d, flavour_defaults flavour) {
  const role_set everyone{role::admin, role::pi, role::user, role::tech, role::node};
  d.add({"BootCheckAuthentication",
         everyone,
         {},
         xml_type::integer,
         "Deprecated. See AuthCheck. Returns 1 if the user or node authenticated successfully, "
         "faults otherwise.",
         [](call_context&, const args_t&) -> xv { return xmlrpc_c::value_int(1); },
         event_mode::never});
  d.add({"BootGetNodeDetails",
         {role::node},
         {},
         xml_type::structure,
         "Returns the calling node's hostname, boot_state, model, a new node session, and its "
         "interfaces as networks (nil values as \"\"). hmac auth only.",
         boot_get_node_details});
  d.add({"BootUpdateNode",
         {role::node},
         {{"node_fields", xml_type::structure}},
         xml_type::integer,
         "Lets the calling node update its boot_state, ssh_rsa_key (also as ssh_host_key) and "
         "primary_network (interface_id plus method, mac, gateway, network, broadcast, netmask, "
         "dns1, dns2; not the IP address). Without boot_state and ssh_rsa_key the call records "
         "that the node booted (last_boot, last_contact, the time spent on- and offline). "
         "Returns 1.",
         boot_update_node,
         event_mode::on_change});
  d.add({"BootNotifyOwners",
         {role::node},
         {{"message_id", xml_type::string},
          {"include_pis", xml_type::any},
          {"include_techs", xml_type::any},
          {"include_support", xml_type::any}},
         xml_type::integer,
         "Mails the message template message_id about the calling node to the boot address "
         "and, as asked, the PIs and techs of its site and support. Returns 1.",
         boot_notify_owners});
  d.add({"GenerateNodeConfFile",
         {role::admin, role::pi, role::tech},
         {{"node_id_or_hostname", xml_type::any}, {"regenerate_node_key", xml_type::boolean, true}},
         xml_type::string,
         "Returns the node configuration file (plnode.txt) of a node with a primary interface; "
         "by default makes a new node key first, invalidating older files. Non-admins only for "
         "nodes at their sites.",
         generate_node_conf_file});
  d.add({"GetNodeFlavour",
         {role::admin, role::user, role::node},
         {{"node_id_or_name", xml_type::any}},
         xml_type::structure,
         "Returns a node's flavour: arch, fcdistro, pldistro (node tags, else the configured "
         "defaults, then recorded as tags), virt (tag, else from the virt map), nodefamily "
         "(deployment tag, else pldistro-fcdistro-arch), extensions, plain.",
         [flavour](call_context& ctx, const args_t& args) {
           return get_node_flavour(ctx, args, flavour);
         }});
  d.add({"ReportRunlevel",
         {role::node, role::admin},
         {{"report_fields", xml_type::structure}, {"node_id_or_hostname", xml_type::any, true}},
         xml_type::integer,
         "Records a node's run_level and that it contacted PLC. A node reports for itself; an "
         "admin names the node. Returns 1.",
         report_runlevel,
         event_mode::never});
}

} // namespace pl::plc::api
