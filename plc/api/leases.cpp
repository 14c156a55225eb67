#include "plc/api/leases.hpp"

#include "actors/clock.hpp"
#include "plc/api/crud.hpp"
#include "plc/api/fault.hpp"
#include "plc/api/object_access.hpp"
#include "plc/api/permissions.hpp"
#include "plc/api/slices.hpp"
#include "plc/store/pool.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;
using args_t = std::vector<xv>;

std::int64_t now_of(const call_context& ctx) {
  return ctx.svc.clock->now_epoch();
}

std::string at(std::int64_t t) {
  return "to_timestamp(" + std::to_string(t) + ")";
}

/// Renders epoch seconds as PLCAPI's SQL form, "YYYY-MM-DD HH:MM:SS UTC".
std::string utc_text(std::int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

/// Resolves one node id or hostname, or a list of them; fault 102 naming any
/// unknown one and for nodes that are not reservable.
std::vector<std::pair<int, std::string>> reservable_nodes(store::connection& conn, const xv& arg) {
  std::vector<xv> items;
  if (arg.type() == xv::TYPE_ARRAY)
    items = xmlrpc_c::value_array(arg).vectorValueValue();
  else
    items.push_back(arg);
  if (items.empty())
    throw fault(fault_code::invalid_argument, "No such node(s) []");
  std::vector<std::pair<int, std::string>> out;
  for (const auto& item : items) {
    store::result res = [&] {
      const char* sql = "SELECT node_id, hostname, node_type FROM nodes WHERE NOT deleted AND ";
      if (item.type() == xv::TYPE_INT)
        return conn.exec(std::string{sql} + "node_id = $1",
                         {std::to_string(xmlrpc_c::value_int(item).cvalue())});
      if (item.type() == xv::TYPE_STRING)
        return conn.exec(std::string{sql} + "hostname = lower($1)",
                         {xmlrpc_c::value_string(item).cvalue()});
      throw fault::invalid_value("node_id_or_hostname", "expected int or string");
    }();
    if (res.rows() == 0)
      throw fault(fault_code::invalid_argument,
                  "No such node(s) " + (item.type() == xv::TYPE_INT
                                            ? std::to_string(xmlrpc_c::value_int(item).cvalue())
                                            : xmlrpc_c::value_string(item).cvalue()));
    std::string hostname{res.text(0, 1)};
    if (res.text(0, 2) != "reservable")
      throw fault(fault_code::invalid_argument, "Node " + hostname + " is not reservable");
    int id = static_cast<int>(res.integer(0, 0));
    if (std::none_of(out.begin(), out.end(), [&](auto& n) { return n.first == id; }))
      out.emplace_back(id, hostname);
  }
  return out;
}

/// Rounds a time slot to the granularity: t_from up, t_until down (PLCAPI's
/// Lease.validate_t_from/t_until). Fault 102 when nothing is left.
std::pair<std::int64_t, std::int64_t> round_slot(std::int64_t from, std::int64_t until,
                                                 std::int64_t g) {
  auto floor_div = [](std::int64_t a, std::int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
  };
  std::int64_t f = floor_div(from + g - 1, g) * g;
  std::int64_t u = floor_div(until, g) * g;
  if (u <= f)
    throw fault(fault_code::invalid_argument,
                "Lease [" + utc_text(from) + " .. " + utc_text(until) +
                    "] is empty once rounded to the granularity (" + std::to_string(g) + " s)");
  return {f, u};
}

/// Tells whether a live lease other than `self` on `node_id` overlaps
/// [from, until). Expired leases (ended by `now`) never count, as PLCAPI's
/// overlapping_trigger. The caller holds the node's row lock.
bool overlaps(store::connection& conn, int node_id, std::int64_t from, std::int64_t until,
              std::int64_t now, int self) {
  return conn.exec("SELECT 1 FROM leases l JOIN slices s ON s.slice_id = l.slice_id"
                   " WHERE l.node_id = $1 AND l.lease_id <> $2 AND NOT s.deleted"
                   " AND l.t_until > to_timestamp($3::bigint)"
                   " AND l.t_from < to_timestamp($5::bigint)"
                   " AND l.t_until > to_timestamp($4::bigint)",
                   {std::to_string(node_id), std::to_string(self), std::to_string(now),
                    std::to_string(from), std::to_string(until)})
             .rows() > 0;
}

void lock_node(store::connection& conn, int node_id) {
  conn.exec("SELECT 1 FROM nodes WHERE node_id = $1 FOR UPDATE", {std::to_string(node_id)});
}

std::vector<int> lease_ids_arg(const xv& v) {
  std::vector<int> out;
  if (v.type() == xv::TYPE_INT) {
    out.push_back(xmlrpc_c::value_int(v).cvalue());
    return out;
  }
  if (v.type() != xv::TYPE_ARRAY)
    throw fault::invalid_value("lease_ids", "expected int or array of int");
  for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue()) {
    if (item.type() != xv::TYPE_INT)
      throw fault::invalid_value("lease_ids", "expected int or array of int");
    out.push_back(xmlrpc_c::value_int(item).cvalue());
  }
  return out;
}

