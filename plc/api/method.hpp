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

class login_throttle;
class mailer;

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
  /// Failed-login limits for password auth; nullptr means none.
  login_throttle* throttle = nullptr;
  /// Where VerifyPerson, ResetPassword and NotifyPersons send mail; nullptr
  /// means mail is off (logged, not sent), like PLC_MAIL_ENABLED=false.
  mailer* mail = nullptr;
  /// PLC_HRN_ROOT: the SFA authority that starts every hrn tag (hrn.hpp).
  std::string hrn_root = "plc";
};

/// Who made a call, as established by authentication.
struct caller {
  std::string auth_method; ///< "password", "session", "anonymous", ...
  std::optional<int> person_id;
  std::optional<int> node_id;
  role_set roles;
  std::optional<std::string> session; ///< The session key, with session auth.

  /// Returns PLCAPI's fault prefix for this caller ("person_id 3"), or empty.
  std::string label() const;

  /// Tells whether a node made the call (hmac, or a node's session).
  bool is_node() const { return node_id.has_value(); }

  /// Tells whether node `id` made the call.
  bool is_node(int id) const { return node_id && *node_id == id; }
};

/// An object a call changed, as recorded in `event_object`.
struct touched_object {
  std::string type; ///< PLCAPI's class name: "Site", "Person", "Node", ...
  int id;
};

/// Everything a handler may use during one call.
///
/// Handlers of writes report what they changed with touched() (and may set
/// `message`); the dispatcher stores both with the call's event.
struct call_context {
  const services& svc;
  const std::string& peer_address;
  caller who;
  std::vector<touched_object> objects = {};
  /// The event's message on success (PLCAPI's `self.message`), e.g. the mail sent.
  std::string message = {};

  /// Records that this call changed object `type` number `id` (once per pair).
  void touched(std::string type, int id);
};

/// Handles one call; the arguments exclude the auth struct and have been
/// checked against the declared parameters. Throws api::fault for PLCAPI faults.
using handler_fn =
    std::function<xmlrpc_c::value(call_context&, const std::vector<xmlrpc_c::value>&)>;

/// Whether calls of a method are recorded in `events`.
enum class event_mode {
  by_name, ///< Recorded unless the name starts with "Get" or is AuthCheck: writes.
  always,  ///< Recorded (e.g. GetSession, which creates a session).
  never,   ///< Not recorded.
  /// Recorded when the call faults or its handler sets `message` (PLCAPI's
  /// BootUpdateNode: nodes call it at every boot, mostly changing nothing).
  on_change,
};

/// Declares one API method: PLCAPI's name, roles, arguments, result and help.
struct method_spec {
  std::string name;
  role_set roles; ///< Roles allowed to call; every such method takes an auth struct first.
  std::vector<param_spec> params;
  xml_type returns = xml_type::integer;
  std::string help;
  handler_fn handler;
  /// Recorded calls (successes and faults) go to `events` with their
  /// arguments (AuthString, session and password values removed), caller,
  /// fault code, runtime, message and touched objects.
  event_mode events = event_mode::by_name;
};

/// Tells whether calls of `spec` are recorded in `events`.
bool records_events(const method_spec& spec);

} // namespace pl::plc::api
