#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "actors/resources.hpp"
#include "actors/rspec.hpp"

// The records of the shared protocol. Each is plain data (no pointers, no
// handles, no behaviour) with an `inspect` overload, so the same value crosses
// a process boundary unchanged, and a defaulted `operator==`. Times are whole
// seconds since the Unix epoch; ids are PLCAPI's 32-bit integers.

namespace pl {

/// Describes a slice as PLC holds it (the node-independent part).
struct slice_spec {
  std::int32_t slice_id = 0;
  /// The slice name, `<site login_base>_<name>`.
  std::string name;
  /// `plc-instantiated`, `delegated`, `nm-controller` or `not-instantiated`.
  std::string instantiation;
  std::int64_t expires = 0;
  std::vector<std::int32_t> node_ids;
  /// Public keys of the enabled slice members, one authorized_keys line each.
  std::vector<std::string> keys;
  /// Global (not node-scoped) slice tags, name -> value.
  std::map<std::string, std::string> attributes;

  friend bool operator==(const slice_spec&, const slice_spec&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_spec& x) {
  return f(caf::meta::type_name("slice_spec"), x.slice_id, x.name, x.instantiation, x.expires,
           x.node_ids, x.keys, x.attributes);
}

/// Describes the desired state of one sliver on one node (one entry of
/// GetSlivers' `slivers`).
struct sliver_spec {
  /// The slice name, which is also the sliver's name on the node.
  std::string name;
  std::int32_t slice_id = 0;
  std::int32_t node_id = 0;
  std::string instantiation;
  std::int64_t expires = 0;
  /// False suspends the sliver (slice tag `enabled` = 0).
  bool enabled = true;
  std::vector<std::string> keys;
  /// Resource values: table defaults overridden by the resource tags.
  rspec resources;
  /// Every other tag, name -> value (e.g. `proper_op`, `vsys`, `system`).
  std::map<std::string, std::string> attributes;
  /// The text of the initscript to run at sliver start, empty for none.
  std::string initscript;
  /// Slices allowed to act on this sliver through the local API.
  std::vector<std::string> delegations;
  /// The reference image of the sliver's root file system.
  std::string vref = "default";

  friend bool operator==(const sliver_spec&, const sliver_spec&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sliver_spec& x) {
  return f(caf::meta::type_name("sliver_spec"), x.name, x.slice_id, x.node_id, x.instantiation,
           x.expires, x.enabled, x.keys, x.resources, x.attributes, x.initscript, x.delegations,
           x.vref);
}

/// Carries a node's desired slivers, pushed by PLC or pulled by GetSlivers.
///
/// A full snapshot replaces the node's record set: slivers absent from it are
/// removed (NM's `set_min_timestamp`). A partial one (a push for one slice, a
/// redeemed ticket) only adds or updates.
struct sliver_snapshot {
  std::int32_t node_id = 0;
  /// PLC's time when the snapshot was taken; older snapshots never win.
  std::int64_t timestamp = 0;
  bool full = false;
  std::vector<sliver_spec> slivers;

  friend bool operator==(const sliver_snapshot&, const sliver_snapshot&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sliver_snapshot& x) {
  return f(caf::meta::type_name("sliver_snapshot"), x.node_id, x.timestamp, x.full, x.slivers);
}

/// Holds a signed grant of a sliver, as issued by PLC's GetSliceTicket.
///
/// `blob` is authoritative: it is the signed canonical encoding exactly as
/// issued; the other fields are decoded from it. Encoding, signing and
/// verifying live in the ticket-format code, not here.
struct ticket {
  std::vector<std::uint8_t> blob;
  std::string slice_name;
  /// Nodes where the ticket may be redeemed; empty means any node.
  std::vector<std::int32_t> node_ids;
  sliver_spec sliver;
  std::int64_t issued = 0;
  std::int64_t expires = 0;
  /// A unique value per ticket, so a node can refuse replays.
  std::string nonce;
  /// Names the PLC key that made `signature`.
  std::string key_id;
  std::vector<std::uint8_t> signature;

  friend bool operator==(const ticket&, const ticket&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ticket& x) {
  return f(caf::meta::type_name("ticket"), x.blob, x.slice_name, x.node_ids, x.sliver, x.issued,
           x.expires, x.nonce, x.key_id, x.signature);
}

/// Moves `amount` of a loanable resource from one sliver to another on the
/// same node (NM's `[target, resource, amount]`, plus the lender).
struct loan {
  std::string from;
  std::string to;
  std::string resource;
  std::int64_t amount = 0;

  friend bool operator==(const loan&, const loan&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, loan& x) {
  return f(caf::meta::type_name("loan"), x.from, x.to, x.resource, x.amount);
}

/// Names a sliver's lifecycle state.
enum class sliver_phase : std::uint8_t {
  /// Known to the node manager, container not created yet.
  pending,
  created,
  running,
  stopped,
  destroyed,
  /// Creation or start failed; see the node's refusals and logs.
  failed,
};

/// Returns the name of a phase, e.g. `running`.
std::string to_string(sliver_phase x);

/// Reports one sliver's state in a `node_status`.
struct sliver_status {
  std::string name;
  sliver_phase phase = sliver_phase::pending;