/// A visible lease as the write methods need it.
struct lease_row {
  int lease_id;
  int node_id;
  int slice_id;
  std::int64_t t_from;
  std::int64_t t_until;
};

std::vector<lease_row> load_leases(store::connection& conn, const std::vector<int>& ids,
                                   std::int64_t now) {
  std::vector<lease_row> out;
  auto cls = lease_class(now);
  for (int id : std::set<int>(ids.begin(), ids.end())) {
    auto res = conn.exec("SELECT t.lease_id, t.node_id, t.slice_id,"
                         " extract(epoch FROM t.t_from)::bigint,"
                         " extract(epoch FROM t.t_until)::bigint FROM leases t"
                         " WHERE t.lease_id = $1 AND " +
                             cls.live_condition,
                         {std::to_string(id)});
    if (res.rows() == 0)
      continue;
    out.push_back({static_cast<int>(res.integer(0, 0)), static_cast<int>(res.integer(0, 1)),
                   static_cast<int>(res.integer(0, 2)), res.integer(0, 3), res.integer(0, 4)});
  }
  return out;
}

/// Checks the caller's rights over the slices of `leases` (each once), as
/// UpdateLeases and DeleteLeases do before changing anything.
void check_lease_rights(store::connection& conn, const call_context& ctx,
                        const std::vector<lease_row>& leases) {
  if (is_admin(ctx.who))
    return;
  std::set<int> checked;
  for (const auto& l : leases)
    if (checked.insert(l.slice_id).second)
      check_slice_rights(conn, ctx.who, load_slice(conn, xmlrpc_c::value_int(l.slice_id), 0));
}

xv add_leases(std::int64_t g, call_context& ctx, const args_t& args) {
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  auto nodes = reservable_nodes(*conn, args[0]);
  auto slice = load_slice(*conn, args[1], now);
  check_slice_rights(*conn, ctx.who, slice);
  auto [from, until] =
      round_slot(parse_timestamp(args[2], "t_from"), parse_timestamp(args[3], "t_until"), g);
  std::vector<xv> new_ids, errors;
  std::string hostnames;
  for (const auto& [node_id, hostname] : nodes) {
    int id = store::in_transaction(*conn, [&](store::connection& c) {
      lock_node(c, node_id);
      if (overlaps(c, node_id, from, until, now, 0))
        return 0;
      auto res = c.exec("INSERT INTO leases (t_from, t_until, node_id, slice_id) VALUES"
                        " (to_timestamp($1::bigint), to_timestamp($2::bigint), $3, $4)"
                        " RETURNING lease_id",
                        {std::to_string(from), std::to_string(until), std::to_string(node_id),
                         std::to_string(slice.slice_id)});
      return static_cast<int>(res.integer(0, 0));
    });
    if (id == 0) {
      errors.push_back(xmlrpc_c::value_string(
          "Timeslot busy - could not create overlapping lease on n=" + hostname +
          " s=" + slice.name + " [" + utc_text(from) + " .. " + utc_text(until) + "]"));
      continue;
    }
    new_ids.push_back(xmlrpc_c::value_int(id));
    ctx.touched("Lease", id);
    ctx.touched("Node", node_id);
    hostnames += (hostnames.empty() ? "" : ", ") + hostname;
  }
  ctx.touched("Slice", slice.slice_id);
  ctx.message = "New leases on n=[" + hostnames + "] s=" + slice.name + " [" + utc_text(from) +
                " -> " + utc_text(until) + "]";
  return xmlrpc_c::value_struct(std::map<std::string, xv>{
      {"new_ids", xmlrpc_c::value_array(new_ids)}, {"errors", xmlrpc_c::value_array(errors)}});
}

