#pragma once

#include "plc/api/method.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace xmlrpc_c {
class registry;
}

namespace pl::plc::api {

/// Receives one observation per executed method call (also within multicall).
using call_observer =
    std::function<void(const std::string& method, int fault_code, double seconds)>;

/// Serves PLCAPI methods through an xmlrpc-c registry.
///
/// Every registered method goes through one edge that checks the argument
/// count (fault 101), authenticates the auth struct and checks roles (103),
/// type-checks arguments (102), and turns store errors into 106 and anything
/// unexpected into 111, prefixing fault strings with the caller as PLCAPI
/// does. Unknown methods are fault 100 everywhere, also inside
/// system.multicall. The system.* introspection methods are xmlrpc-c's.
class dispatcher {
public:
  dispatcher(services svc, call_observer observer = {});
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;
  ~dispatcher();

  /// Registers `spec`; a name registered twice is a programming error (throws).
  void add(method_spec spec);

  /// Returns the declaration registered under `name`, or nullptr; e.g. to
  /// register it again under a legacy name (legacy.hpp).
  const method_spec* find(const std::string& name) const;

  /// Calls method `name` from inside another call, as PLCAPI methods call
  /// each other (UpdatePerson's `roles` through AddRoleToPerson, ...): as
  /// the same caller, whose roles must meet the method's (fault 103), with
  /// the argument count (101) and types (102) checked as at the edge; fault
  /// 100 for an unknown name. The outer call's event lists what it touched.
  xmlrpc_c::value invoke(const std::string& name, call_context& ctx,
                         const std::vector<xmlrpc_c::value>& args) const;

  /// Processes one XML-RPC request body and returns the response body.
  std::string handle(std::string_view request_xml, const std::string& peer_address) const;

  /// Exposes the registry, e.g. to serve the same methods through another server.
  const xmlrpc_c::registry& registry() const;

  /// Raises xmlrpc-c's process-wide XML size limit (default 512 KiB) to `bytes`.
  static void set_xml_size_limit(std::size_t bytes);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Returns how many calls of recorded (writing) methods this process has
/// finished, faults included; each is counted after its transaction ended.
/// Caches of what the database says (GetSlivers') are stale once it moves.
std::uint64_t writes_finished();

/// Registers the methods of this wave: AuthCheck.
void add_auth_methods(dispatcher& d);

} // namespace pl::plc::api
