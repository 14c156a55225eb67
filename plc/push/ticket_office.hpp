#pragma once

// PLC's outstanding tickets: one ticket actor per ticket GetSliceTicket
// issued (actors/ticket_actor.hpp), expiring by its own timer, and the office
// that keeps them by slice and revokes a slice's tickets once the slice is
// gone (deleted, expired and reaped, or no longer instantiated). A revoked
// ticket's slice is revoked on the nodes through the node registry: every
// node of its node set, or every connected node for an any-node ticket.

#include <cstdint>
#include <functional>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/node_registry_actor.hpp"
#include "actors/ticket_actor.hpp"

namespace pl {
class clock;
}

namespace pl::plc::push {

struct ticket_actor_config {
  node_registry_actor registry;
  /// PLC's clock: validity and the expiry timer. Must outlive the actor.
  const pl::clock* clock = nullptr;
};

/// Spawns the actor of one issued ticket (`record.sliver.slice_id` names its
/// slice). It answers `valid` with false once revoked or expired, and
/// terminates at `record.expires`. `revoke` tells the nodes (see above) and
/// replies once the registry has been asked; a second revoke does nothing.
ticket_actor spawn_ticket_actor(caf::actor_system& sys, ticket_actor_config config, ticket record);

/// - `put, ticket`: a ticket was issued; spawn its actor. When its slice is
///   already gone, the ticket is revoked at once.
/// - `update, slice_id`: the slice changed (or may have): when it is no
///   longer live, revoke its tickets. Asks the database only for slices that
///   have outstanding tickets.
/// - `reset`: notifications may have been lost; check every such slice.
/// - `delete, slice_id`: revoke the slice's tickets now (the slice is known
///   to be gone); replies once every ticket actor has acknowledged.
/// - `get, slice_id`: the actors of the slice's outstanding tickets (not
///   revoked, not expired), as `caf::actor` (cast them to `ticket_actor`).
using ticket_office_actor =
    caf::typed_actor<caf::reacts_to<caf::put_atom, ticket>,
                     caf::reacts_to<caf::update_atom, std::int32_t>,
                     caf::reacts_to<caf::reset_atom>,
                     caf::replies_to<caf::delete_atom, std::int32_t>::with<caf::ok_atom>,
                     caf::replies_to<caf::get_atom, std::int32_t>::with<std::vector<caf::actor>>>;

struct ticket_office_config {
  node_registry_actor registry;
  const pl::clock* clock = nullptr;
  /// Tells whether a slice is live: not deleted, not expired, instantiated.
  /// May block (a database query).
  std::function<bool(std::int32_t slice_id)> slice_live;
};

/// Spawns the office; `detached` gives it its own thread, since `slice_live`
/// blocks (tests on the test coordinator pass false).
ticket_office_actor spawn_ticket_office(caf::actor_system& sys, ticket_office_config config,
                                        bool detached = true);

} // namespace pl::plc::push
