#pragma once

// The AdminDB test world plus what nodes use: sessions and the boot methods,
// nodes with keys and interfaces, and calls signed the way BootManager and
// NodeManager sign them (hmac over the other arguments).

#include "admindb_world.hpp"
#include "plc/api/boot.hpp"
#include "plc/api/node_auth.hpp"
#include "plc/api/sessions.hpp"

#include <sstream>
#include <string>
#include <vector>

namespace pl::test {

/// Returns the header line `name` of a spooled mail, without its CR ("" if none).
inline std::string mail_header(const std::string& mail, const std::string& name) {
  std::istringstream in{mail};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.rfind(name + ": ", 0) == 0)
      return line;
  }
  return {};
}

struct boot_world : admindb_world {
  explicit boot_world(plc::api::flavour_defaults flavour = {}) {
    plc::api::add_session_methods(api);
    plc::api::add_message_methods(api);
    plc::api::add_boot_methods(api, flavour);
  }

  /// Adds a node at site `login_base` with a static primary interface and,
  /// unless empty, node key `key`. Returns its node_id.
  int add_node(const std::string& login_base, const std::string& hostname, const std::string& key) {
    int node = int_of(ok("admin", "AddNode", {s(login_base), obj({{"hostname", s(hostname)}})}));
    if (!key.empty())
      ok("admin", "UpdateNode", {i(node), obj({{"key", s(key)}})});
    ok("admin", "AddInterface",
       {i(node), obj({{"method", s("static")},
                      {"type", s("ipv4")},
                      {"ip", s("10.0.1.5")},
                      {"mac", s("00:16:3E:AA:BB:CC")},
                      {"gateway", s("10.0.1.1")},
                      {"network", s("10.0.1.0")},
                      {"broadcast", s("10.0.1.255")},
                      {"netmask", s("255.255.255.0")},
                      {"dns1", s("10.0.0.53")}})});
    return node;
  }

  /// Returns the auth struct of a node call signed with `key` over `args`.
  static xv hmac(int node_id, const std::string& key, const std::vector<xv>& args,
                 const std::string& method = "hmac") {
    return obj({{"AuthMethod", s(method)},
                {"node_id", i(node_id)},
                {"value", s(plc::api::hmac_sha1_hex(key, plc::api::hmac_message(args)))}});
  }

  static xv session(const std::string& key) {
    return obj({{"AuthMethod", s("session")}, {"session", s(key)}});
  }

  /// Calls `method` with the given auth struct and arguments.
  outcome call_as(const xv& auth, const std::string& method, const std::vector<xv>& args) {
    xmlrpc_c::paramList params;
    params.add(auth);
    for (const auto& a : args)
      params.add(a);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, params, &xml);
    std::string response = api.handle(xml, "10.0.1.5");
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(response, &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    auto f = out.getFault();
    return {true, static_cast<int>(f.getCode()), f.getDescription(), {}};
  }

  /// Calls as node `node_id`, signing with `key`.
  outcome node_call(int node_id, const std::string& key, const std::string& method,
                    const std::vector<xv>& args) {
    return call_as(hmac(node_id, key, args), method, args);
  }

  /// Calls as a node and requires success.
  xv node_ok(int node_id, const std::string& key, const std::string& method,
             const std::vector<xv>& args) {
    auto r = node_call(node_id, key, method, args);
    INFO("node " << node_id << " " << method << ": " << r.text);
    REQUIRE_FALSE(r.is_fault);
    return r.value;
  }

  /// Returns one column of node `node_id` as text ("" for NULL).
  std::string node_column(int node_id, const std::string& column) {
    auto conn = pool.acquire();
    auto res = conn->exec("SELECT coalesce(" + column + "::text, '') FROM nodes WHERE node_id = $1",
                          {std::to_string(node_id)});
    return std::string{res.text(0, 0)};
  }

  /// Returns the mails spooled so far that contain `needle`.
  std::vector<std::string> mails_with(const std::string& needle) {
    std::vector<std::string> out;
    for (auto& m : mails())
      if (m.find(needle) != std::string::npos)
        out.push_back(m);
    return out;
  }
};

} // namespace pl::test
