#pragma once

// A dispatcher with the AdminDB methods on the scratch database, and a small
// world of accounts per test case: an admin, and at site A a PI, a user and a
// tech; at site B another PI and user. Names carry a per-test suffix because
// the scratch database lives as long as the test process.

#include "plc/api/conf_files.hpp"
#include "plc/api/dispatcher.hpp"
#include "plc/api/events.hpp"
#include "plc/api/keys.hpp"
#include "plc/api/leases.hpp"
#include "plc/api/legacy.hpp"
#include "plc/api/mailer.hpp"
#include "plc/api/messages.hpp"
#include "plc/api/nodegroups.hpp"
#include "plc/api/nodes.hpp"
#include "plc/api/organizations.hpp"
#include "plc/api/password.hpp"
#include "plc/api/pcus.hpp"
#include "plc/api/persons.hpp"
#include "plc/api/sites.hpp"
#include "plc/api/slice_tags.hpp"
#include "plc/api/slices.hpp"
#include "plc/api/tags.hpp"
#include "plc/store/persons.hpp"
#include "plc/store/pool.hpp"
#include "scratch_db.hpp"

#include <catch2/catch.hpp>

#include <xmlrpc-c/base.hpp>
#include <xmlrpc-c/xml.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

namespace pl::test {

using xv = xmlrpc_c::value;

inline xv s(const std::string& v) {
  return xmlrpc_c::value_string(v);
}
inline xv i(int v) {
  return xmlrpc_c::value_int(v);
}
inline xv b(bool v) {
  return xmlrpc_c::value_boolean(v);
}
inline xv d(double v) {
  return xmlrpc_c::value_double(v);
}
inline xv arr(std::vector<xv> v) {
  return xmlrpc_c::value_array(v);
}
inline xv obj(std::map<std::string, xv> m) {
  return xmlrpc_c::value_struct(m);
}
inline const xv nil = xmlrpc_c::value_nil();

/// Returns member `key` of struct `v`.
inline xv member(const xv& v, const std::string& key) {
  auto m = xmlrpc_c::value_struct(v).cvalue();
  auto it = m.find(key);
  if (it == m.end())
    FAIL("no member " << key);
  return it->second;
}
inline int int_of(const xv& v) {
  return xmlrpc_c::value_int(v).cvalue();
}
inline std::string str_of(const xv& v) {
  return xmlrpc_c::value_string(v).cvalue();
}
inline std::vector<xv> items(const xv& v) {
  return xmlrpc_c::value_array(v).vectorValueValue();
}
inline std::vector<int> ints(const xv& v) {
  std::vector<int> out;
  for (auto& x : items(v))
    out.push_back(int_of(x));
  return out;
}
inline bool has_key(const xv& v, const std::string& key) {
  return xmlrpc_c::value_struct(v).cvalue().count(key) > 0;
}

struct outcome {
  bool is_fault = false;
  int code = 0;
  std::string text;
  xv value;
};

struct admindb_world {
  pl::manual_clock clock;
  plc::store::connection_pool pool{scratch_conninfo(), 8};
  std::filesystem::path spool = std::filesystem::temp_directory_path() /
                                ("admindb-spool-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  plc::api::spool_mailer mail{
      {"TestLab", "support@testlab.org", "www.testlab.org", 8443, "", "boot@testlab.org"},
      spool,
      clock};
  plc::api::dispatcher api{{&pool, &clock, nullptr, &mail}};
  std::string sfx;
  std::map<std::string, std::string> email;    // actor -> login
  std::map<std::string, int> id;               // actor -> person_id
  std::map<std::string, std::string> password; // actor -> password, if not "pw"
  int site_a = 0, site_b = 0;
  std::string base_a, base_b;

