#include "plc/api/auth.hpp"

#include "plc/api/fault.hpp"
#include "plc/api/node_auth.hpp"
#include "plc/api/password.hpp"
#include "plc/api/throttle.hpp"
#include "plc/store/pool.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace pl::plc::api {

namespace {

using member_map = std::map<std::string, xmlrpc_c::value>;

std::string string_member(const member_map& m, const std::string& key) {
  auto i = m.find(key);
  if (i == m.end())
    throw fault(fault_code::authentication_failure, key + " not specified");
  if (i->second.type() != xmlrpc_c::value::TYPE_STRING)
    throw fault(fault_code::authentication_failure, key + " must be a string");
  return xmlrpc_c::value_string(i->second).cvalue();
}

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

role_set parse_role_ids(std::string_view csv) {
  role_set out;
  while (!csv.empty()) {
    auto comma = csv.find(',');
    auto item = csv.substr(0, comma);
    csv = comma == std::string_view::npos ? std::string_view{} : csv.substr(comma + 1);
    // Accounts never act as nodes, even if an imported row grants them 50.
    if (auto r = role_from_id(std::stoi(std::string{item})); r && *r != role::node)
      out.push_back(*r);
  }
  return out;
}

role_set roles_of(store::connection& conn, int person_id) {
  auto res = conn.exec("SELECT coalesce(string_agg(role_id::text, ','), '') FROM person_role"
                       " WHERE person_id = $1",
                       {std::to_string(person_id)});
  return parse_role_ids(res.text(0, 0));
}

caller password_auth(const member_map& m, const services& svc, const std::string& peer) {
  std::string username = lowercase(string_member(m, "Username"));
  std::string password = string_member(m, "AuthString");
  if (svc.throttle) {
    auto wait = svc.throttle->retry_after(username, peer);
    if (wait.count() > 0)
      throw fault(fault_code::authentication_failure,
                  "Too many failed logins, retry in " + std::to_string(wait.count()) + " s");
  }
  std::optional<int> person_id;
  std::string stored;
  role_set roles;
  {
    auto db = svc.db->acquire();
    auto res = db->exec("SELECT p.person_id, p.password FROM persons p"
                        " WHERE lower(p.email) = $1 AND p.enabled AND NOT p.deleted",
                        {username});
    if (res.rows() == 1) {
      person_id = static_cast<int>(res.integer(0, 0));
      stored = std::string{res.text(0, 1)};
      roles = roles_of(*db, *person_id);
    }
  }
  // The key derivation runs after the connection is back in the pool: it is
  // deliberately slow and needs no database.
  if (!person_id || !verify_password(password, stored)) {
    if (svc.throttle)
      svc.throttle->failure(username, peer);
    throw fault(fault_code::authentication_failure,
                person_id ? "Password verification failed" : "No such account");
  }
  if (svc.throttle)
    svc.throttle->success(username);
  if (needs_rehash(stored)) {
    // An imported MD5-crypt hash: replace it now that the password is known.
    // Only if unchanged meanwhile, so a concurrent password change wins.
    std::string upgraded = hash_password(password);
    auto db = svc.db->acquire();
    db->exec("UPDATE persons SET password = $2 WHERE person_id = $1 AND password = $3",
             {std::to_string(*person_id), upgraded, stored});
    spdlog::info("plc.api event=password_upgraded person_id={}", *person_id);
  }
  return caller{"password", person_id, std::nullopt, std::move(roles), std::nullopt};
}

caller session_auth(const member_map& m, const role_set& allowed, const services& svc) {
  std::string key = string_member(m, "session");
  auto db = svc.db->acquire();
  auto res = db->exec("SELECT extract(epoch from expires)::bigint, person_id, node_id"
                      " FROM view_sessions WHERE session_id = $1",
                      {key});
  if (res.rows() == 0)
    throw fault(fault_code::authentication_failure, "No such session");
  auto drop = [&](const char* why) {
    db->exec("DELETE FROM sessions WHERE session_id = $1", {key});
    return fault(fault_code::authentication_failure, why);
  };
  if (!res.is_null(0, 2)) {
    caller who{"session", std::nullopt, static_cast<int>(res.integer(0, 2)), {role::node}, key};
    // 108, and the session stays (PLCAPI 5.x): a node must not lose the
    // session its BootManager saved by calling a method it may not.
    if (!intersects(who.roles, allowed))
      throw fault(fault_code::permission_denied, "Not allowed to call method, missing 'node' role");
    return who;
  }
  bool live = !res.is_null(0, 0) && res.integer(0, 0) > svc.clock->now_epoch();
  if (res.is_null(0, 1) || !live)
    throw drop("Invalid session");
  int person_id = static_cast<int>(res.integer(0, 1));
  auto person = db->exec("SELECT 1 FROM persons WHERE person_id = $1 AND enabled AND NOT deleted",
                         {std::to_string(person_id)});
  if (person.rows() == 0)
    throw drop("No such account");
  caller who{"session", person_id, std::nullopt, roles_of(*db, person_id), key};
  if (!intersects(who.roles, allowed))
    throw fault(fault_code::permission_denied, "Not allowed to call method");
  return who;
}

} // namespace

caller authenticate(const xmlrpc_c::value& auth, const role_set& allowed, const services& svc,
                    const std::string& peer_address, const std::vector<xmlrpc_c::value>& args) {
  if (auth.type() != xmlrpc_c::value::TYPE_STRUCT)
    throw fault(fault_code::authentication_failure, "auth must be a struct");
  member_map m = xmlrpc_c::value_struct(auth).cvalue();
  std::string method = string_member(m, "AuthMethod");
  caller who;
  if (method == "password" || method == "capability") {
    who = password_auth(m, svc, peer_address);
  } else if (method == "session") {
    return session_auth(m, allowed, svc);
  } else if (method == "hmac" || method == "hmac_dummybox") {
    return hmac_auth(m, allowed, args, svc, peer_address);
  } else if (method == "anonymous") {
    who = caller{"anonymous", std::nullopt, std::nullopt, {role::anonymous}, std::nullopt};
  } else {
    throw fault(fault_code::authentication_failure, "Unsupported AuthMethod " + method);
  }
  if (!intersects(who.roles, allowed))
    throw fault(fault_code::authentication_failure, "Not allowed to call method");
  return who;
}

} // namespace pl::plc::api
