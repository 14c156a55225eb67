#pragma once

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/type_ids.hpp"

namespace pl {

/// Owns one node's VNET packet policy tables (vnet/vnet_actor.hpp).
///
/// - `vnet_batch` -> `vnet_verdicts`: decides on each packet, in order, at the
///   actor clock's time.
/// - `bind` / `unbind, vnet_bind` -> `ok`: a socket bound or released a port.
/// - `transfer, vnet_transfer` -> `ok`: SO_SETXID, root only.
/// - `blacklist, vnet_blacklist` -> `ok`: replaces PLC's blacklist.
/// - `pktbind, vnet_packet_bind` -> device number; `pktfree, slice, device` -> `ok`.
/// - `peer, vnet_peer_query` -> slice id of a loopback peer (0xFFFFFFFF if unknown).
/// - `get` -> `vnet_counters`.
///
/// Refusals are `caf::error`s of category `vnet` whose code is a
/// `pl::vnet::error` (port_in_use, not_permitted, device_busy, ...).
using vnet_actor = caf::typed_actor<
    caf::replies_to<vnet_batch>::with<vnet_verdicts>,
    caf::replies_to<bind_atom, vnet_bind>::with<caf::ok_atom>,
    caf::replies_to<unbind_atom, vnet_bind>::with<caf::ok_atom>,
    caf::replies_to<transfer_atom, vnet_transfer>::with<caf::ok_atom>,
    caf::replies_to<blacklist_atom, vnet_blacklist>::with<caf::ok_atom>,
    caf::replies_to<pkt_bind_atom, vnet_packet_bind>::with<std::uint16_t>,
    caf::replies_to<pkt_free_atom, std::uint32_t, std::uint16_t>::with<caf::ok_atom>,
    caf::replies_to<peer_atom, vnet_peer_query>::with<std::uint32_t>,
    caf::replies_to<caf::get_atom>::with<vnet_counters>>;

} // namespace pl