xv get_leases(call_context& ctx, const args_t& args) {
  std::int64_t now = now_of(ctx);
  const xv filter = normalize_filter(arg_or_nil(args, 0));
  select_options opts;
  std::map<std::string, xv> kept;
  // PLCAPI's LeaseFilter: 'alive' and 'clip' (a time or a [from, until]
  // slot) and 'day' (a number of days from today, UTC), '~' negating.
  auto slot = [&](const xv& v, const std::string& name) -> std::pair<std::int64_t, std::int64_t> {
    if (v.type() == xv::TYPE_ARRAY) {
      auto items = xmlrpc_c::value_array(v).vectorValueValue();
      if (items.size() != 2)
        throw fault::invalid_value(name, "expected a time or a [from, until] pair");
      return {parse_timestamp(items[0], name), parse_timestamp(items[1], name)};
    }
    auto t = parse_timestamp(v, name);
    return {t, -1};
  };
  auto intersect = [](std::int64_t f, std::int64_t u) {
    return "((" + at(f) + " <= t.t_from AND t.t_from <= " + at(u) + ") OR (" + at(f) +
           " <= t.t_until AND t.t_until <= " + at(u) + ") OR (t.t_from <= " + at(f) + " AND " +
           at(u) + " <= t.t_until))";
  };
  std::vector<std::string> conditions;
  if (filter.type() == xv::TYPE_STRUCT) {
    auto m = xmlrpc_c::value_struct(filter).cvalue();
    if ((m.count("day") || m.count("~day")) && (m.count("clip") || m.count("~clip")))
      throw fault(fault_code::invalid_argument, "LeaseFilter cannot have both 'clip' and 'day'");
    for (const auto& [key, value] : m) {
      bool negated = !key.empty() && key[0] == '~';
      std::string bare = negated ? key.substr(1) : key;
      std::string cond;
      if (bare == "alive") {
        auto [f, u] = slot(value, bare);
        cond =
            u < 0 ? "(t.t_from <= " + at(f) + " AND " + at(f) + " <= t.t_until)" : intersect(f, u);
      } else if (bare == "clip") {
        auto [f, u] = slot(value, bare);
        cond = u < 0 ? "(t.t_until >= " + at(f) + ")" : intersect(f, u);
      } else if (bare == "day") {
        if (value.type() != xv::TYPE_INT)
          throw fault::invalid_value("day", "expected int");
        int days = xmlrpc_c::value_int(value).cvalue();
        std::int64_t today = now - ((now % 86400) + 86400) % 86400;
        cond = days == 0 ? "(t.t_until >= " + at(today) + ")"
                         : intersect(today, today + std::int64_t{days} * 86400);
      } else {
        kept.emplace(key, value);
        continue;
      }
      conditions.push_back(negated ? "NOT " + cond : cond);
    }
  }
  for (const auto& c : conditions)
    opts.condition += (opts.condition.empty() ? "" : " AND ") + c;
  const xv rest = filter.type() == xv::TYPE_STRUCT ? xv{xmlrpc_c::value_struct(kept)} : filter;
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, lease_class(now), rest, arg_or_nil(args, 1), opts);
}

std::int64_t integer_of(const xv& v, const std::string& name) {
  if (v.type() == xv::TYPE_INT)
    return xmlrpc_c::value_int(v).cvalue();
  if (v.type() == xv::TYPE_I8)
    return xmlrpc_c::value_i8(v).cvalue();
  throw fault::invalid_value(name, "expected int");
}

