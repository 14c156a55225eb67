#include "plc/api/slivers.hpp"

#include "plc/api/conf_files.hpp"
#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/roles.hpp"
#include "plc/store/pool.hpp"

#include "actors/clock.hpp"
#include "actors/resources.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>

namespace pl::plc::api {

namespace {

using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

// Ids as a PostgreSQL array literal, bound as one parameter ("{1,2,3}").
std::string id_array(const std::vector<int>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

std::vector<int> int_column(const store::result& res, int col = 0) {
  std::vector<int> out;
  out.reserve(res.rows());
  for (int r = 0; r < res.rows(); ++r)
    out.push_back(static_cast<int>(res.integer(r, col)));
  return out;
}

// One slice tag as read for a set of nodes.
struct tag_row {
  int slice_id;
  std::optional<int> node_id;
  std::optional<int> nodegroup_id;
  std::string tagname;
  std::string value;
};

// Resolves the tags of one slice on one node into HEAD's precedence order,
// each name from its highest scope only.
std::vector<std::pair<std::string, std::string>>
resolve_tags(const std::vector<const tag_row*>& tags, int node_id, const std::set<int>& groups) {
  enum scope { sliver = 0, group = 1, global = 2, none = 3 };
  auto scope_of = [&](const tag_row& t) {
    if (t.node_id)
      return *t.node_id == node_id ? sliver : none;
    if (t.nodegroup_id)
      return groups.contains(*t.nodegroup_id) ? group : none;
    return global;
  };
  std::map<std::string, int> best; // tagname -> highest scope present
  for (const tag_row* t : tags) {
    int s = scope_of(*t);
    if (s == none)
      continue;
    auto [i, fresh] = best.emplace(t->tagname, s);
    if (!fresh)
      i->second = std::min(i->second, s);
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::pair<std::string, std::string>> seen;
  for (int s : {sliver, group, global})
    for (const tag_row* t : tags) {
      if (scope_of(*t) != s || best[t->tagname] != s)
        continue;
      // A resource is one number: its first value in the scope wins.
      if (is_resource(t->tagname) &&
          std::any_of(out.begin(), out.end(), [&](const auto& a) { return a.first == t->tagname; }))
        continue;
      if (seen.emplace(t->tagname, t->value).second)
        out.emplace_back(t->tagname, t->value);
    }
  return out;
}

} // namespace

std::map<int, std::vector<sliver_view>> load_slivers(store::connection& conn,
                                                     const std::vector<int>& slice_ids,
                                                     const std::vector<int>& node_ids,
                                                     std::int64_t now) {
  std::map<int, std::vector<sliver_view>> out;
  if (node_ids.empty())
    return out;
  for (int node_id : node_ids)
    out[node_id];
  if (slice_ids.empty())
    return out;
  const std::string slices = id_array(slice_ids), nodes = id_array(node_ids);

  auto slice_rows = conn.exec(
      "SELECT slice_id, name, instantiation, extract(epoch FROM expires)::bigint FROM slices"
      " WHERE slice_id = ANY($1::integer[]) AND NOT deleted AND expires > to_timestamp($2::bigint)"
      " ORDER BY name",
      {slices, std::to_string(now)});
  std::vector<sliver_view> views;
  std::map<int, std::size_t> index;
  for (int r = 0; r < slice_rows.rows(); ++r) {
    sliver_view v;
    v.slice_id = static_cast<int>(slice_rows.integer(r, 0));
    v.name = slice_rows.text(r, 1);
    v.instantiation = slice_rows.text(r, 2);
    v.expires = slice_rows.integer(r, 3);
    index[v.slice_id] = views.size();
    views.push_back(std::move(v));
  }

  auto keys = conn.exec(
      "SELECT sp.slice_id, k.key_type, k.key FROM slice_person sp"
      " JOIN persons p ON p.person_id = sp.person_id AND p.enabled AND NOT p.deleted"
      " JOIN person_key pk ON pk.person_id = p.person_id"
      " JOIN keys k ON k.key_id = pk.key_id AND NOT k.is_blacklisted"
      " WHERE sp.slice_id = ANY($1::integer[]) ORDER BY sp.slice_id, p.person_id, k.key_id",
      {slices});
  for (int r = 0; r < keys.rows(); ++r)
    if (auto i = index.find(static_cast<int>(keys.integer(r, 0))); i != index.end())
      views[i->second].keys.emplace_back(keys.text(r, 1), keys.text(r, 2));

  auto group_rows = conn.exec("SELECT node_id, nodegroup_id FROM nodegroup_node"
                              " WHERE node_id = ANY($1::integer[])",
                              {nodes});
  std::map<int, std::set<int>> groups;
  for (int r = 0; r < group_rows.rows(); ++r)
    groups[static_cast<int>(group_rows.integer(r, 0))].insert(
        static_cast<int>(group_rows.integer(r, 1)));

  auto tag_rows =
      conn.exec("SELECT st.slice_id, st.node_id, st.nodegroup_id, tt.tagname, st.value"
                " FROM slice_tag st JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id"
                " WHERE st.slice_id = ANY($1::integer[]) AND ("
                "   (st.node_id IS NULL AND st.nodegroup_id IS NULL)"
                "   OR st.node_id = ANY($2::integer[])"
                "   OR st.nodegroup_id IN (SELECT nodegroup_id FROM nodegroup_node"
                "                          WHERE node_id = ANY($2::integer[])))"
                " ORDER BY st.slice_tag_id",
                {slices, nodes});
  std::vector<tag_row> tags;
  tags.reserve(tag_rows.rows());
  for (int r = 0; r < tag_rows.rows(); ++r) {
    auto opt_int = [&](int col) -> std::optional<int> {
      if (tag_rows.is_null(r, col))
        return std::nullopt;
      return static_cast<int>(tag_rows.integer(r, col));
    };
    tags.push_back({static_cast<int>(tag_rows.integer(r, 0)), opt_int(1), opt_int(2),
                    std::string(tag_rows.text(r, 3)), std::string(tag_rows.text(r, 4))});
  }
  std::map<int, std::vector<const tag_row*>> tags_of_slice;
  for (const auto& t : tags)
    tags_of_slice[t.slice_id].push_back(&t);

  static const std::set<int> no_groups;
  for (int node_id : node_ids) {
    auto g = groups.find(node_id);
    const auto& node_groups = g == groups.end() ? no_groups : g->second;
    auto& list = out[node_id];
    list.reserve(views.size());
    for (const auto& v : views) {
      sliver_view sv = v;
      sv.attributes = resolve_tags(tags_of_slice[v.slice_id], node_id, node_groups);
      list.push_back(std::move(sv));
    }
  }
  return out;
}

std::vector<int> slices_for_node(store::connection& conn, int node_id, std::int64_t now) {
  return int_column(
      conn.exec("SELECT s.slice_id FROM slices s"
                " WHERE NOT s.deleted AND s.expires > to_timestamp($2::bigint) AND ("
                "   s.slice_id IN (SELECT slice_id FROM slice_node WHERE node_id = $1::integer)"
                "   OR s.instantiation IN ('delegated', 'nm-controller')"
                "   OR s.slice_id IN (SELECT st.slice_id FROM slice_tag st JOIN tag_types tt"
                "                     ON tt.tag_type_id = st.tag_type_id"
                "                     WHERE tt.tagname = 'system' AND st.value = '1'"
                "                       AND st.node_id IS NULL AND st.nodegroup_id IS NULL))"
                " ORDER BY s.slice_id",
                {std::to_string(node_id), std::to_string(now)}));
}

std::vector<int> nodes_for_slice(store::connection& conn, int slice_id, std::int64_t now) {
  return int_column(conn.exec(
      "WITH s AS (SELECT slice_id, instantiation IN ('delegated', 'nm-controller')"
      "   OR EXISTS (SELECT 1 FROM slice_tag st JOIN tag_types tt ON tt.tag_type_id = "
      "st.tag_type_id"
      "              WHERE st.slice_id = slices.slice_id AND tt.tagname = 'system'"
      "                AND st.value = '1' AND st.node_id IS NULL AND st.nodegroup_id IS NULL)"
      "   AS everywhere FROM slices"
      "   WHERE slice_id = $1::integer AND NOT deleted AND expires > to_timestamp($2::bigint))"
      " SELECT n.node_id FROM nodes n, s WHERE NOT n.deleted AND (s.everywhere OR n.node_id IN"
      "   (SELECT node_id FROM slice_node sn WHERE sn.slice_id = s.slice_id))"
      " ORDER BY n.node_id",
      {std::to_string(slice_id), std::to_string(now)}));
}

std::vector<int> live_slice_ids(store::connection& conn, std::int64_t now) {
  return int_column(conn.exec(
      "SELECT slice_id FROM slices WHERE NOT deleted AND expires > to_timestamp($1::bigint)"
      " AND instantiation <> 'not-instantiated' ORDER BY slice_id",
      {std::to_string(now)}));
}

std::optional<sliver_spec> to_sliver_spec(const sliver_view& view, int node_id,
                                          const std::vector<named_script>& scripts,
                                          std::string* why) {
  sliver_spec spec;
  spec.name = view.name;
  spec.slice_id = view.slice_id;
  spec.node_id = node_id;
  spec.instantiation = view.instantiation;
  spec.expires = view.expires;
  for (const auto& [type, key] : view.keys)
    spec.keys.push_back(key);
  if (auto problem = apply_sliver_tags(spec, view.attributes, scripts)) {
    if (why != nullptr)
      *why = *problem;
    return std::nullopt;
  }
  return spec;
}

std::vector<named_script> enabled_initscripts(store::connection& conn) {
  auto res = conn.exec(
      "SELECT initscript_id, name, script FROM initscripts WHERE enabled ORDER BY initscript_id");
  std::vector<named_script> out;
  for (int r = 0; r < res.rows(); ++r)
    out.push_back({static_cast<std::int32_t>(res.integer(r, 0)), std::string(res.text(r, 1)),
                   std::string(res.text(r, 2))});
  return out;
}

namespace {

xv str(std::string_view s) {
  return xmlrpc_c::value_string(std::string(s));
}

xv key_list(const std::vector<std::pair<std::string, std::string>>& keys) {
  std::vector<xv> out;
  for (const auto& [type, key] : keys)
    out.push_back(xmlrpc_c::value_struct({{"key_type", str(type)}, {"key", str(key)}}));
  return xmlrpc_c::value_array(out);
}

// GetSliceFamily: vref (or pldistro), fcdistro and arch from the sliver's
// tags, else the configured defaults.
std::string slice_family(const sliver_view& v, const slice_family_defaults& d) {
  auto tag = [&](const char* name) -> std::string {
    for (const auto& [n, value] : v.attributes)
      if (n == name && !value.empty())
        return value;
    return {};
  };
  std::string pldistro = tag("vref");
  if (pldistro.empty())
    pldistro = tag("pldistro");
  if (pldistro.empty())
    pldistro = d.pldistro;
  std::string fcdistro = tag("fcdistro"), arch = tag("arch");
  return pldistro + "-" + (fcdistro.empty() ? d.fcdistro : fcdistro) + "-" +
         (arch.empty() ? d.arch : arch);
}

// The node a GetSlivers call is about: the argument, or the calling node.
std::pair<int, std::string> target_node(store::connection& conn, const call_context& ctx,
                                        const args_t& args) {
  const xv& arg = arg_or_nil(args, 0);
  std::string id, hostname;
  if (arg.type() == xv::TYPE_NIL) {
    if (!ctx.who.node_id)
      throw fault(fault_code::invalid_argument, "'node_id_or_hostname' not specified");
    id = std::to_string(*ctx.who.node_id);
  } else if (arg.type() == xv::TYPE_INT) {
    id = std::to_string(xmlrpc_c::value_int(arg).cvalue());
  } else if (arg.type() == xv::TYPE_STRING) {
    hostname = xmlrpc_c::value_string(arg).cvalue();
  } else {
    throw fault(fault_code::invalid_argument, "node_id_or_hostname: expected int or string");
  }
  auto res = conn.exec("SELECT node_id, hostname FROM nodes WHERE NOT deleted AND"
                       " (node_id = $1::integer OR lower(hostname) = lower($2))",
                       {id.empty() ? store::param{} : store::param{id},
                        hostname.empty() ? store::param{} : store::param{hostname}});
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such node");
  int node_id = static_cast<int>(res.integer(0, 0));
  if (ctx.who.node_id && *ctx.who.node_id != node_id &&
      std::find(ctx.who.roles.begin(), ctx.who.roles.end(), role::admin) == ctx.who.roles.end())
    throw fault(fault_code::permission_denied, "A node may only ask for its own slivers");
  return {node_id, std::string(res.text(0, 1))};
}

// The ssh keys of HEAD's special accounts: site_admin (the site's enabled PIs
// and techs) and root (every enabled admin, plus the site's PIs and techs
// tagged isrootonsite=true).
xv accounts(store::connection& conn, int node_id) {
  auto res = conn.exec(
      "WITH site AS (SELECT site_id FROM nodes WHERE node_id = $1::integer),"
      " staff AS (SELECT DISTINCT p.person_id FROM persons p"
      "   JOIN person_site ps ON ps.person_id = p.person_id AND ps.site_id = (SELECT site_id FROM "
      "site)"
      "   JOIN person_role pr ON pr.person_id = p.person_id AND pr.role_id IN (20, 40)"
      "   WHERE p.enabled AND NOT p.deleted),"
      " admins AS (SELECT DISTINCT p.person_id FROM persons p"
      "   JOIN person_role pr ON pr.person_id = p.person_id AND pr.role_id = 10"
      "   WHERE p.enabled AND NOT p.deleted),"
      " onsite AS (SELECT s.person_id FROM staff s JOIN person_tag pt ON pt.person_id = s.person_id"
      "   JOIN tag_types tt ON tt.tag_type_id = pt.tag_type_id"
      "   WHERE tt.tagname = 'isrootonsite' AND pt.value = 'true'),"
      " holders AS (SELECT 'site_admin' AS account, person_id, 0 AS rank FROM staff"
      "   UNION ALL SELECT 'root', person_id, 0 FROM admins"
      "   UNION ALL SELECT 'root', person_id, 1 FROM onsite)"
      " SELECT h.account, k.key FROM holders h JOIN person_key pk ON pk.person_id = h.person_id"
      " JOIN keys k ON k.key_id = pk.key_id AND k.key_type = 'ssh' AND NOT k.is_blacklisted"
      " ORDER BY h.account DESC, h.rank, h.person_id, k.key_id",
      {std::to_string(node_id)});
  std::map<std::string, std::vector<xv>> keys{{"site_admin", {}}, {"root", {}}};
  std::set<std::pair<std::string, std::string>> seen;
  for (int r = 0; r < res.rows(); ++r) {
    std::string account(res.text(r, 0)), key(res.text(r, 1));
    if (seen.emplace(account, key).second)
      keys[account].push_back(str(key));
  }
  return xmlrpc_c::value_array(
      {xmlrpc_c::value_struct(
           {{"name", str("site_admin")}, {"keys", xmlrpc_c::value_array(keys["site_admin"])}}),
       xmlrpc_c::value_struct(
           {{"name", str("root")}, {"keys", xmlrpc_c::value_array(keys["root"])}})});
}

// The reply for node `node_id` at `now`, all but its timestamp, and until when it holds
// without a write (the earliest sliver expiry or lease boundary, at most a minute).
std::pair<std::map<std::string, xv>, std::int64_t>
build_reply(store::connection& conn_ref, int node_id, const std::string& hostname, std::int64_t now,
            const get_slivers_options& options) {
  auto* conn = &conn_ref;
  std::int64_t valid_until = now + 60;

  auto node = conn->exec(
      "SELECT n.node_type,"
      " (SELECT nt.value FROM node_tag nt JOIN tag_types tt ON tt.tag_type_id = nt.tag_type_id"
      "  WHERE nt.node_id = n.node_id AND tt.tagname = 'hrn' LIMIT 1)"
      " FROM nodes n WHERE n.node_id = $1::integer",
      {std::to_string(node_id)});
  const std::string node_type(node.text(0, 0));
  const std::optional<std::string> hrn = node.optional_text(0, 1);

  xmlrpc_c::value_struct node_filter({{"node_id", xmlrpc_c::value_int(node_id)}});
  xv interfaces = get_objects(*conn, interface_class(), node_filter, xmlrpc_c::value_nil());

  auto group_rows = conn->exec("SELECT ng.nodegroup_id, ng.groupname FROM nodegroup_node nn"
                               " JOIN nodegroups ng ON ng.nodegroup_id = nn.nodegroup_id"
                               " WHERE nn.node_id = $1::integer ORDER BY ng.groupname",
                               {std::to_string(node_id)});
  std::vector<xv> groups;
  std::set<int> group_ids;
  for (int r = 0; r < group_rows.rows(); ++r) {
    group_ids.insert(static_cast<int>(group_rows.integer(r, 0)));
    groups.push_back(str(group_rows.text(r, 1)));
  }

  // Configuration files: global ones, overridden per dest by the node's
  // groups', overridden by the node's own.
  xmlrpc_c::value_struct enabled_filter({{"enabled", xmlrpc_c::value_boolean(true)}});
  xmlrpc_c::value_array all_files(
      get_objects(*conn, conf_file_class(), enabled_filter, xmlrpc_c::value_nil()));
  std::map<std::string, std::pair<int, xv>> by_dest; // dest -> (precedence, file)
  for (const xv& f : all_files.vectorValueValue()) {
    auto fields = xmlrpc_c::value_struct(f).cvalue();
    auto ids = [&](const char* name) {
      std::vector<int> out;
      for (const xv& id : xmlrpc_c::value_array(fields.at(name)).vectorValueValue())
        out.push_back(xmlrpc_c::value_int(id).cvalue());
      return out;
    };
    auto nodes = ids("node_ids"), file_groups = ids("nodegroup_ids");
    int rank = -1;
    if (nodes.empty() && file_groups.empty())
      rank = 0;
    if (std::any_of(file_groups.begin(), file_groups.end(),
                    [&](int g) { return group_ids.contains(g); }))
      rank = 1;
    if (std::find(nodes.begin(), nodes.end(), node_id) != nodes.end())
      rank = 2;
    if (rank < 0)
      continue;
    std::string dest = xmlrpc_c::value_string(fields.at("dest")).cvalue();
    auto i = by_dest.find(dest);
    if (i == by_dest.end() || i->second.first <= rank)
      by_dest[dest] = {rank, f};
  }
  std::vector<xv> conf_files;
  for (auto& [dest, entry] : by_dest)
    conf_files.push_back(entry.second);

  std::vector<xv> initscripts;
  for (const auto& script : enabled_initscripts(*conn))
    initscripts.push_back(
        xmlrpc_c::value_struct({{"initscript_id", xmlrpc_c::value_int(script.initscript_id)},
                                {"name", str(script.name)},
                                {"enabled", xmlrpc_c::value_boolean(true)},
                                {"script", str(script.script)}}));

  auto slice_ids = slices_for_node(*conn, node_id, now);
  auto views = load_slivers(*conn, slice_ids, {node_id}, now)[node_id];
  std::vector<xv> slivers;
  for (const auto& v : views) {
    valid_until = std::min(valid_until, v.expires);
    std::vector<xv> attributes;
    for (const auto& [name, value] : v.attributes)
      attributes.push_back(xmlrpc_c::value_struct({{"tagname", str(name)}, {"value", str(value)}}));
    slivers.push_back(xmlrpc_c::value_struct(
        {{"name", str(v.name)},
         {"slice_id", xmlrpc_c::value_int(v.slice_id)},
         {"instantiation", str(v.instantiation)},
         // XML-RPC ints are 32 bits; the original clipped too.
         {"expires", xmlrpc_c::value_int(static_cast<int>(std::min<std::int64_t>(
                         v.expires, std::numeric_limits<std::int32_t>::max())))},
         {"keys", key_list(v.keys)},
         {"attributes", xmlrpc_c::value_array(attributes)},
         {"GetSliceFamily", str(slice_family(v, options.family))}}));
  }

  const bool reservable = node_type == "reservable";
  auto leases = [&]() -> xv {
    if (!reservable)
      return xmlrpc_c::value_nil();
    auto rows = conn->exec("SELECT l.slice_id, extract(epoch FROM l.t_from)::bigint,"
                           " extract(epoch FROM l.t_until)::bigint, s.name FROM leases l"
                           " JOIN slices s ON s.slice_id = l.slice_id AND NOT s.deleted"
                           " WHERE l.node_id = $1::integer AND l.t_until > to_timestamp($2::bigint)"
                           "   AND l.t_from < to_timestamp($2::bigint + 86400) ORDER BY l.t_from",
                           {std::to_string(node_id), std::to_string(now)});
    std::vector<xv> list;
    for (int r = 0; r < rows.rows(); ++r) {
      valid_until = std::min(valid_until, std::max<std::int64_t>(rows.integer(r, 1), now + 1));
      list.push_back(xmlrpc_c::value_struct(
          {{"slice_id", xmlrpc_c::value_int(static_cast<int>(rows.integer(r, 0)))},
           {"t_from", xmlrpc_c::value_int(static_cast<int>(rows.integer(r, 1)))},
           {"t_until", xmlrpc_c::value_int(static_cast<int>(rows.integer(r, 2)))},
           {"name", str(rows.text(r, 3))}}));
    }
    return xmlrpc_c::value_array(list);
  }();
  // HEAD supports two policies: none, and lease_or_idle on reservable nodes.
  const std::string policy = reservable ? "lease_or_idle" : "none";

  xv xmpp_server =
      options.xmpp_server.empty() ? xv(xmlrpc_c::value_nil()) : str(options.xmpp_server);
  std::map<std::string, xv> reply{
      {"node_id", xmlrpc_c::value_int(node_id)},
      {"hostname", str(hostname)},
      {"interfaces", interfaces},
      {"groups", xmlrpc_c::value_array(groups)},
      {"conf_files", xmlrpc_c::value_array(conf_files)},
      {"initscripts", xmlrpc_c::value_array(initscripts)},
      {"slivers", xmlrpc_c::value_array(slivers)},
      {"accounts", accounts(*conn, node_id)},
      {"xmpp", xmlrpc_c::value_struct({{"server", xmpp_server}})},
      {"hrn", hrn ? str(*hrn) : xv(xmlrpc_c::value_nil())},
      {"reservation_policy", str(policy)},
      {"leases", leases},
      {"lease_granularity", xmlrpc_c::value_int(static_cast<int>(options.lease_granularity))},
  };
  return {std::move(reply), valid_until};
}

// Replies per node, valid while no write finished in this process since they were built and
// until their own deadline. A node polling without change costs its auth, one lookup and the
// last_contact update. Writes by another process sharing the database are seen within a
// minute at most (the deadline).
class reply_cache {
public:
  std::optional<std::map<std::string, xv>> find(int node_id, std::uint64_t generation,
                                                std::int64_t now) {
    std::lock_guard lock{mutex_};
    auto i = entries_.find(node_id);
    if (i == entries_.end() || i->second.generation != generation || now >= i->second.valid_until)
      return std::nullopt;
    return i->second.reply;
  }

  void store(int node_id, std::uint64_t generation, std::int64_t valid_until,
             std::map<std::string, xv> reply) {
    std::lock_guard lock{mutex_};
    if (entries_.size() >= max_entries)
      entries_.clear(); // bounded; refilled by the next polls
    entries_[node_id] = {generation, valid_until, std::move(reply)};
  }

private:
  static constexpr std::size_t max_entries = 200'000;
  struct entry {
    std::uint64_t generation;
    std::int64_t valid_until;
    std::map<std::string, xv> reply;
  };
  std::mutex mutex_;
  std::map<int, entry> entries_;
};

xv get_slivers(call_context& ctx, const args_t& args, const get_slivers_options& options,
               reply_cache& cache) {
  // Read before building: a write finishing meanwhile makes the new entry stale at once.
  const std::uint64_t generation = writes_finished();
  auto conn = ctx.svc.db->acquire();
  const std::int64_t now = ctx.svc.clock->now_epoch();
  auto [node_id, hostname] = target_node(*conn, ctx, args);
  conn->exec("UPDATE nodes SET last_contact = to_timestamp($2::bigint) WHERE node_id = $1::integer",
             {std::to_string(node_id), std::to_string(now)});
  auto reply = cache.find(node_id, generation, now);
  if (!reply) {
    auto [built, valid_until] = build_reply(*conn, node_id, hostname, now, options);
    cache.store(node_id, generation, valid_until, built);
    reply = std::move(built);
  }
  reply->emplace("timestamp", xmlrpc_c::value_int(static_cast<int>(now)));
  return xmlrpc_c::value_struct(*reply);
}

} // namespace

void add_sliver_methods(dispatcher& d, get_slivers_options options) {
  d.add({"GetSlivers",
         {role::admin, role::node},
         {{"node_id_or_hostname", xml_type::any, true}},
         xml_type::structure,
         "Returns what node managers need about a node (the calling node when none is named): "
         "its interfaces, groups, configuration files, initscripts, special accounts, leases and "
         "the slivers it should hold with their keys and attributes.",
         [options, cache = std::make_shared<reply_cache>()](call_context& ctx, const args_t& args) {
           return get_slivers(ctx, args, options, *cache);
         },
         event_mode::never});
}

} // namespace pl::plc::api
