#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// What PLC publishes on its push endpoint: everything a node manager can
/// reach there (plc/push). A node connects with `remote_actor`, then:
/// - `challenge` with its node id returns a fresh nonce, good for one `hello`
///   within a short lifetime.
/// - `hello` carries that nonce and `push_proof` over it with the node key
///   (actors/push_proof.hpp): when it checks out, the *sender* becomes that
///   node's push target, monitored until it goes down. Fails with
///   `errc::permission_denied` otherwise, and nothing is sent to a peer that
///   has not proved its key.
/// - `status` is a connected node's report, accepted only from the handle
///   registered for that node; it also refreshes last contact.
using push_gateway_actor =
    caf::typed_actor<caf::replies_to<challenge_atom, std::int32_t>::with<std::string>,
                     caf::replies_to<hello_atom, node_hello>::with<caf::ok_atom>,
                     caf::replies_to<status_atom, node_status>::with<caf::ok_atom>>;

/// Tracks the node managers connected to PLC over the push link (plc). Only
/// the gateway's three messages are ever published; the rest stays inside PLC.
///
/// - `push` delivers a snapshot (usually partial: one slice's sliver) to the
///   node it names. Fails with `errc::not_connected` when that node is not
///   connected; the node then catches up with its next GetSlivers.
/// - `revoke` tells node `node_id` to remove the sliver `name`.
/// - `get` lists every node the registry has seen.
using node_registry_actor = push_gateway_actor::extend<
    caf::replies_to<push_atom, sliver_snapshot>::with<caf::ok_atom>,
    caf::replies_to<revoke_atom, std::int32_t, std::string>::with<caf::ok_atom>,
    caf::replies_to<caf::get_atom>::with<std::vector<node_contact>>>;

} // namespace pl