xv update_leases(std::int64_t g, call_context& ctx, const args_t& args) {
  auto ids = lease_ids_arg(args[0]);
  // Only the time slot can change (PLCAPI drops other keys silently).
  std::optional<std::int64_t> new_from, new_until, duration;
  for (const auto& [key, value] : xmlrpc_c::value_struct(args[1]).cvalue()) {
    if (key == "t_from")
      new_from = parse_timestamp(value, key);
    else if (key == "t_until")
      new_until = parse_timestamp(value, key);
    else if (key == "duration")
      duration = integer_of(value, key);
  }
  if (duration && new_from && new_until)
    throw fault(fault_code::invalid_argument, "Cannot set t_from AND t_until AND duration");
  if (duration && *duration < 0)
    throw fault::invalid_value("duration", "must not be negative");
  auto conn = ctx.svc.db->acquire();
  std::int64_t now = now_of(ctx);
  auto leases = load_leases(*conn, ids, now);
  if (leases.empty())
    throw fault(fault_code::invalid_argument, "No such leases");
  check_lease_rights(*conn, ctx, leases);
  std::vector<xv> updated, errors;
  for (const auto& l : leases) {
    std::int64_t from = new_from.value_or(l.t_from), until = new_until.value_or(l.t_until);
    if (duration) {
      // 'duration': 0 keeps the lease's length.
      std::int64_t d = *duration ? *duration : l.t_until - l.t_from;
      if (new_until && !new_from)
        from = until - d;
      else
        until = from + d;
    }
    try {
      auto [f, u] = round_slot(from, until, g);
      bool ok = store::in_transaction(*conn, [&](store::connection& c) {
        lock_node(c, l.node_id);
        if (overlaps(c, l.node_id, f, u, now, l.lease_id))
          return false;
        c.exec("UPDATE leases SET t_from = to_timestamp($2::bigint),"
               " t_until = to_timestamp($3::bigint) WHERE lease_id = $1",
               {std::to_string(l.lease_id), std::to_string(f), std::to_string(u)});
        return true;
      });
      if (!ok)
        throw fault(fault_code::invalid_argument, "Timeslot busy");
      updated.push_back(xmlrpc_c::value_int(l.lease_id));
      ctx.touched("Lease", l.lease_id);
    } catch (const fault& e) {
      errors.push_back(xmlrpc_c::value_string("Could not update lease " +
                                              std::to_string(l.lease_id) +
                                              " - check new time limits ? -- " + e.what()));
    }
  }
  ctx.message = "Leases updated";
  return xmlrpc_c::value_struct(std::map<std::string, xv>{
      {"updated_ids", xmlrpc_c::value_array(updated)}, {"errors", xmlrpc_c::value_array(errors)}});
}

xv delete_leases(call_context& ctx, const args_t& args) {
  auto ids = lease_ids_arg(args[0]);
  auto conn = ctx.svc.db->acquire();
  auto leases = load_leases(*conn, ids, now_of(ctx));
  if (leases.size() != std::set<int>(ids.begin(), ids.end()).size())
    throw fault(fault_code::invalid_argument, "Could not find all leases");
  check_lease_rights(*conn, ctx, leases);
  store::in_transaction(*conn, [&](store::connection& c) {
    for (const auto& l : leases) {
      c.exec("DELETE FROM leases WHERE lease_id = $1", {std::to_string(l.lease_id)});
      ctx.touched("Lease", l.lease_id);
    }
  });
  return xmlrpc_c::value_int(1);
}

} // namespace

