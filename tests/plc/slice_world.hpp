#pragma once

// The AdminDB world plus what slice tests need: both sites may create slices
// (max_slices 10), the resource tag types are seeded, and helpers for nodes,
// slices and node-authenticated calls.

#include "admindb_world.hpp"

#include "plc/api/leases.hpp"
#include "plc/api/sessions.hpp"
#include "plc/api/slice_tags.hpp"
#include "plc/api/slices.hpp"

#include <set>

namespace pl::test {

/// Returns `base` with `extra` set (xmlrpc_c values cannot be reassigned).
inline std::map<std::string, xv> with(std::map<std::string, xv> base,
                                      const std::map<std::string, xv>& extra) {
  for (auto& [k, v] : extra) {
    base.erase(k);
    base.emplace(k, v);
  }
  return base;
}

inline std::set<std::string> keys_of(const xv& v) {
  std::set<std::string> out;
  for (auto& [k, _] : xmlrpc_c::value_struct(v).cvalue())
    out.insert(k);
  return out;
}

struct slice_world : admindb_world {
  static constexpr std::int64_t t0 = 1'000'000'000; // manual_clock's start
  static constexpr std::int64_t day = 24 * 3600;
  static constexpr std::int64_t week = 7 * day;

  slice_world() {
    {
      auto conn = pool.acquire();
      plc::api::seed_slice_tag_types(*conn);
    }
    for (int site : {site_a, site_b})
      ok("admin", "UpdateSite", {i(site), obj({{"max_slices", i(10)}})});
  }

  std::int64_t now() const { return clock.now_epoch(); }

  int id_of(const std::string& actor) const { return id.at(actor); }

  std::string host(const std::string& name) { return name + "-" + sfx + ".example.org"; }

  int add_node(int site, const std::string& name, const std::string& type = "regular") {
    return int_of(ok("admin", "AddNode",
                     {i(site), obj({{"hostname", s(host(name))}, {"node_type", s(type)}})}));
  }

  /// Returns the slice name `<login_base>_<suffix>`.
  std::string sname(const std::string& base, const std::string& suffix) {
    return base + "_" + suffix;
  }

  /// Adds slice `<base_a>_<suffix>` as `actor` with url and description set.
  int add_slice(const std::string& actor, const std::string& suffix,
                std::map<std::string, xv> extra = {}) {
    return int_of(ok(actor, "AddSlice",
                     {obj(with({{"name", s(sname(base_a, suffix))},
                                {"url", s("http://example.org/" + suffix)},
                                {"description", s("slice " + suffix)}},
                               extra))}));
  }

  xv slice(const std::string& actor, int slice_id) {
    auto rows = items(ok(actor, "GetSlices", {arr({i(slice_id)})}));
    REQUIRE(rows.size() == 1);
    return rows[0];
  }

  /// Returns a node session key: calls with it are node-authenticated.
  std::string node_key(int node_id) {
    auto conn = pool.acquire();
    return plc::api::add_node_session(*conn, node_id, clock);
  }

  outcome call_as_node(const std::string& key, const std::string& method, std::vector<xv> args) {
    xmlrpc_c::paramList params;
    params.add(obj({{"AuthMethod", s("session")}, {"session", s(key)}}));
    for (auto& a : args)
      params.add(a);
    std::string xml;
    xmlrpc_c::xml::generateCall(method, params, &xml);
    xmlrpc_c::rpcOutcome out;
    xmlrpc_c::xml::parseResponse(api.handle(xml, "127.0.0.1"), &out);
    if (out.succeeded())
      return {false, 0, {}, out.getResult()};
    return {true, static_cast<int>(out.getFault().getCode()), out.getFault().getDescription(), {}};
  }
};

} // namespace pl::test
