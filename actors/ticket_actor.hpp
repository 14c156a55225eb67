#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Holds one outstanding signed grant at PLC (plc/slices).
///
/// - `get` returns the ticket as issued.
/// - `valid` answers whether it is still valid: false once revoked or expired.
/// - `revoke` withdraws it; the nodes that redeemed it are told through the
///   node registry.
/// - `expire` is the actor's own timer at `ticket::expires`; the actor
///   terminates after it.
using ticket_actor =
    caf::typed_actor<caf::replies_to<caf::get_atom>::with<ticket>,
                     caf::replies_to<valid_atom>::with<bool>,
                     caf::replies_to<revoke_atom>::with<caf::ok_atom>, caf::reacts_to<expire_atom>>;

} // namespace pl