store::class_desc lease_class(std::int64_t now) {
  return {
      "Lease",
      "leases",
      "lease_id",
      "",
      {
          {"lease_id", field_type::integer, {}, 0, false, false, "Lease identifier"},
          {"t_from", field_type::timestamp, {}, 0, false, false, "timeslot start"},
          {"t_until", field_type::timestamp, {}, 0, false, false, "timeslot end"},
          {"node_id", field_type::integer, {}, 0, false, false, "Node identifier"},
          {"slice_id", field_type::integer, {}, 0, false, false, "Slice identifier"},
          {"hostname", field_type::text,
           "(SELECT n.hostname FROM nodes n WHERE n.node_id = t.node_id)", 0, false, false,
           "Fully qualified hostname"},
          {"node_type", field_type::text,
           "(SELECT n.node_type FROM nodes n WHERE n.node_id = t.node_id)", 0, false, false,
           "Node type"},
          {"name", field_type::text, "(SELECT s.name FROM slices s WHERE s.slice_id = t.slice_id)",
           0, false, false, "Slice name"},
          {"site_id", field_type::integer,
           "(SELECT s.site_id FROM slices s WHERE s.slice_id = t.slice_id)", 0, false, false,
           "Identifier of the site to which the slice belongs"},
          {"duration", field_type::integer, "extract(epoch FROM t.t_until - t.t_from)::bigint", 0,
           false, false, "duration in seconds"},
          {"expired", field_type::boolean, "(t.t_until < " + at(now) + ")", 0, false, false,
           "time slot is over"},
      },
      "t.node_id IN (SELECT n.node_id FROM nodes n WHERE n.node_type = 'reservable' AND NOT"
      " n.deleted) AND t.slice_id IN (SELECT s.slice_id FROM slices s WHERE NOT s.deleted)",
  };
}

std::int64_t parse_timestamp(const xv& v, const std::string& name) {
  if (v.type() == xv::TYPE_INT)
    return xmlrpc_c::value_int(v).cvalue();
  if (v.type() == xv::TYPE_I8)
    return xmlrpc_c::value_i8(v).cvalue();
  if (v.type() != xv::TYPE_STRING)
    throw fault::invalid_value(name, "expected int or string");
  std::string text = xmlrpc_c::value_string(v).cvalue();
  for (const char* format : {"%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                             "%Y-%m-%d %H:%M UTC", "%Y-%m-%d %H:%M"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end && *end == '\0')
      return static_cast<std::int64_t>(timegm(&tm));
  }
  throw fault::invalid_value(name, "cannot parse timestamp '" + text +
                                       "' (int, or 'YYYY-MM-DD HH:MM[:SS][ UTC]')");
}

void add_lease_methods(dispatcher& d, std::int64_t granularity) {
  const param_spec ids{"lease_ids", xml_type::any};
  d.add({"AddLeases",
         {role::admin, role::pi, role::user},
         {{"node_id_or_hostname_s", xml_type::any},
          {"slice_id_or_name", xml_type::any},
          {"t_from", xml_type::any},
          {"t_until", xml_type::any}},
         xml_type::structure,
         "Leases reservable nodes to a slice from t_from until t_until (ints, or UTC strings), "
         "rounded to the lease granularity. Members of the slice and PIs of its site may. "
         "Returns {'new_ids': [...], 'errors': [...]}: a busy timeslot is an error, not a fault.",
         [granularity](call_context& ctx, const args_t& args) {
           return add_leases(granularity, ctx, args);
         }});
  d.add({"GetLeases",
         {role::admin, role::pi, role::user, role::node, role::anonymous},
         {{"lease_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns the leases matching the filter (lease_ids, or a struct with also 'alive' "
         "and 'clip': a time or a [from, until] slot, and 'day': days from today). Every "
         "lease is visible to everybody.",
         get_leases});
  d.add({"UpdateLeases",
         {role::admin, role::pi, role::tech, role::user},
         {ids, {"input_fields", xml_type::structure}},
         xml_type::structure,
         "Moves the time slot of leases (t_from, t_until, or one of them with duration; "
         "'duration': 0 keeps the length). Returns {'updated_ids': [...], 'errors': [...]}.",
         [granularity](call_context& ctx, const args_t& args) {
           return update_leases(granularity, ctx, args);
         }});
  d.add({"DeleteLeases",
         {role::admin, role::pi, role::tech, role::user},
         {ids},
         xml_type::integer,
         "Deletes leases of slices the caller is a member of or PI over. Returns 1.",
         delete_leases});
  d.add({"GetLeaseGranularity",
         {role::admin, role::pi, role::user, role::tech, role::node, role::anonymous},
         {},
         xml_type::integer,
         "Returns the granularity in seconds of lease time slots.",
         [granularity](call_context&, const args_t&) {
           return xv{xmlrpc_c::value_int(static_cast<int>(granularity))};
         }});
}

} // namespace pl::plc::api
