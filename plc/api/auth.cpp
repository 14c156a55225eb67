#include "plc/api/auth.hpp"

#include "plc/api/fault.hpp"
#include "plc/api/password.hpp"
#include "plc/store/pool.hpp"

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
    if (auto r = role_from_id(std::stoi(std::string{item})))
      out.push_back(*r);
  }
  return out;
}

caller password_auth(const member_map& m, const services& svc) {
  std::string username = lowercase(string_member(m, "Username"));
  std::string password = string_member(m, "AuthString");
  std::optional<int> person_id;
  std::string stored;
  role_set roles;
  {
    auto db = svc.db->acquire();
    auto res = db->exec("SELECT p.person_id, p.password,"
                        " coalesce(string_agg(r.role_id::text, ','), '')"
                        " FROM persons p LEFT JOIN person_role r USING (person_id)"
                        " WHERE lower(p.email) = $1 AND p.enabled AND NOT p.deleted"
                        " GROUP BY p.person_id, p.password",
                        {username});
    if (res.rows() == 1) {
      person_id = static_cast<int>(res.integer(0, 0));
      stored = std::string{res.text(0, 1)};
      roles = parse_role_ids(res.text(0, 2));
    }
  }
  // The key derivation runs after the connection is back in the pool: it is
  // deliberately slow and needs no database.
  if (!person_id)
    throw fault(fault_code::authentication_failure, "No such account");
  if (!verify_password(password, stored))
    throw fault(fault_code::authentication_failure, "Password verification failed");
  return caller{"password", person_id, std::nullopt, std::move(roles)};
}

} // namespace

caller authenticate(const xmlrpc_c::value& auth, const role_set& allowed, const services& svc) {
  if (auth.type() != xmlrpc_c::value::TYPE_STRUCT)
    throw fault(fault_code::authentication_failure, "auth must be a struct");
  member_map m = xmlrpc_c::value_struct(auth).cvalue();
  std::string method = string_member(m, "AuthMethod");
  caller who;
  if (method == "password" || method == "capability") {
    who = password_auth(m, svc);
  } else if (method == "anonymous") {
    who = caller{"anonymous", std::nullopt, std::nullopt, {role::anonymous}};
  } else {
    throw fault(fault_code::authentication_failure, "Unsupported AuthMethod " + method);
  }
  if (!intersects(who.roles, allowed))
    throw fault(fault_code::authentication_failure, "Not allowed to call method");
  return who;
}

} // namespace pl::plc::api
