#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <xmlrpc-c/base.hpp>

#include "actors/records.hpp"
#include "actors/ticket.hpp"

// The node's desired state, whichever way it arrived: a GetSlivers reply
// (pulled), a pushed `sliver_snapshot`, or the record of a redeemed ticket.
// Plain data and pure functions; no actor machinery (only CAF's error values).

namespace pl::node {

/// Describes one configuration file PLC wants installed on the node (a
/// GetSlivers `conf_files` entry, PLCAPI's ConfFile fields).
struct conf_file {
  std::int32_t conf_file_id = 0;
  bool enabled = true;
  /// Path on PLC's boot server, relative to its root (`PlanetLabConf/...`).
  std::string source;
  /// Absolute path on the node.
  std::string dest;
  /// Octal text, as PLCAPI stores it (`"644"`, `"0600"`).
  std::string file_permissions = "644";
  std::string file_owner = "root";
  std::string file_group = "root";
  std::string preinstall_cmd;
  std::string postinstall_cmd;
  std::string error_cmd;
  bool ignore_cmd_errors = false;
  bool always_update = false;

  friend bool operator==(const conf_file&, const conf_file&) = default;
};

/// Describes an enabled InitScript (a GetSlivers `initscripts` entry).
struct initscript {
  std::int32_t initscript_id = 0;
  std::string name;
  std::string script;

  friend bool operator==(const initscript&, const initscript&) = default;
};

/// Describes a site account whose keys PLC installs on the node (HEAD's
/// `accounts`: root and site administrators).
struct account {
  std::string name;
  std::vector<std::string> keys;

  friend bool operator==(const account&, const account&) = default;
};

/// Describes a reservation of the node by a slice (HEAD's `leases`).
struct lease {
  std::int32_t slice_id = 0;
  std::int64_t t_from = 0;
  std::int64_t t_until = 0;

  friend bool operator==(const lease&, const lease&) = default;
};

/// Says where a desired state came from; the reconciler treats them alike
/// except that a ticket instantiates delegated slivers.
enum class origin : std::uint8_t {
  /// A GetSlivers reply (always full).
  get_slivers,
  /// A `sliver_snapshot` pushed by PLC (full or partial).
  push,
  /// The record of a redeemed ticket (partial).
  ticket,
};

/// Returns `get_slivers`, `push` or `ticket`.
std::string to_string(origin x);

/// Holds what PLC (or a ticket) wants on this node.
///
/// `slivers` are sorted by name, one entry per name, each with a complete
/// rspec (every resource of the table, defaults filled in). A sliver whose
/// attributes cannot be used (a resource value that does not parse, an unknown
/// instantiation) is not in `slivers` but in `invalid`, with the reason: the
/// reconciler keeps its local record as it is, neither updated nor dropped.
struct desired_state {
  origin source = origin::get_slivers;
  /// PLC's time when the state was produced (a ticket: when it was issued).
  std::int64_t timestamp = 0;
  std::int32_t node_id = 0;
  std::string hostname;
  /// True when the state lists every sliver the node should hold.
  bool full = true;
  std::vector<sliver_spec> slivers;
  std::vector<admission_refusal> invalid;
  std::vector<conf_file> conf_files;
  std::vector<initscript> initscripts;
  /// Node group names.
  std::vector<std::string> groups;
  std::vector<account> accounts;
  std::vector<lease> leases;
  /// The primary interface's `bwlimit` in kbps (PLC stores bit/s), if set: the
  /// node's outbound cap, as node manager 1.5's `net.py` took it.
  std::optional<std::int64_t> node_bwlimit_kbps;

  /// Returns the sliver named `name`, or `nullptr`.
  const sliver_spec* find(const std::string& name) const;

  friend bool operator==(const desired_state&, const desired_state&) = default;
};

/// Parses a GetSlivers reply (an XML-RPC struct as `xmlrpc_client` returns
/// it) into a full desired state.
///
/// Accepts the 4.0 and 5.x spellings (`networks`/`interfaces`,
/// attribute `name`/`tagname`), `<nil/>` for empty optional fields, and ints
/// as `<int>` or `<i8>`. Per sliver, attributes become: resource tags -> the
/// rspec (table defaults for the rest); `enabled` (an integer, > 0 enabled);
/// `initscript` (the name of an entry of `initscripts`; `initscript_code` is
/// the script itself, 2.0's form; `plc_initscript_id` 1.5's); `delegations`
/// (slice names separated by commas or white space); `vref` (default
/// `default`); every other tag, the initscript tags included, stays in
/// `attributes`. When an attribute appears twice the first wins: PLC lists
/// sliver, then node group, then global tags.
///
/// Errors (`errc::invalid_argument`, the context names the field, e.g.
/// `GetSlivers: slivers[2].expires: expected an integer, got a string`): the
/// reply or an entry is not a struct, a required field (timestamp, node_id,
/// slivers[].name, slice_id, instantiation, expires) is missing or of the
/// wrong type, two slivers share a name. A bad attribute value only moves its
/// sliver to `invalid`.
caf::expected<desired_state> parse_get_slivers(const xmlrpc_c::value& reply);

/// Turns a pushed snapshot into a desired state (rspecs completed with
/// defaults, slivers sorted). Errors: a sliver without a name, two slivers
/// with one name, an rspec outside the resource table (`validate`).
caf::expected<desired_state> from_snapshot(const sliver_snapshot& snapshot);

/// Turns a verified ticket (actors/ticket.hpp: `verify_ticket` said valid)
/// into a partial desired state for `node_id`, dated when the ticket was
/// issued. The sliver takes the ticket's slice name, id, instantiation, keys
/// and tags (read as GetSlivers' attributes; an `initscript` name cannot be
/// resolved without PLC's list, `initscript_code` can) and lives until the
/// ticket expires unless a newer delivery from PLC says otherwise. Errors:
/// the ticket is not for this node (`errc::invalid_ticket`), a tag that
/// cannot be used (`errc::invalid_argument`).
caf::expected<desired_state> from_ticket(const sliver_ticket& ticket, std::int32_t node_id);

/// Returns `x` with every resource of the table present (defaults filled in).
rspec complete_rspec(const rspec& x);

} // namespace pl::node