  admindb_world() {
    static std::atomic<int> counter{0};
    sfx = std::to_string(++counter);
    plc::api::add_auth_methods(api);
    plc::api::add_site_methods(api);
    plc::api::add_person_methods(api);
    plc::api::add_organization_methods(api);
    plc::api::add_tag_methods(api);
    plc::api::add_node_methods(api);
    plc::api::add_legacy_methods(api);
    plc::api::add_key_methods(api);
    plc::api::add_pcu_methods(api);
    plc::api::add_conf_file_methods(api);
    plc::api::add_nodegroup_methods(api);
    plc::api::add_slice_methods(api);
    plc::api::add_slice_tag_methods(api);
    plc::api::add_lease_methods(api);
    plc::api::add_event_methods(api);
    add_actor("admin", {10});
    base_a = "sa" + sfx;
    base_b = "sb" + sfx;
    site_a = int_of(ok("admin", "AddSite", {site_fields(base_a)}));
    site_b = int_of(ok("admin", "AddSite", {site_fields(base_b)}));
    add_actor("pi", {20}, base_a);
    add_actor("user", {30}, base_a);
    add_actor("tech", {40}, base_a);
    add_actor("pi_b", {20}, base_b);
    add_actor("user_b", {30}, base_b);
  }

  ~admindb_world() {
    std::error_code ignored;
    std::filesystem::remove_all(spool, ignored);
  }

  /// Returns the mails spooled so far, each as its text.
  std::vector<std::string> mails() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(spool, ec)) {
      if (e.path().filename().string().rfind('.', 0) == 0)
        continue;
      std::ifstream in{e.path()};
      out.emplace_back(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
    return out;
  }

  xv site_fields(const std::string& login_base) {
    return obj({{"name", s("Site " + login_base)},
                {"abbreviated_name", s(login_base)},
                {"login_base", s(login_base)}});
  }

  /// Creates an enabled account (cheap password hash) with roles, at a site.
  int add_actor(const std::string& actor, std::vector<int> roles, const std::string& site = {}) {
    auto conn = pool.acquire();
    std::string login = actor + "." + sfx + "@test.org";
    int pid = plc::store::add_person(
        *conn,
        {login, actor, "Test", plc::api::hash_password("pw", {10, 8, 1}), true, std::move(roles)},
        clock);
    email[actor] = login;
    id[actor] = pid;
    if (!site.empty())
      ok("admin", "AddPersonToSite", {i(pid), s(site)});
    return pid;
  }

  xv auth(const std::string& actor) {
    if (actor == "anonymous")
      return obj({{"AuthMethod", s("anonymous")}});
    return obj({{"AuthMethod", s("password")},
                {"Username", s(email.at(actor))},
                {"AuthString", s(password.count(actor) ? password.at(actor) : "pw")}});
  }

  outcome call(const std::string& actor, const std::string& method, std::vector<xv> args) {
    xmlrpc_c::paramList params;
    if (method.rfind("system.", 0) != 0) // system.* methods take no auth struct
      params.add(auth(actor));
    for (auto& a : args)
      params.add(a);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, params, &xml);
    std::string response = api.handle(xml, "127.0.0.1");
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(response, &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    auto f = out.getFault();
    return {true, static_cast<int>(f.getCode()), f.getDescription(), {}};
  }

  /// Calls and requires success.
  xv ok(const std::string& actor, const std::string& method, std::vector<xv> args) {
    auto r = call(actor, method, std::move(args));
    INFO(actor << " " << method << ": " << r.text);
    REQUIRE_FALSE(r.is_fault);
    return r.value;
  }

  /// Calls and returns the fault code (0 on success).
  int fault(const std::string& actor, const std::string& method, std::vector<xv> args) {
    auto r = call(actor, method, std::move(args));
    return r.is_fault ? r.code : 0;
  }

  /// Returns the ids a Get* call yields under `key`.
  std::vector<int> ids(const std::string& actor, const std::string& method, std::vector<xv> args,
                       const std::string& key) {
    std::vector<int> out;
    for (auto& row : items(ok(actor, method, std::move(args))))
      out.push_back(int_of(member(row, key)));
    return out;
  }
};

} // namespace pl::test
