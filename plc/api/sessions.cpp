#include "plc/api/sessions.hpp"

#include "plc/api/crud.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/fault.hpp"
#include "plc/store/pool.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace pl::plc::api {

namespace {

using store::field_type;
using xv = xmlrpc_c::value;

void delete_expired(store::connection& conn, const pl::clock& clock) {
  conn.exec("DELETE FROM sessions WHERE expires IS NOT NULL AND expires <= to_timestamp($1)",
            {std::to_string(clock.now_epoch())});
}

store::class_desc make_session_class() {
  // Listed by person_id (ints) and session_id (strings), as PLCAPI's
  // GetSessions does; node sessions have no person_id.
  return {
      "Session",
      "view_sessions",
      "person_id",
      "session_id",
      {
          {"session_id", field_type::text},
          {"person_id", field_type::integer, {}, 0, false, true},
          {"node_id", field_type::integer, {}, 0, false, true},
          {"expires", field_type::timestamp, {}, 0, false, true},
      },
  };
}

int resolve_person(store::connection& conn, const xv& id_or_email) {
  store::result res = [&] {
    if (id_or_email.type() == xv::TYPE_INT)
      return conn.exec("SELECT person_id FROM persons WHERE person_id = $1 AND NOT deleted",
                       {std::to_string(xmlrpc_c::value_int(id_or_email).cvalue())});
    if (id_or_email.type() == xv::TYPE_STRING)
      return conn.exec("SELECT person_id FROM persons WHERE lower(email) = lower($1)"
                       " AND NOT deleted",
                       {xmlrpc_c::value_string(id_or_email).cvalue()});
    throw fault::invalid_value("person_id_or_email", "expected int or string");
  }();
  if (res.rows() == 0)
    throw fault(fault_code::invalid_argument, "No such person");
  return static_cast<int>(res.integer(0, 0));
}

xv get_session(call_context& ctx, const std::vector<xv>& args) {
  // Authenticated with a session key: return it, as PLCAPI does.
  if (ctx.who.session)
    return xmlrpc_c::value_string(*ctx.who.session);
  auto conn = ctx.svc.db->acquire();
  if (ctx.who.node_id)
    return xmlrpc_c::value_string(add_node_session(*conn, *ctx.who.node_id, *ctx.svc.clock));
  if (!ctx.who.person_id)
    throw fault(fault_code::permission_denied, "Only persons and nodes hold sessions");
  std::int64_t lifetime = person_session_seconds;
  const xv& expires = arg_or_nil(args, 0);
  if (expires.type() == xv::TYPE_INT)
    lifetime = xmlrpc_c::value_int(expires).cvalue();
  else if (expires.type() != xv::TYPE_NIL)
    throw fault::invalid_value("expires", "expected int or nil");
  if (lifetime <= 0)
    throw fault(fault_code::invalid_argument, "Expiration date must be in the future");
  ctx.touched("Person", *ctx.who.person_id);
  return xmlrpc_c::value_string(add_person_session(
      *conn, *ctx.who.person_id, ctx.svc.clock->now_epoch() + lifetime, *ctx.svc.clock));
}

xv add_session(call_context& ctx, const std::vector<xv>& args) {
  auto conn = ctx.svc.db->acquire();
  int person_id = resolve_person(*conn, args[0]);
  ctx.touched("Person", person_id);
  return xmlrpc_c::value_string(add_person_session(
      *conn, person_id, ctx.svc.clock->now_epoch() + person_session_seconds, *ctx.svc.clock));
}

xv delete_session(call_context& ctx, const std::vector<xv>&) {
  if (!ctx.who.session)
    throw fault::invalid_value("auth", "'session' not specified");
  auto conn = ctx.svc.db->acquire();
  if (conn->exec("DELETE FROM sessions WHERE session_id = $1", {*ctx.who.session}).affected() == 0)
    throw fault(fault_code::internal_error, "No such session");
  return xmlrpc_c::value_int(1);
}

xv get_sessions(call_context& ctx, const std::vector<xv>& args) {
  const xv& given = arg_or_nil(args, 0);
  // A single person_id or session key stands for a one-element list.
  bool single = given.type() == xv::TYPE_INT || given.type() == xv::TYPE_STRING;
  xv filter = single ? xv{xmlrpc_c::value_array(std::vector<xv>{given})} : given;
  select_options opts;
  // Expired sessions are no longer sessions (the next login or use deletes them).
  opts.condition = "(t.expires IS NULL OR t.expires > to_timestamp(" +
                   std::to_string(ctx.svc.clock->now_epoch()) + "))";
  auto conn = ctx.svc.db->acquire();
  return get_objects(*conn, session_class(), filter, xmlrpc_c::value_nil(), opts);
}

} // namespace

std::string new_session_key() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("no random bytes for a session key");
  std::string out(4 * ((sizeof bytes + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes,
                            static_cast<int>(sizeof bytes));
  out.resize(static_cast<std::size_t>(len));
  return out;
}

std::string add_person_session(store::connection& conn, int person_id, std::int64_t expires,
                               const pl::clock& clock) {
  std::string key = new_session_key();
  store::in_transaction(conn, [&](store::connection& c) {
    delete_expired(c, clock);
    c.exec("INSERT INTO sessions (session_id, expires) VALUES ($1, to_timestamp($2::bigint))",
           {key, std::to_string(expires)});
    c.exec("INSERT INTO person_session (person_id, session_id) VALUES ($1, $2)",
           {std::to_string(person_id), key});
  });
  return key;
}

std::string add_node_session(store::connection& conn, int node_id, const pl::clock& clock) {
  std::string key = new_session_key();
  store::in_transaction(conn, [&](store::connection& c) {
    delete_expired(c, clock);
    c.exec("DELETE FROM sessions WHERE session_id IN"
           " (SELECT session_id FROM node_session WHERE node_id = $1)",
           {std::to_string(node_id)});
    c.exec("INSERT INTO sessions (session_id, expires) VALUES ($1, NULL)", {key});
    c.exec("INSERT INTO node_session (node_id, session_id) VALUES ($1, $2)",
           {std::to_string(node_id), key});
  });
  return key;
}

const store::class_desc& session_class() {
  static const store::class_desc cls = make_session_class();
  return cls;
}

void add_session_methods(dispatcher& d) {
  const role_set everyone{role::admin, role::pi, role::user, role::tech, role::node};
  d.add({"GetSession",
         everyone,
         {{"expires", xml_type::any, true}},
         xml_type::string,
         "Returns a new session key for the authenticated person (valid for `expires` "
         "seconds, default 24 h) or node (no expiry; replaces its previous session). Called "
         "with session auth, returns that session.",
         get_session,
         event_mode::always});
  d.add({"AddSession",
         {role::admin},
         {{"person_id_or_email", xml_type::any}},
         xml_type::string,
         "Creates and returns a new 24 h session key for the given person (website 'sudo').",
         add_session});
  d.add({"DeleteSession",
         everyone,
         {},
         xml_type::integer,
         "Invalidates the session used to authenticate this call (session auth only). "
         "Returns 1.",
         delete_session});
  d.add({"GetSessions",
         {role::admin},
         {{"session_filter", xml_type::any, true}},
         xml_type::array,
         "Returns unexpired sessions: session_id, person_id, node_id, expires. The filter is a "
         "list of person_ids and session keys, or a struct.",
         get_sessions});
}

} // namespace pl::plc::api
