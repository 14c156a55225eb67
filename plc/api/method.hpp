#pragma once

#include "plc/api/roles.hpp"

#include <xmlrpc-c/base.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pl {
class clock;
}

namespace pl::plc::store {
class connection_pool;
}

namespace pl::plc::api {

/// XML-RPC types a method declares for its parameters and result.
enum class xml_type { boolean, integer, real, string, structure, array, nil, any };

/// Returns PLCAPI's name of `t` ("int", "string", "struct", ...).
const char* xml_type_name(xml_type t);

/// One declared parameter (after the auth struct).
struct param_spec {
  std::string name;
  xml_type type;
  bool optional = false; ///< Only trailing parameters may be optional.
};

/// What PLC code needs from the process: the database and the time.
struct services {
  store::connection_pool* db = nullptr;
  const pl::clock* clock = nullptr;
};

/// Who made a call, as established by authentication.
struct caller {
  std::string auth_method; ///< "password", "session", "anonymous", ...
  std::optional<int> person_id;
  std::optional<int> node_id;
  role_set roles;

  /// Returns PLCAPI's fault prefix for this caller ("person_id 3"), or empty.
  std::string label() const;
};

/// Everything a handler may use during one call.
struct call_context {
  const services& svc;
  const std::string& peer_address;
  caller who;
};

/// Handles one call; the arguments exclude the auth struct and have been
/// checked against the declared parameters. Throws api::fault for PLCAPI faults.
using handler_fn =
    std::function<xmlrpc_c::value(call_context&, const std::vector<xmlrpc_c::value>&)>;

/// Declares one API method: PLCAPI's name, roles, arguments, result and help.
struct method_spec {
  std::string name;
  role_set roles; ///< Roles allowed to call; every such method takes an auth struct first.
  std::vector<param_spec> params;
  xml_type returns = xml_type::integer;
  std::string help;
  handler_fn handler;
};

} // namespace pl::plc::api
