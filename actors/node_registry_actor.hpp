#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Tracks the node managers connected to PLC over the push link (plc).
///
/// - `hello` comes from a node manager (through `remote_actor`): when the
///   proof checks out, the *sender* becomes that node's push target, monitored
///   until it goes down. Fails with `errc::permission_denied` otherwise, and
///   nothing is sent to an unauthenticated peer.
/// - `push` delivers a snapshot (usually partial: one slice's sliver) to the
///   node it names. Fails with `errc::not_connected` when that node is not
///   connected; the node then catches up with its next GetSlivers.
/// - `revoke` tells node `node_id` to remove the sliver `name`.
/// - `status` is a connected node's report; it also refreshes last contact.
/// - `get` lists every node the registry has seen.
using node_registry_actor =
    caf::typed_actor<caf::replies_to<hello_atom, node_hello>::with<caf::ok_atom>,
                     caf::replies_to<push_atom, sliver_snapshot>::with<caf::ok_atom>,
                     caf::replies_to<revoke_atom, std::int32_t, std::string>::with<caf::ok_atom>,
                     caf::replies_to<status_atom, node_status>::with<caf::ok_atom>,
                     caf::replies_to<caf::get_atom>::with<std::vector<node_contact>>>;

} // namespace pl
