#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp> // needed by CAF_ERROR_CODE_ENUM

namespace pl {

/// Lists the errors of the shared protocol; they travel as `caf::error` values
/// (category `pl`) and never as exceptions across a mailbox.
///
/// Code 0 is CAF's "no error", so the first value is 1. Append new values at
/// the end: the numbers cross the wire between processes.
enum class errc : std::uint8_t {
  /// A name is not in the resource table.
  unknown_resource = 1,
  /// A resource value is not a decimal integer.
  not_a_number,
  /// A resource value is below zero.
  negative_value,
  /// A resource value lies outside the range the resource table allows.
  out_of_range,
  /// A loan names a resource that cannot be lent.
  not_loanable,
  /// A loan would leave the lender below the resource's loan minimum.
  insufficient_allocation,
  /// No sliver of that name exists on the node.
  unknown_sliver,
  /// No slice of that name or id exists.
  unknown_slice,
  /// No node of that id is known or connected.
  unknown_node,
  /// The caller may not act on the target.
  permission_denied,
  /// The slice, sliver or ticket has expired.
  expired,
  /// The ticket was revoked.
  revoked,
  /// The ticket is malformed, unsigned, or signed by an unknown key.
  invalid_ticket,
  /// The node refused to admit a sliver (see `node_status::refusals`).
  admission_refused,
  /// A record or argument failed validation.
  invalid_argument,
  /// A driver could not apply a setting to its mechanism.
  mechanism_failure,
  /// The operation is not supported by this implementation or backend.
  unsupported,
  /// The peer (node manager, PLC) is not connected.
  not_connected,
};

/// Returns the enumerator's name, e.g. `"unknown_resource"`.
std::string to_string(errc x);

/// Creates an error of category `pl` with a human-readable context string.
caf::error make_error(errc code, std::string context);

} // namespace pl

CAF_ERROR_CODE_ENUM(pl::errc, "pl")