  friend bool operator==(const sliver_status&, const sliver_status&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sliver_status& x) {
  return f(caf::meta::type_name("sliver_status"), x.name, x.phase);
}

/// Records why a node refused to admit a slice's sliver.
struct admission_refusal {
  std::string slice;
  std::string reason;

  friend bool operator==(const admission_refusal&, const admission_refusal&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, admission_refusal& x) {
  return f(caf::meta::type_name("admission_refusal"), x.slice, x.reason);
}

/// Reports a node's state to PLC and to operators.
struct node_status {
  std::int32_t node_id = 0;
  std::string hostname;
  /// The boot manager's state, e.g. `boot`, `dbg`, `rins`.
  std::string boot_state;
  /// When the node last applied a snapshot from PLC.
  std::int64_t last_sync = 0;
  std::vector<sliver_status> slivers;
  std::vector<admission_refusal> refusals;
  /// Named event counters (snapshots applied, pushes received, loans, ...).
  std::map<std::string, std::int64_t> counters;

  friend bool operator==(const node_status&, const node_status&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("node_status"), x.node_id, x.hostname, x.boot_state, x.last_sync,
           x.slivers, x.refusals, x.counters);
}

/// Introduces a node manager to PLC's node registry over the push link.
///
/// `proof` authenticates the node: a MAC with the node key (or a signature
/// with a PLC-issued certificate) over node id, hostname, timestamp and nonce;
/// its exact algorithm belongs to the node authentication code.
struct node_hello {
  std::int32_t node_id = 0;
  std::string hostname;
  std::int64_t timestamp = 0;
  std::string nonce;
  std::vector<std::uint8_t> proof;

  friend bool operator==(const node_hello&, const node_hello&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("node_hello"), x.node_id, x.hostname, x.timestamp, x.nonce,
           x.proof);
}

/// Describes a node as PLC's node registry sees it.
struct node_contact {
  std::int32_t node_id = 0;
  std::string hostname;
  std::int64_t last_contact = 0;
  /// True while a node manager is connected on the push link.
  bool connected = false;

  friend bool operator==(const node_contact&, const node_contact&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_contact& x) {
  return f(caf::meta::type_name("node_contact"), x.node_id, x.hostname, x.last_contact,
           x.connected);
}

/// Carries what a resource controller decided for one sliver on one
/// mechanism, for the driver to enforce.
///
/// Keys are resource-table names enforced by `enforced_by`; values are in the
/// table's units after policy (loans, fairness, node capacity).
struct allocation {
  std::string sliver;
  mechanism enforced_by = mechanism::cpu;
  std::map<std::string, std::int64_t> values;

  friend bool operator==(const allocation&, const allocation&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, allocation& x) {
  return f(caf::meta::type_name("allocation"), x.sliver, x.enforced_by, x.values);
}

/// Names a Proper operation (privileged operations granted per slice).
enum class proper_op : std::uint8_t {
  version,
  open_file,
  set_file_flags,
  get_file_flags,
  mount_dir,
  unmount,
  exec,
  wait,
  create_socket,
  bind_socket,
};

/// Returns the op's name as written in Proper's ACL, e.g. `mount_dir`.
std::string to_string(proper_op x);

/// Parses an op name as written in Proper's ACL; empty for an unknown name.
std::optional<proper_op> parse_proper_op(std::string_view name);

/// Asks the node to perform one privileged operation for a sliver.
struct proper_request {
  /// Chosen by the caller; echoed in the reply.
  std::uint64_t id = 0;
  /// The calling sliver, as identified by the socket's peer credentials.
  std::string caller;
  proper_op op = proper_op::version;
  /// The op's arguments in ACL order (paths, flags, argv, socket addresses).
  std::vector<std::string> args;

  friend bool operator==(const proper_request&, const proper_request&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proper_request& x) {
  return f(caf::meta::type_name("proper_request"), x.id, x.caller, x.op, x.args);
}

/// Answers a `proper_request`. File descriptors do not travel here: they go
/// over the Proper socket with SCM_RIGHTS.
struct proper_reply {
  std::uint64_t id = 0;
  /// 0 on success, otherwise an errno value (EACCES when the ACL refuses).
  std::int32_t code = 0;
  std::string message;
  /// Op-specific results, e.g. `pid` for exec, `status` for wait, `flags`.
  std::map<std::string, std::string> result;

  /// Returns whether the operation succeeded.
  bool ok() const { return code == 0; }

  friend bool operator==(const proper_reply&, const proper_reply&) = default;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proper_reply& x) {
  return f(caf::meta::type_name("proper_reply"), x.id, x.code, x.message, x.result);
}

} // namespace pl
