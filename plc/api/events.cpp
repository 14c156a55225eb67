#include "plc/api/events.hpp"

#include "actors/clock.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/fault.hpp"
#include "plc/store/pool.hpp"

#include <cstdio>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;

bool secret_key(const std::string& key) {
  return key == "AuthString" || key == "session" || key == "password";
}

void quote(std::string& out, const std::string& s) {
  out += '\'';
  for (char c : s) {
    if (c == '\'' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '\'';
}

void repr(std::string& out, const xv& v, std::size_t max_bytes) {
  if (out.size() > max_bytes)
    return;
  switch (v.type()) {
  case xv::TYPE_INT:
    out += std::to_string(xmlrpc_c::value_int(v).cvalue());
    break;
  case xv::TYPE_I8:
    out += std::to_string(xmlrpc_c::value_i8(v).cvalue());
    break;
  case xv::TYPE_BOOLEAN:
    out += xmlrpc_c::value_boolean(v).cvalue() ? "True" : "False";
    break;
  case xv::TYPE_DOUBLE: {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", xmlrpc_c::value_double(v).cvalue());
    out += buf;
    break;
  }
  case xv::TYPE_STRING:
    quote(out, xmlrpc_c::value_string(v).cvalue());
    break;
  case xv::TYPE_NIL:
    out += "None";
    break;
  case xv::TYPE_ARRAY: {
    out += '[';
    bool first = true;
    for (const auto& item : xmlrpc_c::value_array(v).vectorValueValue()) {
      out += first ? "" : ", ";
      first = false;
      repr(out, item, max_bytes);
    }
    out += ']';
    break;
  }
  case xv::TYPE_STRUCT: {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : xmlrpc_c::value_struct(v).cvalue()) {
      out += first ? "" : ", ";
      first = false;
      quote(out, key);
      out += ": ";
      if (secret_key(key))
        out += "'Removed by API'";
      else
        repr(out, item, max_bytes);
    }
    out += '}';
    break;
  }
  default:
    out += "<binary>";
  }
}

store::class_desc make_event_class() {
  return {
      "Event",
      "events",
      "event_id",
      "",
      {
          {"event_id", field_type::integer},
          {"person_id", field_type::integer, {}, 0, false, true},
          {"node_id", field_type::integer, {}, 0, false, true},
          {"auth_type", field_type::text, {}, 0, false, true},
          {"fault_code", field_type::integer},
          {"call_name", field_type::text},
          {"call", field_type::text},
          {"message", field_type::text, {}, 0, false, true},
          {"runtime", field_type::real},
          {"time", field_type::timestamp},
          {"object_ids", field_type::int_list,
           "ARRAY(SELECT o.object_id FROM event_object o WHERE o.event_id = t.event_id"
           " ORDER BY o.object_type, o.object_id)"},
          {"object_types", field_type::text_list,
           "ARRAY(SELECT o.object_type FROM event_object o WHERE o.event_id = t.event_id"
           " ORDER BY o.object_type, o.object_id)"},
      },
  };
}

store::class_desc make_event_object_class() {
  return {
      "EventObject",
      "view_event_objects",
      "event_id",
      "",
      {
          {"event_id", field_type::integer},
          {"person_id", field_type::integer, {}, 0, false, true},
          {"node_id", field_type::integer, {}, 0, false, true},
          {"auth_type", field_type::text, {}, 0, false, true},
          {"fault_code", field_type::integer},
          {"call_name", field_type::text},
          {"call", field_type::text},
          {"message", field_type::text, {}, 0, false, true},
          {"runtime", field_type::real},
          {"time", field_type::timestamp},
          {"object_id", field_type::integer, {}, 0, false, true},
          {"object_type", field_type::text, {}, 0, false, true},
      },
  };
}

/// PLCAPI accepts a single event_id where a list is expected.
const xv& as_filter(const xv& filter, xv& holder) {
  if (filter.type() == xv::TYPE_INT) {
    holder = xmlrpc_c::value_array(std::vector<xv>{filter});
    return holder;
  }
  return filter;
}

} // namespace

int record_event(store::connection& conn, const event_record& ev, const pl::clock& clock) {
  auto opt_int = [](const std::optional<int>& v) -> store::param {
    return v ? store::param{std::to_string(*v)} : std::nullopt;
  };
  auto opt_text = [](const std::string& s) -> store::param {
    return s.empty() ? std::nullopt : store::param{s};
  };
  char runtime[32];
  std::snprintf(runtime, sizeof runtime, "%.6f", ev.runtime);
  return store::in_transaction(conn, [&](store::connection& c) {
    auto res =
        c.exec("INSERT INTO events (person_id, node_id, auth_type, fault_code, call_name,"
               " call, message, runtime, time)"
               " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::bigint))"
               " RETURNING event_id",
               std::vector<store::param>{opt_int(ev.person_id), opt_int(ev.node_id),
                                         opt_text(ev.auth_type), std::to_string(ev.fault_code),
                                         ev.call_name, ev.call, opt_text(ev.message),
                                         std::string{runtime}, std::to_string(clock.now_epoch())});
    int id = static_cast<int>(res.integer(0, 0));
    for (const auto& o : ev.objects)
      c.exec("INSERT INTO event_object (event_id, object_id, object_type) VALUES ($1, $2, $3)",
             {std::to_string(id), std::to_string(o.id), o.type});
    return id;
  });
}

std::string call_text(const std::string& name, const std::vector<xv>& params,
                      std::size_t max_bytes) {
  std::string out = name + "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i)
      out += ", ";
    repr(out, params[i], max_bytes);
  }
  out += ')';
  if (out.size() > max_bytes) {
    out.resize(max_bytes);
    out += "...";
  }
  return out;
}

const store::class_desc& event_class() {
  static const store::class_desc cls = make_event_class();
  return cls;
}

const store::class_desc& event_object_class() {
  static const store::class_desc cls = make_event_object_class();
  return cls;
}

void add_event_methods(dispatcher& d) {
  d.add({"GetEvents",
         {role::admin},
         {{"event_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns recorded calls (writes and their faults): event_id, person_id, node_id, "
         "auth_type, fault_code, call_name, call, message, runtime, time, object_ids, "
         "object_types. The filter is a list of event_ids or a struct.",
         [](call_context& ctx, const std::vector<xv>& args) -> xv {
           xv holder;
           auto conn = ctx.svc.db->acquire();
           return get_objects(*conn, event_class(), as_filter(arg_or_nil(args, 0), holder),
                              arg_or_nil(args, 1));
         }});
  d.add({"GetEventObjects",
         {role::admin},
         {{"event_filter", xml_type::any, true}, {"return_fields", xml_type::any, true}},
         xml_type::array,
         "Returns one struct per event and object it touched: the event's fields with "
         "object_id and object_type. The filter is a struct (or a list of event_ids).",
         [](call_context& ctx, const std::vector<xv>& args) -> xv {
           xv holder;
           auto conn = ctx.svc.db->acquire();
           return get_objects(*conn, event_object_class(), as_filter(arg_or_nil(args, 0), holder),
                              arg_or_nil(args, 1));
         }});
}

} // namespace pl::plc::api
