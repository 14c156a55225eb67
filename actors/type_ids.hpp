#pragma once

// The project's one CAF type-ID block, `caf::id_block::planetlab`: every record
// and atom that crosses a mailbox. `pl::configure_runtime` registers it with
// `add_message_types<caf::id_block::planetlab>()`, so an actor system set up
// through it knows every type by name (CAF 0.17's wire format uses the names).
//
// Adding a type: declare the record (plain data, `inspect`, `operator==`) in a
// header under actors/, include it here, and append one CAF_ADD_TYPE_ID line at
// the end of its section. IDs are positional, so keep the block free of other
// uses of __COUNTER__. Atoms take no ID in CAF 0.17 (CAF 0.18 gives them one);
// their text is at most 10 characters.
//
// Messages never carry actor handles: CAF's wire protocol has no per-peer
// authorisation, so a handle in a message could hand one node's actors to
// another node. A receiver that must answer later keeps the sender it saw.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/type_id.hpp>

#include "actors/records.hpp"
#include "actors/rspec.hpp"
#include "actors/vnet_records.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(planetlab, caf::first_custom_type_id)

// -- records (actors/rspec.hpp, actors/records.hpp) ------------------------

CAF_ADD_TYPE_ID(planetlab, (pl::rspec))
CAF_ADD_TYPE_ID(planetlab, (pl::slice_spec))
CAF_ADD_TYPE_ID(planetlab, (pl::sliver_spec))
CAF_ADD_TYPE_ID(planetlab, (pl::sliver_snapshot))
CAF_ADD_TYPE_ID(planetlab, (pl::ticket))
CAF_ADD_TYPE_ID(planetlab, (pl::loan))
CAF_ADD_TYPE_ID(planetlab, (std::vector<pl::loan>))
CAF_ADD_TYPE_ID(planetlab, (pl::sliver_status))
CAF_ADD_TYPE_ID(planetlab, (pl::admission_refusal))
CAF_ADD_TYPE_ID(planetlab, (pl::node_status))
CAF_ADD_TYPE_ID(planetlab, (pl::node_hello))
CAF_ADD_TYPE_ID(planetlab, (pl::node_contact))
CAF_ADD_TYPE_ID(planetlab, (std::vector<pl::node_contact>))
CAF_ADD_TYPE_ID(planetlab, (pl::allocation))
CAF_ADD_TYPE_ID(planetlab, (pl::proper_request))
CAF_ADD_TYPE_ID(planetlab, (pl::proper_reply))

// -- atoms (namespace pl; CAF's own get/put/delete/ok/update atoms are reused) -

CAF_ADD_ATOM(planetlab, pl, hello_atom, "hello")
CAF_ADD_ATOM(planetlab, pl, snapshot_atom, "snapshot")
CAF_ADD_ATOM(planetlab, pl, push_atom, "push")
CAF_ADD_ATOM(planetlab, pl, revoke_atom, "revoke")
CAF_ADD_ATOM(planetlab, pl, expire_atom, "expire")
CAF_ADD_ATOM(planetlab, pl, valid_atom, "valid")
CAF_ADD_ATOM(planetlab, pl, redeem_atom, "redeem")
CAF_ADD_ATOM(planetlab, pl, create_atom, "create")
CAF_ADD_ATOM(planetlab, pl, start_atom, "start")
CAF_ADD_ATOM(planetlab, pl, stop_atom, "stop")
CAF_ADD_ATOM(planetlab, pl, destroy_atom, "destroy")
CAF_ADD_ATOM(planetlab, pl, status_atom, "status")
CAF_ADD_ATOM(planetlab, pl, rspec_atom, "rspec")
CAF_ADD_ATOM(planetlab, pl, effective_atom, "effective")
CAF_ADD_ATOM(planetlab, pl, loans_atom, "loans")
CAF_ADD_ATOM(planetlab, pl, apply_atom, "apply")

// -- vnet (reserved for the vnet engine) -----------------------------------
//
// The vnet engine's records (packet batches, bind-table and policy updates)
// and atoms go here: declare them in actors/vnet_records.hpp, include that
// header above, and add their CAF_ADD_TYPE_ID / CAF_ADD_ATOM lines in this
// section. The interface `pl::vnet_actor` belongs in actors/vnet_actor.hpp.

CAF_ADD_TYPE_ID(planetlab, (pl::vnet_packet))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_batch))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_verdict))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_verdicts))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_bind))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_transfer))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_blacklist))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_packet_bind))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_peer_query))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_slice_counters))
CAF_ADD_TYPE_ID(planetlab, (pl::vnet_counters))

CAF_ADD_ATOM(planetlab, pl, bind_atom, "bind")
CAF_ADD_ATOM(planetlab, pl, unbind_atom, "unbind")
CAF_ADD_ATOM(planetlab, pl, transfer_atom, "transfer")
CAF_ADD_ATOM(planetlab, pl, blacklist_atom, "blacklist")
CAF_ADD_ATOM(planetlab, pl, pkt_bind_atom, "pktbind")
CAF_ADD_ATOM(planetlab, pl, pkt_free_atom, "pktfree")
CAF_ADD_ATOM(planetlab, pl, peer_atom, "peer")

// -- new sections go below this line ---------------------------------------

// -- push link (PLC's node registry and slice actors) ------------------------

CAF_ADD_TYPE_ID(planetlab, (std::vector<pl::sliver_spec>))

CAF_ADD_ATOM(planetlab, pl, challenge_atom, "challenge")

CAF_END_TYPE_ID_BLOCK(planetlab)
