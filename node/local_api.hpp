#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actors/node_manager_actor.hpp"
#include "actors/records.hpp"
#include "node/ticket_desk.hpp"

// The node manager's local API (issue #6 point 5): the original node
// manager's XML-RPC methods on an xmlrpc-c registry, answered by asking the
// `node_manager` actor. Transport-free: node/api_server carries requests to
// `local_api::handle` and says who is calling.

namespace pl::node {

/// Says who is calling the local API.
struct api_caller {
  /// The calling sliver, named by the socket the request came in on; empty
  /// for the root context.
  std::string sliver;
  /// True for the root context (the loopback TCP port).
  bool root = false;

  static api_caller root_context() { return {{}, true}; }
  static api_caller of_sliver(std::string name) { return {std::move(name), false}; }

  /// Returns the name the node manager is told: the sliver's, or `root`.
  std::string name() const { return root ? "root" : sliver; }
};

/// Lists the original node manager's fault codes.
enum class api_fault : int {
  /// The method does not exist (the text lists the ones that do).
  invalid_method = 100,
  /// The method takes another number of arguments.
  invalid_argument_count = 101,
  /// An argument is wrong: not a sliver, a malformed loan list, a refused ticket.
  invalid_argument = 102,
  /// The call failed (Create of a sliver that is not delegated, the node
  /// manager could not do it, did not answer).
  call_error = 104,
  /// The caller may not act on that sliver.
  permission_denied = 108,
};

/// Says whether a caller may act on a sliver.
enum class access_verdict {
  allowed,
  /// The target is not a sliver of this node (fault 102).
  not_a_sliver,
  /// The caller is neither the target, nor listed in its delegations, nor
  /// root (fault 108).
  denied,
};

/// Decides whether `caller` may act on `target` (null: no such sliver): root
/// and the slices in `admin_slices` may act on every sliver (NM 2.0's
/// `<prefix>_sfacm`), a sliver on itself and on every sliver that lists it
/// in its `delegations`.
access_verdict check_access(const api_caller& caller, const sliver_spec* target,
                            const std::vector<std::string>& admin_slices);

/// Holds a fault's code and text.
struct api_fault_text {
  int code = static_cast<int>(api_fault::call_error);
  std::string text;
};

/// Turns an error from the node manager into the fault the original gave:
/// `unknown_sliver` 102, `permission_denied` 108, an invalid argument or loan
/// (`invalid_argument`, `not_loanable`, `insufficient_allocation`, resource
/// value errors) 102, everything else (admission, drivers, timeouts, a node
/// manager that is gone) 104. `what` names the call, e.g. `Start(pl_x)`.
api_fault_text fault_from(const caf::error& err, std::string_view what);

/// Configures the methods.
struct local_api_options {
  /// This node's id (tickets name the nodes they are good for).
  std::int32_t node_id = 0;
  /// Slices that may call every method on every sliver, as root may (NM 2.0
  /// gave this to `<prefix>_sfacm`); empty by default.
  std::vector<std::string> admin_slices;
  /// Bounds each request to the node manager actor; a call that takes longer
  /// fails with fault 104.
  std::chrono::milliseconds call_timeout{std::chrono::seconds(30)};
  /// Returns the uid of a sliver's account for GetXIDs, or nothing when the
  /// account does not exist; unset reads the passwd database (getpwnam_r).
  std::function<std::optional<std::int64_t>(const std::string&)> account_uid;
};

/// Serves the local API's methods; thread-safe (one registry, many callers).
///
/// | method | args | who | answer |
/// |---|---|---|---|
/// | Help | - | anyone | text describing each method |
/// | Ticket | ticket | anyone | 1; the verified ticket goes to the node manager (`redeem`) |
/// | GetXIDs | - | anyone | {sliver: uid of its account} |
/// | GetSSHKeys | - | anyone | {sliver: authorized_keys text} |
/// | Create, Destroy | name | target, its delegations, root | 1; only delegated slivers, else 104 |
/// | Start, Stop, ReCreate | name | same | 1 |
/// | GetRSpec, GetEffectiveRSpec | name | same | {resource: value} |
/// | GetLoans | name | same | [[to, resource, amount], ...] |
/// | SetLoans | name, loans | same | 1 |
/// | GetRecord | - | a sliver | the caller's own record |
///
/// A sliver argument is a name, or a record struct with a `name` member (what
/// GetRecord returns).
class local_api {
public:
  /// Serves `nm` through `tickets`; `sys` and `tickets` must outlive this.
  local_api(caf::actor_system& sys, node_manager_actor nm, ticket_desk& tickets,
            local_api_options opts);
  ~local_api();
  local_api(const local_api&) = delete;
  local_api& operator=(const local_api&) = delete;

  /// Answers one XML-RPC call (the request body) from `caller` with the XML
  /// of its response; blocks while the node manager works on it.
  std::string handle(std::string_view request_xml, const api_caller& caller) const;

  /// Returns the method names, sorted.
  static std::vector<std::string> method_names();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace pl::node
